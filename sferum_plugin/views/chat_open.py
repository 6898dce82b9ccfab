"""«Открыть в Сферум»: the module's own address for a chat, which checks the viewer and redirects to the chat's
invite link (VK Messenger, see :mod:`sferum_plugin.services.chat_links`) or its MAX link (see
:mod:`sferum_plugin.services.max_chats`); the platform's adapter gives the address."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from hookspecs.types import HttpRequest, HttpResponse, Page
from sferum_plugin import MODULE_NAME
from sferum_plugin.gateway.errors import SferumError
from sferum_plugin.i18n import N_, gettext
from sferum_plugin.numbers import parse_int
from sferum_plugin.services import chat_links
from sferum_plugin.services.chats import ChatUnavailable
from sferum_plugin.services.explain import Retry, explain
from sferum_plugin.services.platforms import platform_for
from sferum_plugin.views._common import locale_of, message_page, module_settings_of, viewer_of
from sferum_plugin.views._routing import ModuleRoute

if TYPE_CHECKING:
    from sferum_plugin.services.connection import SferumAccess

__all__ = ["ROUTES", "open_chat"]

logger = logging.getLogger(__name__)


def open_chat(request: HttpRequest, sferum: SferumAccess) -> Page | HttpResponse:
    """Redirect a member of the chat to the chat in Sferum."""
    host, viewer = request.host, viewer_of(request)
    settings = module_settings_of(request)
    back = host.urls.host_page("chats")
    chat_pk = parse_int(request.path_params.get("chat_pk"))
    # One answer for "no such chat" and "not yours": the page must not tell which chats exist.
    if (
        settings is None
        or chat_pk is None
        or not chat_links.may_open(host.db, chat_pk, viewer, account=settings.account)
    ):
        return message_page(request, "Чаты Сферум", "Чат не найден.", status=404, back_url=back)
    try:
        link = platform_for(host.settings.get(MODULE_NAME)).chat_link(host, sferum, chat_pk)
    except ChatUnavailable as gone:
        return message_page(request, "Чаты Сферум", gone.reason, status=410, back_url=back)
    except SferumError as error:
        logger.warning("invite link of chat row %s: %s", chat_pk, error)
        locale = locale_of(request)
        # A click: nothing repeats it, so the reason says what the person can do (never «будет повторена»).
        reason = explain(error, retry=Retry.BY_PERSON).text(locale, host.clock.timezone)
        message = gettext(locale, N_("Не удалось получить ссылку на чат от Сферума: %(reason)s")) % {"reason": reason}
        return message_page(request, "Чаты Сферум", message, status=502, back_url=back)
    # The link is a capability: not to be cached, nor passed on as a referrer.
    return HttpResponse(
        status=302, headers={"Location": link, "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    )


ROUTES: tuple[ModuleRoute, ...] = (ModuleRoute("chats/<chat_pk>/open", "chat_open", open_chat, reaches_sferum=True),)
