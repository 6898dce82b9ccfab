"""Read fields of a decoded JSON reply, turning every surprise into a MalformedResponseError naming the method.

A reply that lacks a field the schema marks required, or has one of the wrong type, must never escape as a
``KeyError`` or ``TypeError`` from deep inside the gateway.
"""

from __future__ import annotations

from collections.abc import Mapping

from sferum_plugin.gateway.errors import MalformedResponseError


class ReplyReader:
    """Typed access to the JSON reply of ``method``."""

    def __init__(self, method: str) -> None:
        self.method = method

    def malformed(self, detail: str) -> MalformedResponseError:
        """Return the error for a reply that does not match the schema."""
        return MalformedResponseError(f"unexpected reply: {detail}", method=self.method)

    def require_object(self, value: object, where: str) -> Mapping[str, object]:
        if not isinstance(value, Mapping):
            raise self.malformed(f"{where} is {type(value).__name__}, expected an object")
        return value

    def require_array(self, value: object, where: str) -> list[object]:
        if not isinstance(value, list):
            raise self.malformed(f"{where} is {type(value).__name__}, expected an array")
        return value

    def require_int(self, obj: Mapping[str, object], key: str) -> int:
        value = obj.get(key)
        if value is None:
            raise self.malformed(f"required field {key!r} is missing")
        return self._int(value, key)

    def optional_int(self, obj: Mapping[str, object], key: str) -> int | None:
        value = obj.get(key)
        return None if value is None else self._int(value, key)

    def require_str(self, obj: Mapping[str, object], key: str) -> str:
        value = obj.get(key)
        if value is None:
            raise self.malformed(f"required field {key!r} is missing")
        return self._str(value, key)

    def optional_str(self, obj: Mapping[str, object], key: str) -> str | None:
        value = obj.get(key)
        return None if value is None else self._str(value, key)

    def flag(self, obj: Mapping[str, object], key: str) -> bool:
        """Read a boolean that VK sends as ``true``/``false`` or ``1``/``0``; absent means False."""
        value = obj.get(key)
        if value is None:
            return False
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise self.malformed(f"field {key!r} is {value!r}, expected a boolean")

    def int_array(self, obj: Mapping[str, object], key: str) -> tuple[int, ...]:
        """Read an optional array of integers; absent means empty."""
        value = obj.get(key)
        if value is None:
            return ()
        return tuple(self._int(item, key) for item in self.require_array(value, repr(key)))

    def _int(self, value: object, key: str) -> int:
        # bool is an int subclass in Python, but true/false is never a valid id or count.
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.malformed(f"field {key!r} is {value!r}, expected an integer")
        return value

    def _str(self, value: object, key: str) -> str:
        if not isinstance(value, str):
            raise self.malformed(f"field {key!r} is {value!r}, expected a string")
        return value
