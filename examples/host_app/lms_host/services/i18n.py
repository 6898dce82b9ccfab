"""The viewer's language as plugins see it."""

from __future__ import annotations

from flask import g, has_app_context

__all__ = ["DEFAULT_LOCALE", "LOCALES", "ViewerTranslator", "current_locale"]

DEFAULT_LOCALE = "ru"
LOCALES = ("ru", "en")


def current_locale() -> str:
    """The locale of the current request's viewer, or the default outside a request (jobs, CLI)."""
    if has_app_context():
        return str(g.get("locale", DEFAULT_LOCALE))
    return DEFAULT_LOCALE


class ViewerTranslator:
    """The :class:`hookspecs.services.Translator` service: the current viewer's locale."""

    @property
    def locale(self) -> str:
        """The current UI language code (``"ru"`` or ``"en"``)."""
        return current_locale()
