"""The «Синхронизация чатов» page: per chat state and counts, failures with reasons, the pause, «Синхронизировать
сейчас», a dry-run preview of the next pass, and the history of passes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo

from hookspecs.types import HttpRequest, HttpResponse, Page
from sferum_plugin import MODULE_NAME
from sferum_plugin.i18n import N_, gettext
from sferum_plugin.numbers import parse_int
from sferum_plugin.permissions import CHATS_MANAGE
from sferum_plugin.rendering import render
from sferum_plugin.services.chats import ChatRefused, ChatUnavailable
from sferum_plugin.services.connection import SferumAccess
from sferum_plugin.services.explain import reason_text
from sferum_plugin.services.max_invites import NOT_INVITABLE
from sferum_plugin.services.platforms import platform_for
from sferum_plugin.services.sync.overview import sync_overview
from sferum_plugin.services.sync.preview import preview_next_pass
from sferum_plugin.services.sync.triggers import request_sync
from sferum_plugin.views._common import locale_of, message_page, module_settings_of
from sferum_plugin.views._routing import ModuleRoute

__all__ = ["KIND_LABELS", "PASS_KIND_LABELS", "ROUTES", "STATE_LABELS"]

KIND_LABELS = {"group": N_("учебная группа"), "unit": N_("подразделение"), "custom": N_("выбранные пользователи")}
STATE_LABELS = {
    "creating": N_("создаётся"),
    "awaiting": N_("ждёт нажатия кнопки в MAX"),  # MAX: the chat button was sent to the person who asked
    "unknown": N_("создаётся, ждёт подтверждения Сферума"),  # sent or about to be; the outcome not recorded yet
    "active": N_("работает"),
    "vanished": N_("удалён в Сферуме"),
    "failed": N_("не создан"),
    "bot_removed": N_("бот MAX удалён из чата или не администратор"),
}
PASS_KIND_LABELS = {"queue": N_("по уведомлениям"), "full": N_("полная сверка")}
PAUSED = N_("Синхронизация приостановлена до %(until)s.")
INVITE_SENT = N_("Бот отправил человеку ссылку на чат в MAX.")


def _pause_text(until: datetime | None, reason: str | None, locale: str, timezone: tzinfo) -> str | None:
    """The banner of a quota pause in force: its reason names the time; an older reason without it gets it added."""
    if until is None:
        return None
    if reason and "%(until)s" in reason:
        return reason_text(reason, locale, until=until, timezone=timezone)
    paused = reason_text(PAUSED, locale, until=until, timezone=timezone)
    return f"{paused} {gettext(locale, reason)}" if reason else paused


def sync_page(request: HttpRequest) -> Page:
    """The page; ``?preview=1`` adds what the next pass would add and remove (a dry run: no Sferum request)."""
    host, locale = request.host, locale_of(request)
    settings = module_settings_of(request)
    if settings is None:
        return message_page(request, "Синхронизация чатов", "Модуль ещё не настроен: обратитесь к администратору.",
                            status=409, back_url=host.urls.host_page("modules"))  # fmt: skip
    overview = sync_overview(host, account=settings.account)
    preview = None
    if request.args.get("preview"):
        titles = {chat.pk: chat.title for chat in overview.chats}
        preview = preview_next_pass(host, account=settings.account, strict=settings.sync_strict, titles=titles)
    timezone = host.clock.timezone

    def reason(text: str) -> str:
        """A stored reason in the page's language; a quota pause's ``%(until)s`` is the service's pause end."""
        return reason_text(text, locale, until=overview.pause_end, timezone=timezone)

    body = render(
        "sync_admin.html", locale, chats=overview.chats, passes=overview.passes, reason=reason,
        pause=_pause_text(overview.paused_until, overview.pause_reason, locale, timezone),
        unreachable_at=overview.unreachable_at, preview=preview, kinds=KIND_LABELS, states=STATE_LABELS,
        pass_kinds=PASS_KIND_LABELS, csrf_field=request.csrf_field, csrf_token=request.csrf_token,
        sync_url=host.urls.for_route(MODULE_NAME, "sync_now"),
        preview_url=host.urls.for_route(MODULE_NAME, "sync_admin") + "?preview=1",
        bulk_url=host.urls.for_route(MODULE_NAME, "chats_bulk"),
        chat_url=lambda pk: host.urls.for_route(MODULE_NAME, "chat_view", chat_pk=pk), timezone=host.clock.timezone,
        invite_url=_invite_url(request),
    )  # fmt: skip
    return Page(title=gettext(locale, "Синхронизация чатов"), body_html=body, menu_key="sferum.sync")


def _invite_url(request: HttpRequest) -> Callable[[int], str] | None:
    """The address of «Отправить ссылку на чат» for a failed add, where the platform's bot can send links."""
    if not platform_for(request.host.settings.get(MODULE_NAME)).invites_refused_people:
        return None
    return lambda op_id: request.host.urls.for_route(MODULE_NAME, "sync_invite", op_id=op_id)


def invite(request: HttpRequest, sferum: SferumAccess) -> Page:
    """«Отправить ссылку на чат» (MAX): the bot sends a person MAX refused to add the chat's link."""
    host = request.host
    back = host.urls.for_route(MODULE_NAME, "sync_admin")
    op_id = parse_int(request.path_params.get("op_id", ""))
    if op_id is None:
        return message_page(request, "Синхронизация чатов", NOT_INVITABLE, status=404, back_url=back)
    try:
        platform_for(host.settings.get(MODULE_NAME)).invite_refused(host, sferum, op_id)
    except (ChatRefused, ChatUnavailable) as refused:
        return message_page(request, "Синхронизация чатов", refused.reason, status=409, back_url=back)
    return message_page(request, "Синхронизация чатов", INVITE_SENT, status=200, back_url=back)


def sync_now(request: HttpRequest) -> HttpResponse:
    """«Синхронизировать сейчас»: queue a full re-derivation; the queue job serves it within seconds."""
    request_sync(request.host, ["all"])
    return HttpResponse.redirect(request.host.urls.for_route(MODULE_NAME, "sync_admin"))


ROUTES: tuple[ModuleRoute, ...] = (
    ModuleRoute("sync", "sync_admin", sync_page, permission=CHATS_MANAGE),
    ModuleRoute("sync/now", "sync_now", sync_now, methods=("POST",), permission=CHATS_MANAGE),
    ModuleRoute(
        "sync/invite/<op_id>", "sync_invite", invite, methods=("POST",), permission=CHATS_MANAGE, reaches_sferum=True
    ),
)
