"""A safe parser for the one VKScript shape the sandbox runs in ``execute``.

Accepted: ``return [API.m({"k": v, ...}), API.m2({...}), ...];`` or ``return API.m({...});`` where values
are strings (double or single quoted), numbers, ``true``/``false`` and flat arrays of those; keys may be
quoted or bare. Nothing is evaluated: the text is tokenised and parsed into (method, form parameters) with
values converted as the wire format sends them (arrays comma-joined, booleans as 1/0). Anything else is
error 12 (Unable to compile code), as VK reports code it cannot compile.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

import attrs

from ._errors import VkApiError

_COMPILE_ERROR = 12
_T = TypeVar("_T")
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<punct>[\[\](){},:;.])
    )""",
    re.VERBOSE,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "/": "/", "\\": "\\", "'": "'", '"': '"'}


@attrs.frozen
class ScriptCall:
    """One ``API.<method>({...})`` call with its arguments as form parameters."""

    method: str
    params: dict[str, str]


@attrs.frozen
class Script:
    """A parsed script: its calls and whether it returns a list (``[...]``) or a single value."""

    calls: tuple[ScriptCall, ...]
    returns_list: bool


@attrs.frozen
class _Token:
    kind: str
    text: str
    position: int


def _unquote(literal: str) -> str:
    body, chars, index = literal[1:-1], [], 0
    while index < len(body):
        char = body[index]
        if char != "\\":
            chars.append(char)
            index += 1
            continue
        escaped = body[index + 1]
        if escaped == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", body[index + 2 : index + 6]):
            chars.append(chr(int(body[index + 2 : index + 6], 16)))
            index += 6
        elif escaped in _ESCAPES:
            chars.append(_ESCAPES[escaped])
            index += 2
        else:
            raise VkApiError(_COMPILE_ERROR, f"bad escape sequence \\{escaped}")
    return "".join(chars)


def _tokenize(code: str) -> list[_Token]:
    tokens, position = [], 0
    while position < len(code):
        if not code[position:].strip():
            break
        match = _TOKEN.match(code, position)
        if match is None or match.lastgroup is None:
            raise VkApiError(_COMPILE_ERROR, f"unexpected symbol at position {position}")
        kind = match.lastgroup
        tokens.append(_Token(kind, match.group(kind), match.start(kind)))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, code: str) -> None:
        self._tokens = _tokenize(code)
        self._index = 0

    def _peek(self) -> _Token | None:
        return self._tokens[self._index] if self._index < len(self._tokens) else None

    def _take(self, kind: str, text: str | None = None) -> _Token:
        token = self._peek()
        if token is None or token.kind != kind or (text is not None and token.text != text):
            found = "end of code" if token is None else repr(token.text)
            raise VkApiError(_COMPILE_ERROR, f"{text or kind!r} expected, {found} found")
        self._index += 1
        return token

    def _at(self, text: str) -> bool:
        token = self._peek()
        return token is not None and token.kind in ("punct", "name") and token.text == text

    def script(self) -> Script:
        self._take("name", "return")
        if self._at("["):
            self._take("punct", "[")
            calls = self._sequence("]", self._call)
            result = Script(tuple(calls), returns_list=True)
        else:
            result = Script((self._call(),), returns_list=False)
        if self._at(";"):
            self._take("punct", ";")
        if self._peek() is not None:
            raise VkApiError(_COMPILE_ERROR, "only a single return statement is supported")
        return result

    def _sequence(self, closing: str, element: Callable[[], _T]) -> list[_T]:
        items: list[_T] = []
        while not self._at(closing):
            items.append(element())
            if not self._at(closing):
                self._take("punct", ",")
        self._take("punct", closing)
        return items

    def _call(self) -> ScriptCall:
        self._take("name", "API")
        parts = []
        while self._at("."):
            self._take("punct", ".")
            parts.append(self._take("name").text)
        if not parts:
            raise VkApiError(_COMPILE_ERROR, "method name expected after API")
        self._take("punct", "(")
        params = self._object() if self._at("{") else {}
        self._take("punct", ")")
        return ScriptCall(".".join(parts), params)

    def _object(self) -> dict[str, str]:
        self._take("punct", "{")
        pairs = self._sequence("}", self._pair)
        return dict(pairs)

    def _pair(self) -> tuple[str, str]:
        token = self._peek()
        key = _unquote(self._take("string").text) if token and token.kind == "string" else self._take("name").text
        self._take("punct", ":")
        if self._at("["):
            self._take("punct", "[")
            return key, ",".join(self._sequence("]", self._scalar))
        return key, self._scalar()

    def _scalar(self) -> str:
        token = self._peek()
        if token is not None and token.kind == "string":
            return _unquote(self._take("string").text)
        if token is not None and token.kind == "number":
            return self._take("number").text
        if token is not None and token.kind == "name" and token.text in ("true", "false"):
            self._index += 1
            return "1" if token.text == "true" else "0"
        found = "end of code" if token is None else repr(token.text)
        raise VkApiError(_COMPILE_ERROR, f"value expected, {found} found")


def parse_script(code: str) -> Script:
    """Parse ``code`` into its API calls.

    :raises VkApiError: code 12 when the code is not of the supported shape.
    """
    return _Parser(code).script()
