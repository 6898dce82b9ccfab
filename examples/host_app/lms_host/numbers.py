"""Ids and page numbers from query strings and forms: ASCII digits that fit the database's ``INTEGER``.

``str.isdigit`` accepts ``"²"``, which ``int`` refuses, and ``int`` accepts digits of other scripts and numbers
no column holds; the host reads every such value through :func:`parse_id`.
"""

from __future__ import annotations

__all__ = ["parse_id"]

_INT32_MAX = 2**31 - 1


def parse_id(raw: str | None) -> int | None:
    """``raw`` as a non-negative 32-bit integer, or ``None`` when it is anything else."""
    value = (raw or "").strip()
    if not value.isascii() or not value.isdigit() or len(value) > 10:
        return None
    number = int(value)
    return number if number <= _INT32_MAX else None
