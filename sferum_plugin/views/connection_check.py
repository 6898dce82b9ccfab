"""«Проверить подключение»: ask Sferum whether each stored credential is accepted."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hookspecs.types import HttpRequest, Page
from sferum_plugin import MODULE_NAME
from sferum_plugin.i18n import N_, gettext
from sferum_plugin.rendering import render
from sferum_plugin.services.explain import check_text
from sferum_plugin.views._common import locale_of, message_page, settings_of, viewer_of
from sferum_plugin.views._routing import ModuleRoute

if TYPE_CHECKING:
    from sferum_plugin.services.connection import SferumAccess

__all__ = ["ROUTES", "check_connection"]

LABELS = {"app_id": "APP ID", "service_token": N_("Сервисный токен"), "app_token": N_("Токен приложения")}


def check_connection(request: HttpRequest, sferum: SferumAccess) -> Page:
    """POST, administrators: one verdict per credential, in words."""
    viewer, settings, locale = viewer_of(request), settings_of(request), locale_of(request)
    back = request.host.urls.host_page("module_settings", module=MODULE_NAME)
    if not viewer.is_admin:
        return message_page(request, N_("Проверить подключение"), N_("Недостаточно прав."), status=403, back_url="/")
    if settings is None:
        return message_page(
            request,
            N_("Проверить подключение"),
            N_("Сначала заполните APP ID и оба токена."),
            status=409,
            back_url=back,
        )
    checks = sferum.check_credentials(settings)
    timezone = request.host.clock.timezone
    body = render(
        "connection_check.html",
        locale,
        checks=[(LABELS[check.credential], check, check_text(check, locale, timezone)) for check in checks],
        api_base_url=settings.api_base_url,
        back_url=back,
    )
    return Page(title=gettext(locale, "Проверить подключение"), body_html=body, status=200)


ROUTES: tuple[ModuleRoute, ...] = (
    ModuleRoute("settings/check", "check_connection", check_connection, methods=("POST",), reaches_sferum=True),
)
