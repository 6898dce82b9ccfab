"""The hook implementations of the Sferum module: each a few lines that call the module's services.

The host loads this module through the ``lms`` entry point group (``sferum = "sferum_plugin.plugin"``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hookspecs import hookimpl
from hookspecs.services import Host
from hookspecs.types import FieldError, MenuItem, ModuleInfo, Permission, Route, SettingsField, Viewer
from sferum_plugin import MODULE_NAME, __version__, settings
from sferum_plugin.i18n import gettext
from sferum_plugin.permissions import ONLINE_LESSONS_VIEW, PERMISSIONS
from sferum_plugin.services import install
from sferum_plugin.views.online_lessons import online_lessons_page

SCHEDULE_MODULE = "schedule"
"""The host's Schedule module, whose settings form receives the online-lesson hint."""


@hookimpl
def lms_module_info() -> ModuleInfo:
    return ModuleInfo(
        name=MODULE_NAME,
        title="Модуль интеграции Сферум-Тандем",
        version=__version__,
        description="Онлайн-занятия и чаты в ИКОП «Сферум» для обучающихся и сотрудников.",
    )


@hookimpl
def lms_module_install(module: str, host: Host) -> None:
    if module == MODULE_NAME:
        install.install(host.db.engine)


@hookimpl
def lms_module_uninstall(module: str, host: Host, keep_data: bool) -> None:
    if module == MODULE_NAME:
        install.uninstall(host.db.engine, keep_data=keep_data)


@hookimpl
def lms_module_upgrade(module: str, host: Host, from_version: str) -> None:
    if module == MODULE_NAME:
        install.upgrade(host.db.engine)


@hookimpl
def lms_settings_fields(module: str) -> Sequence[SettingsField] | None:
    if module == MODULE_NAME:
        return settings.MODULE_FIELDS
    if module == SCHEDULE_MODULE:
        return settings.SCHEDULE_FIELDS
    return None


@hookimpl
def lms_settings_validate(module: str, values: Mapping[str, str], host: Host) -> Sequence[FieldError] | None:
    if module == MODULE_NAME:
        return settings.validate(values)
    if module == SCHEDULE_MODULE:
        return settings.validate_schedule(values)
    return None


@hookimpl
def lms_permissions() -> Sequence[Permission]:
    return PERMISSIONS


@hookimpl
def lms_menu_items(viewer: Viewer, host: Host) -> Sequence[MenuItem] | None:
    if not viewer.can(ONLINE_LESSONS_VIEW):
        return None
    url = host.urls.for_route(MODULE_NAME, "online_lessons")
    return [MenuItem(key="sferum.online_lessons", title=gettext(viewer.locale, "Онлайн-занятия"), url=url, order=40)]


@hookimpl
def lms_routes() -> Sequence[Route]:
    return [
        Route(
            rule="online-lessons",
            endpoint="online_lessons",
            handler=online_lessons_page,
            permission=ONLINE_LESSONS_VIEW,
        ),
    ]
