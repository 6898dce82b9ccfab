"""Numbers in paths, forms, query strings and stored settings: ASCII digits only, and small enough for the database.

``str.isdigit`` accepts characters ``int`` refuses (``"²"``) and ``int`` accepts ``" 1"``, ``"+1"``, ``"1_0"``,
digits of other scripts (``"١٢"``) and numbers no database column holds (``2**31`` overflows PostgreSQL's
``INTEGER``, ``2**63`` SQLite's); every id or count the module reads from a path, a form, a query string or a stored
setting goes through :func:`parse_int` instead.  A view answers 404 for a path id it refuses and 400 for a form
field.
"""

from __future__ import annotations

__all__ = ["INT32_MAX", "parse_int"]

INT32_MAX = 2**31 - 1
"""The largest value of the ``INTEGER`` columns the module and its hosts use for ids."""


def parse_int(raw: str | None, *, low: int = 0, high: int = INT32_MAX) -> int | None:
    """``raw`` as an integer in ``[low, high]`` if it is written in ASCII digits only, else ``None``.

    Nothing is trimmed: ``" 1"`` is not an id (the host trims what people type into settings before they get here).
    """
    if not raw or len(raw) > len(str(high)) or not raw.isascii() or not raw.isdigit():
        return None
    number = int(raw)
    return number if low <= number <= high else None
