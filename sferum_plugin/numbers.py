"""Numbers typed or posted by people: ASCII digits only, and small enough for the database.

``str.isdigit`` accepts characters ``int`` refuses (``"²"``) and ``int`` accepts digits of other scripts
(``"١٢"``) and numbers no database column holds; every id or count the module reads from a form, a query string,
a path or a stored setting goes through :func:`parse_int` instead.
"""

from __future__ import annotations

__all__ = ["INT32_MAX", "parse_int"]

INT32_MAX = 2**31 - 1
"""The largest value of the ``INTEGER`` columns the module and its hosts use for ids."""


def parse_int(raw: str | None, *, low: int = 0, high: int = INT32_MAX) -> int | None:
    """``raw`` (surrounding spaces ignored) as an integer in ``[low, high]`` if it is written in ASCII digits,
    else ``None``."""
    if raw is None:
        return None
    value = raw.strip()
    if not value or not value.isascii() or not value.isdigit() or len(value) > len(str(high)):
        return None
    number = int(value)
    return number if low <= number <= high else None
