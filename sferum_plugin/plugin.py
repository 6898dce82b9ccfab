"""The hook implementations of the Sferum module: each a few lines that call the module's services.

The host loads this module through the ``lms`` entry point group (``sferum = "sferum_plugin.plugin"``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

from hookspecs import hookimpl
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
from sferum_plugin import MODULE_NAME, __version__, settings
from sferum_plugin.i18n import gettext
from sferum_plugin.permissions import CHATS_MANAGE, MAILING_SEND, ONLINE_LESSONS_VIEW, PERMISSIONS
from sferum_plugin.services import install, mailing
from sferum_plugin.services import jobs as lessons_job
from sferum_plugin.services.sync import jobs as sync_jobs
from sferum_plugin.services.sync import triggers
from sferum_plugin.views import chat_open, connection_check, lesson_actions, profile_link, sync_admin
from sferum_plugin.views import chats as chat_views
from sferum_plugin.views import mailing as mailing_views
from sferum_plugin.views.cards import schedule_cards
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
    items = []
    if viewer.can(ONLINE_LESSONS_VIEW):
        url = host.urls.for_route(MODULE_NAME, "online_lessons")
        title = gettext(viewer.locale, "Онлайн-занятия")
        items.append(MenuItem(key="sferum.online_lessons", title=title, url=url, order=40))
    if viewer.can(CHATS_MANAGE):
        url = host.urls.for_route(MODULE_NAME, "sync_admin")
        title = gettext(viewer.locale, "Синхронизация чатов")
        items.append(MenuItem(key="sferum.sync", title=title, url=url, order=90))
    if viewer.can(MAILING_SEND):
        url = host.urls.for_route(MODULE_NAME, "mailings")
        title = gettext(viewer.locale, "E-mail рассылки")
        items.append(MenuItem(key=mailing_views.MENU_KEY, title=title, url=url, order=92))
    return items or None


@hookimpl
def lms_section_actions(section: str, viewer: Viewer, host: Host) -> Sequence[Action] | None:
    if section == "chats":
        return chat_views.section_actions(viewer, host)
    if section in mailing.SECTIONS:
        return mailing_views.section_actions(section, viewer, host)
    if section != f"settings:{MODULE_NAME}" or not viewer.is_admin:
        return None
    locale = viewer.locale
    return [
        Action(
            label=gettext(locale, "Проверить подключение"),
            url=host.urls.for_route(MODULE_NAME, "check_connection"),
            method="POST",
            style="primary",
        ),
        Action(label=gettext(locale, "Учебные профили Сферум"), url=host.urls.for_route(MODULE_NAME, "profiles")),
    ]


@hookimpl
def lms_schedule_cards(viewer: Viewer, lessons: Sequence[LessonRef], host: Host) -> Mapping[int, LessonCard]:
    return schedule_cards(viewer, lessons, host)


@hookimpl
def lms_routes() -> Sequence[Route]:
    view = ONLINE_LESSONS_VIEW
    return [
        Route(rule="online-lessons", endpoint="online_lessons", handler=online_lessons_page, permission=view),
        Route(rule="profile/link", endpoint="profile_link", handler=profile_link.start_link, methods=("POST",)),
        Route(rule="profile/callback", endpoint="profile_callback", handler=profile_link.link_callback),
        Route(rule="profiles", endpoint="profiles", handler=profile_link.linked_profiles_page),
        Route(
            rule="settings/check",
            endpoint="check_connection",
            handler=connection_check.check_connection,
            methods=("POST",),
        ),
        Route(
            rule="profiles/<user_id>/unlink",
            endpoint="profile_unlink",
            handler=profile_link.unlink_profile,
            methods=("POST",),
        ),
        Route(
            rule="lessons/<lesson_id>/start",
            endpoint="lesson_start",
            handler=lesson_actions.start_lesson,
            methods=("POST",),
            permission=view,
        ),
        Route(
            rule="lessons/<lesson_id>/join",
            endpoint="lesson_join",
            handler=lesson_actions.join_lesson,
            methods=("POST",),
            permission=view,
        ),
        Route(
            rule="lessons/<lesson_id>/end",
            endpoint="lesson_end",
            handler=lesson_actions.end_lesson,
            methods=("POST",),
            permission=view,
        ),
        *chat_views.ROUTES,
        *chat_open.ROUTES,
        *sync_admin.ROUTES,
        *mailing_views.ROUTES,
    ]


@hookimpl
def lms_background_jobs() -> Sequence[BackgroundJob]:
    return [
        BackgroundJob(
            name="sferum.end_overdue_lessons",
            interval=timedelta(minutes=5),
            run=lessons_job.end_overdue_lessons,
            description="Завершает онлайн-занятия, оставшиеся активными после окончания занятия.",
        ),
        BackgroundJob(
            name="sferum.sync_queue",
            interval=sync_jobs.QUEUE_INTERVAL,
            run=sync_jobs.sync_queue,
            description="Применяет изменения составов чатов Сферума по уведомлениям ЛК и создаёт заказанные чаты.",
        ),
        BackgroundJob(
            name="sferum.sync_full",
            interval=timedelta(minutes=5),
            run=sync_jobs.sync_full,
            description="Полная сверка составов чатов со Сферумом (с интервалом из настроек модуля).",
        ),
        BackgroundJob(
            name="sferum.mailing",
            interval=timedelta(seconds=5),
            run=mailing.run_mailings,
            description="Отправляет e-mail рассылки: одно SMTP-соединение, повторы при временных ошибках.",
        ),
    ]


@hookimpl
def lms_chat_backends() -> Sequence[ChatBackendInfo]:
    return [ChatBackendInfo(code=MODULE_NAME, title="Внешняя система «Сферум»")]


@hookimpl
def lms_chat_list(backend: str, viewer: Viewer, host: Host) -> Sequence[ChatSummary] | None:
    if backend != MODULE_NAME:
        return None
    return chat_views.chat_list(viewer, host)


@hookimpl
def lms_people_status_changed(changes: Sequence[PersonStatusChange], host: Host) -> None:
    triggers.on_people_status_changed(host, changes)


@hookimpl
def lms_memberships_changed(changes: Sequence[MembershipChange], host: Host) -> None:
    triggers.on_memberships_changed(host, changes)


@hookimpl
def lms_directory_filters(section: str, viewer: Viewer, host: Host) -> Sequence[DirectoryFilter] | None:
    if section not in mailing.SECTIONS:
        return None
    return [mailing.profile_filter(viewer.locale)]


@hookimpl
def lms_filter_people(
    section: str, name: str, value: str, people: Sequence[Person], host: Host
) -> Sequence[int] | None:
    if name != mailing.PROFILE_FILTER or section not in mailing.SECTIONS:
        return None
    return mailing.filter_by_profile(host, value, people)
