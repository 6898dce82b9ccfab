"""What the module's route handlers share: the viewer's locale, the settings, and the message page."""

from __future__ import annotations

from hookspecs.types import HttpRequest, Page, Viewer
from sferum_plugin import MODULE_NAME
from sferum_plugin.i18n import gettext
from sferum_plugin.rendering import render
from sferum_plugin.settings import ModuleSettings, SferumSettings, configured

__all__ = ["locale_of", "message_page", "module_settings_of", "settings_of", "viewer_of"]


def viewer_of(request: HttpRequest) -> Viewer:
    """The signed-in viewer (every route of the module requires a login)."""
    assert request.viewer is not None, "the module's routes are login_required"
    return request.viewer


def locale_of(request: HttpRequest) -> str:
    return request.viewer.locale if request.viewer is not None else "ru"


def settings_of(request: HttpRequest) -> SferumSettings | None:
    """The module's settings, or ``None`` while it is not configured."""
    return SferumSettings.from_stored(request.host.settings.get(MODULE_NAME))


def module_settings_of(request: HttpRequest) -> ModuleSettings | None:
    """The chosen platform's settings (VK Messenger's or MAX's), or ``None`` while it is not configured."""
    return configured(request.host.settings.get(MODULE_NAME))


def message_page(request: HttpRequest, title: str, message: str, *, status: int, back_url: str) -> Page:
    """A page that says what happened, in words, with a link back (``message`` is translated if it can be)."""
    locale = locale_of(request)
    return Page(
        title=gettext(locale, title),
        body_html=render("message.html", locale, message=gettext(locale, message), back_url=back_url, ok=status < 400),
        status=status,
        menu_key="sferum.online_lessons",
    )
