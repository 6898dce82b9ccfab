"""The host's pages (one blueprint per section) and what every page shares: layout data and error pages."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, render_template
from werkzeug.exceptions import HTTPException

from lms_host.auth import current_viewer
from lms_host.cabinet import Cabinet
from lms_host.filters import install_filters
from lms_host.menu import build_menu
from lms_host.permissions import ROLE_TITLES
from lms_host.services.i18n import LOCALES, current_locale
from lms_host.views import admin, auth, chats, dashboard, demo_mail, people, schedule

__all__ = ["register_views"]

_ERROR_TEMPLATES = {400: "errors/400.html", 403: "errors/403.html", 404: "errors/404.html"}


def _layout_context() -> dict[str, Any]:
    def menu() -> list[Any]:
        # Computed once per page and only when the layout asks (redirects never pay for the hook call).
        if "menu" not in g:
            g.menu = build_menu(Cabinet.of(current_app), current_viewer())
        return list(g.menu)

    def org_name() -> str:
        if "org_name" not in g:
            g.org_name = Cabinet.of(current_app).settings.get("main").get("org_name") or "Университет"
        return str(g.org_name)

    return {
        "viewer": current_viewer(),
        "main_menu": menu,
        "org_name": org_name,
        "role_titles": ROLE_TITLES,
        "locale": current_locale(),
        "locales": LOCALES,
    }


def _error_page(error: HTTPException) -> tuple[str, int]:
    status = error.code or 500
    return render_template(_ERROR_TEMPLATES[status], error=error), status


def register_views(app: Flask) -> None:
    """Register the blueprints, the layout's context, filters and error pages."""
    for blueprint in (auth.bp, dashboard.bp, admin.bp, people.bp, schedule.bp, chats.bp, demo_mail.bp):
        app.register_blueprint(blueprint)
    app.context_processor(_layout_context)
    install_filters(app)
    for status in _ERROR_TEMPLATES:
        app.register_error_handler(status, _error_page)
