"""The hook specifications of the LMS host contract.

Hooks are called with keyword arguments only.  A module's hooks other than the lifecycle ones are called by the
host only while that module is installed, so an implementation never has to check that itself.  Hooks that take a
``module`` argument are addressed to one module; implementations return ``None`` for other modules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from hookspecs._markers import hookspec

if TYPE_CHECKING:
    from hookspecs.services import Host
    from hookspecs.types import (
        Action,
        BackgroundJob,
        ChatBackendInfo,
        ChatSummary,
        DirectoryFilter,
        FieldError,
        LessonCard,
        LessonRef,
        MembershipChange,
        MenuItem,
        ModuleInfo,
        Permission,
        Person,
        PersonStatusChange,
        Route,
        SettingsField,
        Viewer,
    )


# --------------------------------------------------------------------------------------------------------------
# Module lifecycle
# --------------------------------------------------------------------------------------------------------------


@hookspec
def lms_module_info() -> ModuleInfo:  # type: ignore[empty-body]
    """Describe the module this plugin provides, for Администрирование → Модули.

    Called for every registered plugin, installed or not.

    :returns: the module's name, title and version.
    """


@hookspec
def lms_module_install(module: str, host: Host) -> None:
    """Install ``module``: create its tables (run its migrations) and its initial data.

    The host calls it once, when the administrator presses «Установка»; the host records the module as installed
    only if no implementation raises.  Implementations ignore calls for other modules.

    :param module: the name of the module being installed.
    :param host: the host services.
    """


@hookspec
def lms_module_uninstall(module: str, host: Host, keep_data: bool) -> None:
    """Uninstall ``module``.

    :param module: the name of the module being uninstalled.
    :param host: the host services.
    :param keep_data: ``True`` to keep the module's tables and rows for a later reinstall, ``False`` to drop them.
    """


@hookspec
def lms_module_upgrade(module: str, host: Host, from_version: str) -> None:
    """Bring an installed ``module`` from ``from_version`` to the version the plugin now has (migrate).

    The host calls it when the version recorded at install time differs from :func:`lms_module_info`'s.

    :param module: the name of the module.
    :param host: the host services.
    :param from_version: the version recorded when the module was installed or last upgraded.
    """


# --------------------------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------------------------


@hookspec
def lms_settings_fields(module: str) -> Sequence[SettingsField] | None:
    """Contribute fields to the settings form of ``module``.

    A plugin answers with its own module's form, and may also add fields to another module's form (the Sferum
    module adds «Подсказка для онлайн-занятий «Сферум»» to the Schedule module, ``module="schedule"``).
    The host concatenates the answers of installed modules; the values of contributed fields are stored under
    ``module``.

    :param module: the module whose settings form is being built (``"main"`` and ``"schedule"`` are the host's).
    :returns: fields in display order, or ``None``.
    """


@hookspec
def lms_settings_validate(module: str, values: Mapping[str, str], host: Host) -> Sequence[FieldError] | None:
    """Validate a submitted settings form of ``module`` before the host stores it.

    ``values`` holds every field of the form, trimmed; a secret field submitted blank already carries the stored
    value.  If any implementation reports an error the host stores nothing and shows the form again with each
    error next to its field and the submitted (non-secret) values kept.

    :param module: the module whose settings are being saved.
    :param values: the submitted values by field name.
    :param host: the host services.
    :returns: the errors found, or ``None``/an empty sequence when the values are acceptable.
    """


# --------------------------------------------------------------------------------------------------------------
# Permissions
# --------------------------------------------------------------------------------------------------------------


@hookspec
def lms_permissions() -> Sequence[Permission]:  # type: ignore[empty-body]
    """Declare the permissions of the module, which Права доступа → Роли lists by section.

    :returns: the module's permissions.
    """


# --------------------------------------------------------------------------------------------------------------
# User interface
# --------------------------------------------------------------------------------------------------------------


@hookspec
def lms_menu_items(viewer: Viewer, host: Host) -> Sequence[MenuItem] | None:
    """Add items to the main menu of ``viewer``.

    Return only the items ``viewer`` may open: the menu is a convenience, each route still checks on the server.

    :param viewer: the signed-in user.
    :param host: the host services.
    :returns: menu items, or ``None``.
    """


@hookspec
def lms_schedule_cards(viewer: Viewer, lessons: Sequence[LessonRef], host: Host) -> Mapping[int, LessonCard] | None:
    """Contribute to the schedule's lesson cards, for every lesson on the page in one call.

    The hook is batched: implementations must answer for all ``lessons`` with a fixed number of queries, never one
    query per lesson.

    :param viewer: the signed-in user looking at the schedule.
    :param lessons: every lesson on the page.
    :param host: the host services.
    :returns: a card contribution by lesson id (lessons without one are absent), or ``None``.
    """


@hookspec
def lms_section_actions(section: str, viewer: Viewer, host: Host) -> Sequence[Action] | None:
    """Add actions to a host page: the «Действия» component of a list, or the buttons under a form.

    :param section: ``"students"`` or ``"employees"`` (the lists' «Действия»), ``"chats"`` (the Чаты page), or
        ``"settings:<module>"`` (under that module's settings form).
    :param viewer: the signed-in user.
    :param host: the host services.
    :returns: actions (usually with ``takes_selection=True``), or ``None``.
    """


@hookspec
def lms_directory_filters(section: str, viewer: Viewer, host: Host) -> Sequence[DirectoryFilter] | None:
    """Add filters to the Обучающиеся or Сотрудники list, shown after the host's own filters.

    The host renders each as a select (with an empty "not filtered" choice of its own), keeps the chosen value in
    the query string and in the pager's links, posts it as ``filter.<name>`` with selection actions, and applies it
    through :func:`lms_filter_people` before pagination (the page and the «Найдено» count agree with the filter).

    :param section: ``"students"`` or ``"employees"``.
    :param viewer: the signed-in user.
    :param host: the host services.
    :returns: filters in display order, or ``None``.
    """


@hookspec(firstresult=True)
def lms_filter_people(
    section: str, name: str, value: str, people: Sequence[Person], host: Host
) -> Sequence[int] | None:
    """Apply the plugin filter ``name`` with the chosen ``value`` to ``people`` (the host's own filters applied).

    The host calls it once per active plugin filter, before pagination, with every person the host's filters
    kept.  Implementations answer in bulk, with a fixed number of queries whatever the number of people.

    Stops at first non-None result.

    :param section: ``"students"`` or ``"employees"``.
    :param name: the filter's ``DirectoryFilter.name``.
    :param value: the chosen value (never empty: the host does not call for an unset filter).
    :param people: the candidates.
    :param host: the host services.
    :returns: the ids of the people who pass, or ``None`` when ``name`` is not this plugin's filter.
    """


@hookspec
def lms_routes() -> Sequence[Route]:  # type: ignore[empty-body]
    """Declare the HTTP routes the module serves, mounted by the host under ``/m/<module>/``.

    :returns: the routes.
    """


# --------------------------------------------------------------------------------------------------------------
# Chats
# --------------------------------------------------------------------------------------------------------------


@hookspec
def lms_chat_backends() -> Sequence[ChatBackendInfo]:  # type: ignore[empty-body]
    """Offer chat types for Главный модуль → Настройка → Общие → Настройки чатов.

    :returns: the chat types this module provides.
    """


@hookspec(firstresult=True)
def lms_chat_list(backend: str, viewer: Viewer, host: Host) -> Sequence[ChatSummary] | None:
    """List the chats of ``viewer`` in chat backend ``backend`` for the Чаты section.

    Stops at first non-None result.

    :param backend: the chat type selected in the main module's settings.
    :param viewer: the signed-in user.
    :param host: the host services.
    :returns: the viewer's chats, or ``None`` when ``backend`` is not this plugin's.
    """


# --------------------------------------------------------------------------------------------------------------
# Background jobs
# --------------------------------------------------------------------------------------------------------------


@hookspec
def lms_background_jobs() -> Sequence[BackgroundJob]:  # type: ignore[empty-body]
    """Declare background jobs for the host's scheduler or task queue.

    :returns: the jobs, each with its interval.
    """


# --------------------------------------------------------------------------------------------------------------
# Directory notifications
# --------------------------------------------------------------------------------------------------------------


@hookspec
def lms_people_status_changed(changes: Sequence[PersonStatusChange], host: Host) -> None:
    """React to people enrolled, expelled, hired or dismissed.

    Called after the host has committed the change.  Implementations must be quick (queue work, do not call remote
    services inline) and must not raise for a change they do not care about.

    :param changes: the changes committed together.
    :param host: the host services.
    """


@hookspec
def lms_memberships_changed(changes: Sequence[MembershipChange], host: Host) -> None:
    """React to students moved between study groups and employees moved between structural units.

    Called after the host has committed the change; the same rules as :func:`lms_people_status_changed` apply.

    :param changes: the changes committed together.
    :param host: the host services.
    """
