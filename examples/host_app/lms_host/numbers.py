"""Ids in paths, query strings and forms: ASCII digits that fit the database's ``INTEGER``, and nothing else.

``int`` reads ``" 1"``, ``"+1"``, ``"1_0"`` and digits of other scripts (``"١"``) as real ids, and numbers no
column holds (``2**31`` overflows PostgreSQL's ``INTEGER``, ``2**63`` SQLite's); ``str.isdigit`` accepts ``"²"``,
which ``int`` refuses; Flask's ``int`` converter matches any Unicode digit.  The host reads every id through
:func:`parse_id`: in a path through the ``id`` converter (``/chats/<id:chat_id>``, 404 otherwise), in a query
string or a form directly (the view answers 400 for a value that is not an id).
"""

from __future__ import annotations

from typing import Any

from werkzeug.routing import BaseConverter, ValidationError

__all__ = ["INT32_MAX", "IdConverter", "parse_id"]

INT32_MAX = 2**31 - 1
"""The largest value of the host's ``INTEGER`` id columns (on PostgreSQL; SQLite's are wider)."""


def parse_id(raw: str | None) -> int | None:
    """``raw`` as an integer in ``[0, INT32_MAX]`` when it is written in ASCII digits only, else ``None``
    (surrounding spaces, signs, underscores, other scripts' digits and overlong strings included)."""
    if not raw or len(raw) > len(str(INT32_MAX)) or not raw.isascii() or not raw.isdigit():
        return None
    number = int(raw)
    return number if number <= INT32_MAX else None


class IdConverter(BaseConverter):
    """The ``id`` URL converter: a path segment :func:`parse_id` accepts, else the rule does not match (404)."""

    regex = r"[0-9]+"
    weight = 50  # as werkzeug's numeric converters: a literal segment wins over it

    def to_python(self, value: str) -> int:
        number = parse_id(value)
        if number is None:
            raise ValidationError
        return number

    def to_url(self, value: Any) -> str:
        number = parse_id(str(value))
        if number is None:
            raise ValueError(f"not an id: {value!r}")
        return str(number)
