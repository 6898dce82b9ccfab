"""Rendering the module's HTML fragments: Jinja2 with autoescaping and the module's own translations."""

from __future__ import annotations

import functools
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from sferum_plugin.i18n import translations

__all__ = ["render"]


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
    return env


def render(template: str, locale: str, /, **context: Any) -> str:
    """Render ``template`` in ``locale``; every value is escaped unless the template says otherwise."""
    return _environment(locale).get_template(template).render(**context)
