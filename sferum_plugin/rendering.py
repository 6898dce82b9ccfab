"""Rendering the module's HTML fragments: Jinja2 with autoescaping and the module's own translations."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from jinja2 import Environment, PackageLoader, pass_context, select_autoescape
from jinja2.runtime import Context

from sferum_plugin.i18n import translations

__all__ = ["render", "when"]


@pass_context
def when(context: Context, value: datetime | None) -> str:
    """A moment as people read it: ``29.11.2026 10:44`` in the template's ``timezone`` (the organisation's, which
    the view passes), or with ``UTC`` when the view gave none; ``—`` for no moment."""
    if value is None:
        return "—"
    zone = context.get("timezone")
    if zone is None:
        return value.strftime("%d.%m.%Y %H:%M UTC")
    return value.astimezone(zone).strftime("%d.%m.%Y %H:%M")


@functools.cache
def _environment(locale: str) -> Environment:
    env = Environment(
        loader=PackageLoader("sferum_plugin", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.filters["when"] = when
    return env


def render(template: str, locale: str, /, **context: Any) -> str:
    """Render ``template`` in ``locale``; every value is escaped unless the template says otherwise."""
    return _environment(locale).get_template(template).render(**context)
