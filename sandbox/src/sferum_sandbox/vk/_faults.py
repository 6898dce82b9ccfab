"""Fault injection: make chosen API calls fail the way a real network and a real VK fail.

A rule applies to one method (or ``"*"``) and fires either for the next ``times`` matching calls or with a
``probability`` (drawn from a seeded generator, so runs repeat), or both (at most ``times`` firings). Kinds:

- ``error_code``: the call answers that VK error (HTTP 200, the usual error body);
- ``http_status``: the request answers that HTTP status (500, 502, 503 ...) with an HTML body, as a proxy would;
- ``drop``: the connection is closed with no response, before the call has any effect;
- ``drop_after_apply``: the call takes effect, then the connection is closed with no response (the client
  cannot know that e.g. the chat was created);
- ``http_status_after_apply``: the call takes effect, then the request answers that HTTP status (500, 502 ...)
  with an HTML body instead of VK's reply, as a proxy timing out on a slow backend would;
- ``delay``: the request waits that many seconds before it runs (a call inside ``execute``: after the
  batch ran), then proceeds normally; the wait holds no lock.

Rules fire in the order they were added; the first that fires decides. Inside ``execute`` the inner calls are
matched too: an ``error_code`` fails only that call (``false`` plus an ``execute_errors`` entry), the other
kinds affect the whole HTTP request (an ``..._after_apply`` one after every call of the batch has run).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

import attrs

from .._rules import FaultRules


class FaultKind(enum.StrEnum):
    """What an injected fault does."""

    ERROR_CODE = "error_code"
    HTTP_STATUS = "http_status"
    DROP = "drop"
    DROP_AFTER_APPLY = "drop_after_apply"
    HTTP_STATUS_AFTER_APPLY = "http_status_after_apply"
    DELAY = "delay"


@attrs.define
class FaultRule:
    """One injected fault; ``remaining`` counts down the firings left (None: unlimited)."""

    method: str
    kind: FaultKind
    value: float = 0
    remaining: int | None = 1
    probability: float | None = None

    def matches(self, method: str) -> bool:
        return self.method in ("*", method) and self.remaining != 0

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "kind": self.kind.value,
            "value": self.value,
            "remaining": self.remaining,
            "probability": self.probability,
        }


class FaultInjector(FaultRules[FaultRule]):
    """The sandbox's fault rules. Thread-safe: shares the sandbox's lock."""

    def inject(
        self,
        method: str = "*",
        *,
        error_code: int | None = None,
        http_status: int | None = None,
        drop: bool = False,
        drop_after_apply: bool = False,
        http_status_after_apply: int | None = None,
        delay: float | None = None,
        times: int | None = None,
        probability: float | None = None,
    ) -> FaultRule:
        """Add a rule for ``method`` (or ``"*"``); give exactly one of the fault kinds.

        :param times: how many matching calls fire (default 1, or unlimited when ``probability`` is given).
        :param probability: fire each matching call with this probability (seeded generator).
        :raises ValueError: no kind or several kinds, or values out of range.
        """
        kinds: list[tuple[FaultKind, float]] = []
        if error_code is not None:
            kinds.append((FaultKind.ERROR_CODE, int(error_code)))
        if http_status is not None:
            if not 400 <= http_status <= 599:
                raise ValueError("http_status must be an HTTP error status (400-599)")
            kinds.append((FaultKind.HTTP_STATUS, int(http_status)))
        if drop:
            kinds.append((FaultKind.DROP, 0))
        if drop_after_apply:
            kinds.append((FaultKind.DROP_AFTER_APPLY, 0))
        if http_status_after_apply is not None:
            if not 500 <= http_status_after_apply <= 599:
                raise ValueError("http_status_after_apply must be a server error status (500-599)")
            kinds.append((FaultKind.HTTP_STATUS_AFTER_APPLY, int(http_status_after_apply)))
        if delay is not None:
            if delay < 0:
                raise ValueError("delay must not be negative")
            kinds.append((FaultKind.DELAY, float(delay)))
        if len(kinds) != 1:
            raise ValueError(
                "give exactly one of error_code, http_status, drop, drop_after_apply, http_status_after_apply, delay"
            )
        if probability is not None and not 0 <= probability <= 1:
            raise ValueError("probability must be between 0 and 1")
        if times is not None and times < 1:
            raise ValueError("times must be at least 1")
        remaining = times if times is not None else (None if probability is not None else 1)
        rule = FaultRule(method, kinds[0][0], kinds[0][1], remaining, probability)
        return self._add(rule)

    def inject_json(self, payload: Mapping[str, Any]) -> FaultRule:
        """Add a rule from the JSON of ``POST /_sandbox/faults`` (the keyword names of ``inject``)."""
        allowed = {"method", "error_code", "http_status", "drop", "drop_after_apply", "http_status_after_apply",
                   "delay", "times"}  # fmt: skip
        unknown = set(payload) - allowed - {"probability"}
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        return self.inject(**{key: payload[key] for key in payload if key in allowed | {"probability"}})
