"""«Проверить подключение»: ask the chosen platform whether each stored credential is accepted."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hookspecs.types import HttpRequest, Page
from sferum_plugin import MODULE_NAME
from sferum_plugin.i18n import N_, gettext
from sferum_plugin.rendering import render
from sferum_plugin.services.platforms import platform_for
from sferum_plugin.views._common import locale_of, message_page, viewer_of
from sferum_plugin.views._routing import ModuleRoute

if TYPE_CHECKING:
    from sferum_plugin.services.connection import SferumAccess

__all__ = ["ROUTES", "check_connection"]


def check_connection(request: HttpRequest, sferum: SferumAccess) -> Page:
    """POST, administrators: one verdict per credential of the chosen platform, in words."""
    viewer, locale = viewer_of(request), locale_of(request)
    back = request.host.urls.host_page("module_settings", module=MODULE_NAME)
    if not viewer.is_admin:
        return message_page(request, N_("Проверить подключение"), N_("Недостаточно прав."), status=403, back_url="/")
    stored = request.host.settings.get(MODULE_NAME)
    report = platform_for(stored).check_connection(stored, sferum, locale=locale, timezone=request.host.clock.timezone)
    if report.missing is not None:
        return message_page(request, N_("Проверить подключение"), report.missing, status=409, back_url=back)
    body = render("connection_check.html", locale, lines=report.lines, api_base_url=report.address, back_url=back)
    return Page(title=gettext(locale, "Проверить подключение"), body_html=body, status=200)


ROUTES: tuple[ModuleRoute, ...] = (
    ModuleRoute("settings/check", "check_connection", check_connection, methods=("POST",), reaches_sferum=True),
)
