"""The hook implementations of the Sferum module: each a few lines that call the module's services.

The host loads :data:`plugin`, an instance of :class:`SferumModule`, through the ``lms`` entry point group
(``sferum = "sferum_plugin.plugin:plugin"``).  The instance holds the module's one :class:`SferumAccess` — the HTTP
transport, the retry policy and the process's rate limiters — and hands it to the pages and jobs that reach Sferum;
tests register their own ``SferumModule(SferumAccess(SferumConnector(transport=..., retry=...)))`` instead.
"""

from __future__ import annotations

import functools
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
from sferum_plugin.services import inbox, install, lesson_jobs, mailing, max_updates
from sferum_plugin.services.connection import SferumAccess
from sferum_plugin.services.sync import jobs as sync_jobs
from sferum_plugin.services.sync import triggers
from sferum_plugin.views import chats as chat_views
from sferum_plugin.views import mailing as mailing_views
from sferum_plugin.views import routes
from sferum_plugin.views.cards import schedule_cards

SCHEDULE_MODULE = "schedule"
"""The host's Schedule module, whose settings form receives the online-lesson hint."""


class SferumModule:
    """The Sferum module as a pluggy plugin.

    :param sferum: how the module reaches Sferum (default: over the network, with the default retry policy).
    """

    def __init__(self, sferum: SferumAccess | None = None) -> None:
        self.sferum = sferum or SferumAccess()

    def __repr__(self) -> str:
        return f"SferumModule({self.sferum!r})"

    @hookimpl
    def lms_module_info(self) -> ModuleInfo:
        return ModuleInfo(
            name=MODULE_NAME,
            title="Модуль интеграции Сферум-Тандем",
            version=__version__,
            description="Онлайн-занятия и чаты в ИКОП «Сферум» для обучающихся и сотрудников.",
        )

    @hookimpl
    def lms_module_install(self, module: str, host: Host) -> None:
        if module == MODULE_NAME:
            install.install(host.db.engine)

    @hookimpl
    def lms_module_uninstall(self, module: str, host: Host, keep_data: bool) -> None:
        if module == MODULE_NAME:
            install.uninstall(host.db.engine, keep_data=keep_data)

    @hookimpl
    def lms_module_upgrade(self, module: str, host: Host, from_version: str) -> None:
        if module == MODULE_NAME:
            install.upgrade(host.db.engine)

    @hookimpl
    def lms_settings_fields(self, module: str) -> Sequence[SettingsField] | None:
        if module == MODULE_NAME:
            return settings.MODULE_FIELDS
        if module == SCHEDULE_MODULE:
            return settings.SCHEDULE_FIELDS
        return None

    @hookimpl
    def lms_settings_validate(self, module: str, values: Mapping[str, str], host: Host) -> Sequence[FieldError] | None:
        if module == MODULE_NAME:
            return settings.validate(values)
        if module == SCHEDULE_MODULE:
            return settings.validate_schedule(values)
        return None

    @hookimpl
    def lms_permissions(self) -> Sequence[Permission]:
        return PERMISSIONS

    @hookimpl
    def lms_menu_items(self, viewer: Viewer, host: Host) -> Sequence[MenuItem] | None:
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
    def lms_section_actions(self, section: str, viewer: Viewer, host: Host) -> Sequence[Action] | None:
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
    def lms_schedule_cards(self, viewer: Viewer, lessons: Sequence[LessonRef], host: Host) -> Mapping[int, LessonCard]:
        return schedule_cards(viewer, lessons, host)

    @hookimpl
    def lms_routes(self) -> Sequence[Route]:
        return routes(self.sferum)

    @hookimpl
    def lms_background_jobs(self) -> Sequence[BackgroundJob]:
        return [
            BackgroundJob(
                name="sferum.end_overdue_lessons",
                interval=timedelta(minutes=5),
                run=functools.partial(lesson_jobs.end_overdue_lessons, sferum=self.sferum),
                description="Завершает онлайн-занятия, оставшиеся активными после окончания занятия.",
            ),
            BackgroundJob(
                name="sferum.sync_queue",
                interval=sync_jobs.QUEUE_INTERVAL,
                run=functools.partial(sync_jobs.sync_queue, sferum=self.sferum),
                description="Применяет изменения составов чатов Сферума по уведомлениям ЛК и создаёт заказанные чаты.",
            ),
            BackgroundJob(
                name="sferum.sync_full",
                interval=timedelta(minutes=5),
                run=functools.partial(sync_jobs.sync_full, sferum=self.sferum),
                description="Полная сверка составов чатов со Сферумом (с интервалом из настроек модуля).",
            ),
            BackgroundJob(
                name="sferum.max_poll",
                interval=timedelta(seconds=5),
                run=functools.partial(max_updates.poll_updates, sferum=self.sferum),
                description="MAX, long polling: забирает события бота (GET /updates) во входящие модуля.",
            ),
            BackgroundJob(
                name="sferum.max_inbox",
                interval=timedelta(seconds=5),
                run=inbox.handle_inbox,
                description="MAX: обрабатывает полученные события бота (участники чатов, привязка профилей, чаты).",
            ),
            BackgroundJob(
                name="sferum.max_subscription",
                interval=timedelta(minutes=5),
                run=functools.partial(max_updates.keep_subscription, sferum=self.sferum),
                description="MAX, webhook: проверяет подписку бота на события и подписывается заново, если её нет.",
            ),
            BackgroundJob(
                name="sferum.mailing",
                interval=timedelta(seconds=5),
                run=mailing.run_mailings,
                description="Отправляет e-mail рассылки: одно SMTP-соединение, повторы при временных ошибках.",
            ),
        ]

    @hookimpl
    def lms_chat_backends(self) -> Sequence[ChatBackendInfo]:
        return [ChatBackendInfo(code=MODULE_NAME, title="Внешняя система «Сферум»")]

    @hookimpl
    def lms_chat_list(self, backend: str, viewer: Viewer, host: Host) -> Sequence[ChatSummary] | None:
        if backend != MODULE_NAME:
            return None
        return chat_views.chat_list(viewer, host)

    @hookimpl
    def lms_people_status_changed(self, changes: Sequence[PersonStatusChange], host: Host) -> None:
        triggers.on_people_status_changed(host, changes)

    @hookimpl
    def lms_memberships_changed(self, changes: Sequence[MembershipChange], host: Host) -> None:
        triggers.on_memberships_changed(host, changes)

    @hookimpl
    def lms_directory_filters(self, section: str, viewer: Viewer, host: Host) -> Sequence[DirectoryFilter] | None:
        if section not in mailing.SECTIONS:
            return None
        return [mailing.profile_filter(viewer.locale)]

    @hookimpl
    def lms_filter_people(
        self, section: str, name: str, value: str, people: Sequence[Person], host: Host
    ) -> Sequence[int] | None:
        if name != mailing.PROFILE_FILTER or section not in mailing.SECTIONS:
            return None
        return mailing.filter_by_profile(host, value, people)


plugin = SferumModule()
"""The module the ``lms`` entry point names; its :class:`SferumAccess` is the process's one way in to Sferum."""
