"""Fault injection: make chosen Bot API calls fail the way a real network and a real MAX fail.

A rule applies to one operation, named as the schema writes it (``"POST /chats/{chatId}/members"``), to every verb
of a path (``"/chats/{chatId}/members"``) or to every call (``"*"``), and fires either for the next ``times``
matching calls or with a ``probability`` (drawn from a seeded generator, so runs repeat), or both. Kinds:

- ``status``: MAX's own error reply, that HTTP status with ``{"code", "message"}`` (``code`` defaults to the
  status's usual key: 429 ``too.many.requests``, 503 ``service.unavailable``...), optionally with ``Retry-After``;
- ``http_status``: that HTTP status with an HTML body, as a proxy in front of MAX answers (502, 504...);
- ``drop``: the connection is closed with no response, before the call has any effect;
- ``drop_after_apply``: the call takes effect, then the connection is closed with no response;
- ``delay``: the request waits that many seconds (holding no lock), then proceeds normally.

Rules fire in the order they were added; the first that fires decides. Control endpoints (``/_sandbox/...``) are
never affected.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

import attrs

from .._rules import FaultRules


class FaultKind(enum.StrEnum):
    """What an injected fault does."""

    STATUS = "status"
    HTTP_STATUS = "http_status"
    DROP = "drop"
    DROP_AFTER_APPLY = "drop_after_apply"
    DELAY = "delay"


@attrs.define
class FaultRule:
    """One injected fault; ``remaining`` counts down the firings left (None: unlimited)."""

    operation: str
    kind: FaultKind
    value: float = 0
    remaining: int | None = 1
    probability: float | None = None
    code: str | None = None
    message: str | None = None
    retry_after: float | None = None

    def matches(self, operation: str) -> bool:
        if self.remaining == 0:
            return False
        return self.operation in ("*", operation) or operation.partition(" ")[2] == self.operation

    def to_json(self) -> dict[str, Any]:
        return {
            "operation": self.operation,
            "kind": self.kind.value,
            "value": self.value,
            "remaining": self.remaining,
            "probability": self.probability,
            "code": self.code,
            "message": self.message,
            "retry_after": self.retry_after,
        }


class FaultInjector(FaultRules[FaultRule]):
    """The MAX sandbox's fault rules. Thread-safe: shares the sandbox's lock."""

    _FIELDS = frozenset(
        {
            "operation",
            "status",
            "code",
            "message",
            "retry_after",
            "http_status",
            "drop",
            "drop_after_apply",
            "delay",
            "times",
            "probability",
        }
    )

    def inject(
        self,
        operation: str = "*",
        *,
        status: int | None = None,
        code: str | None = None,
        message: str | None = None,
        retry_after: float | None = None,
        http_status: int | None = None,
        drop: bool = False,
        drop_after_apply: bool = False,
        delay: float | None = None,
        times: int | None = None,
        probability: float | None = None,
    ) -> FaultRule:
        """Add a rule for ``operation``; give exactly one of ``status``, ``http_status``, ``drop``,
        ``drop_after_apply``, ``delay``.

        :param code: MAX's error key for ``status`` (default: the status's usual one).
        :param message: the error's message for ``status``.
        :param retry_after: seconds sent as ``Retry-After`` with ``status`` (MAX's documentation does not say it
            sends one; a proxy or a future MAX may).
        :param times: how many matching calls fire (default 1, or unlimited when ``probability`` is given).
        :param probability: fire each matching call with this probability (seeded generator).
        :raises ValueError: no kind or several kinds, or values out of range.
        """
        kinds: list[tuple[FaultKind, float]] = []
        for status_kind, status_value in ((FaultKind.STATUS, status), (FaultKind.HTTP_STATUS, http_status)):
            if status_value is not None:
                if not 400 <= status_value <= 599:
                    raise ValueError(f"{status_kind.value} must be an HTTP error status (400-599)")
                kinds.append((status_kind, int(status_value)))
        if drop:
            kinds.append((FaultKind.DROP, 0))
        if drop_after_apply:
            kinds.append((FaultKind.DROP_AFTER_APPLY, 0))
        if delay is not None:
            if delay < 0:
                raise ValueError("delay must not be negative")
            kinds.append((FaultKind.DELAY, float(delay)))
        if len(kinds) != 1:
            raise ValueError("give exactly one of status, http_status, drop, drop_after_apply, delay")
        if (code is not None or message is not None or retry_after is not None) and status is None:
            raise ValueError("code, message and retry_after go with status")
        if retry_after is not None and retry_after < 0:
            raise ValueError("retry_after must not be negative")
        if probability is not None and not 0 <= probability <= 1:
            raise ValueError("probability must be between 0 and 1")
        if times is not None and times < 1:
            raise ValueError("times must be at least 1")
        if operation != "*" and not operation.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ ").startswith("/"):
            raise ValueError('operation is "*", "/path/{template}" or "VERB /path/{template}"')
        remaining = times if times is not None else (None if probability is not None else 1)
        kind, value = kinds[0]
        rule = FaultRule(operation, kind, value, remaining, probability, code, message, retry_after)
        return self._add(rule)

    def inject_json(self, payload: Mapping[str, Any]) -> FaultRule:
        """Add a rule from the JSON of ``POST /_sandbox/faults`` (the keyword names of :meth:`inject`)."""
        unknown = set(payload) - self._FIELDS
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        return self.inject(**dict(payload))
