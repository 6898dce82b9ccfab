"""The host's UI strings: Russian is the source language, English comes from ``translations/en.po``.

The catalog is read with Babel at startup and compiled in memory, so there is no compile step to forget.
Templates use ``_()`` (Jinja's i18n extension, new-style: ``_("… %(name)s", name=x)`` escapes its arguments);
Python code uses :func:`gettext` below.
"""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from flask import Flask, current_app, has_app_context

from lms_host.services.i18n import DEFAULT_LOCALE, LOCALES, current_locale

__all__ = ["LOCALES", "gettext", "install_translations", "load_catalogs"]

TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"


def load_catalogs(directory: Path = TRANSLATIONS_DIR) -> dict[str, NullTranslations]:
    """A translations object per locale; the source language needs none."""
    catalogs: dict[str, NullTranslations] = {DEFAULT_LOCALE: NullTranslations()}
    for locale in LOCALES:
        po_path = directory / f"{locale}.po"
        if locale == DEFAULT_LOCALE or not po_path.exists():
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=locale)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        catalogs[locale] = Translations(fp=buffer)
    return catalogs


def _translations() -> NullTranslations:
    if not has_app_context():
        return NullTranslations()
    catalogs: dict[str, NullTranslations] = current_app.extensions["lms_translations"]
    return catalogs.get(current_locale(), catalogs[DEFAULT_LOCALE])


def gettext(message: str, **variables: object) -> str:
    """``message`` in the current viewer's language, with ``%(name)s`` placeholders filled."""
    text = _translations().gettext(message)
    return text % variables if variables else text


def install_translations(app: Flask) -> None:
    """Load the catalogs and give the templates ``_``/``gettext``/``ngettext``."""
    app.extensions["lms_translations"] = load_catalogs()
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda message: _translations().gettext(message),
        lambda singular, plural, number: _translations().ngettext(singular, plural, number),
        newstyle=True,
    )
