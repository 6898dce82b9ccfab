"""The «Онлайн-занятия» section."""

from __future__ import annotations

from hookspecs.types import HttpRequest, Page
from sferum_plugin import MODULE_NAME
from sferum_plugin.i18n import gettext
from sferum_plugin.rendering import render
from sferum_plugin.settings import SferumSettings

__all__ = ["online_lessons_page"]


def online_lessons_page(request: HttpRequest) -> Page:
    """The section's page; the route's permission is «Просмотр раздела онлайн-занятий (Сферум)»."""
    locale = request.viewer.locale if request.viewer else "ru"
    configured = SferumSettings.from_stored(request.host.settings.get(MODULE_NAME)) is not None
    return Page(
        title=gettext(locale, "Онлайн-занятия"),
        body_html=render("online_lessons.html", locale, configured=configured),
        menu_key="sferum.online_lessons",
    )
