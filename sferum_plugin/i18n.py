"""Translations of the module's UI: Russian is the source language, English is a catalog.

Catalogs are read from ``locale/<lang>/LC_MESSAGES/messages.po`` at first use (no compile step, so a source checkout
and a wheel behave the same).
"""

from __future__ import annotations

import functools
import io
from importlib import resources

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

__all__ = ["N_", "SUPPORTED_LOCALES", "gettext", "translations"]

SUPPORTED_LOCALES = ("ru", "en")
_SOURCE_LOCALE = "ru"


@functools.cache
def translations(locale: str) -> NullTranslations:
    """The translations for ``locale``; the source (Russian) and unknown locales get identity translations."""
    if locale == _SOURCE_LOCALE or locale not in SUPPORTED_LOCALES:
        return NullTranslations()
    po = resources.files("sferum_plugin").joinpath("locale", locale, "LC_MESSAGES", "messages.po")
    with po.open("rb") as fp:
        catalog = read_po(fp, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def gettext(locale: str, message: str) -> str:
    """Translate ``message`` (a Russian source string) into ``locale``."""
    return translations(locale).gettext(message)


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it here (it is translated where it is shown)."""
    return message
