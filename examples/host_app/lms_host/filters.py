"""Jinja filters: plugin hint text, local times and dates."""

from __future__ import annotations

import re
from datetime import date, datetime

from babel.dates import format_date
from flask import Flask
from markupsafe import Markup, escape

from lms_host.cabinet import current_cabinet
from lms_host.services.i18n import current_locale

__all__ = ["install_filters", "linkify", "local_date", "local_time"]

_URL = re.compile(r"https?://[^\s<>\"']+")
_TRAILING_PUNCTUATION = ".,;:!?)»"


def linkify(text: str) -> Markup:
    """Plain text as safe HTML: everything escaped, line breaks kept, http(s) URLs turned into links."""
    pieces: list[Markup] = []
    position = 0
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(_TRAILING_PUNCTUATION)
        pieces.append(escape(text[position : match.start()]))
        pieces.append(Markup('<a href="{0}" rel="noopener noreferrer" target="_blank">{0}</a>').format(url))
        position = match.start() + len(url)
    pieces.append(escape(text[position:]))
    html = str(Markup("").join(pieces)).replace("\r\n", "\n")
    # Escaping never produces a newline, so the only newlines left are the text's own.
    return Markup(html.replace("\n", "<br>\n"))  # noqa: S704


def local_time(value: datetime) -> str:
    """``HH:MM`` in the organisation's time zone."""
    return value.astimezone(current_cabinet().host.clock.timezone).strftime("%H:%M")


def local_date(value: date | datetime, pattern: str = "EEEE, d MMMM") -> str:
    """A date in the viewer's language (``понедельник, 3 марта``), in the organisation's time zone."""
    if isinstance(value, datetime):
        value = value.astimezone(current_cabinet().host.clock.timezone).date()
    return format_date(value, pattern, locale=current_locale())


def install_filters(app: Flask) -> None:
    """Register the filters with the application's Jinja environment."""
    app.jinja_env.filters["linkify"] = linkify
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["local_date"] = local_date
