"""Pace requests per token so that no rolling second ever holds more of them than the configured rate.

VK limits API calls per access token (3 requests per second for user tokens; dev.vk.com "API limits") and answers
error 6 past it.  A token bucket is not enough: it lets ``burst`` requests out at once and refills meanwhile, so at
3 per second five requests leave within the first second.  Evenly spaced requests are not enough either: at exactly
1000/3 ms apart the 1st and the 4th are exactly one second apart, and a window that counts both ends (or a
request that the network delays less than the one before) sees four.

So the limiter keeps a *sliding-window log*: the send times of each token's latest requests.  A request may go at
``t`` only when the ``n``-th latest send of its token is at least ``window × (1 + margin)`` before ``t``, where
``n = floor(rate)`` and ``window`` is one second (for a rate below one, ``n = 1`` and ``window = 1 / rate``).  Then
no window of one second — closed at both ends, wherever it starts — holds more than ``n`` sends as long as
``margin > 0``, and none open at one end does with ``margin = 0``.  ``burst`` below ``n`` adds a second rule of the
same shape (``burst`` sends per ``burst / rate`` seconds), which spreads the requests out; it never lets more go.

VK measures its window on its own side, on arrival times that network jitter moves by tens of milliseconds, and
does not say whether it counts the window's ends: Sferum's clients keep a margin of 10% (a send waits 1.1 s after
the one ``n`` before it, see :attr:`~sferum_plugin.gateway.config.GatewayConfig.pacing_margin`), at the price of 9%
of throughput.

One log is shared by every limiter made with :meth:`RateLimiter.at` from the same limiter (the connector makes all
of its limiters so, one per pace), and by every thread (it has a lock): a slot is reserved under the lock and
waited for outside it, so threads sharing a token queue up in order.  Logs are keyed by a hash of the token: the
limiter never holds a token itself.  A token's log is dropped once it is older than every window.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import deque
from collections.abc import Callable

import attrs

__all__ = ["RateLimiter", "SendLog", "token_key"]

# A log is dropped when its last send is this much older than the longest window in use (ample, and cheap).
_STALE_AFTER = 60.0


def token_key(token: str) -> str:
    """Return a stable, non-reversible key for ``token`` (the first 16 hex digits of its SHA-256)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:16]


@attrs.frozen
class _Rule:
    """At most ``count`` sends in any ``window`` seconds (``window`` includes the margin)."""

    count: int
    window: float


def _rules(requests_per_second: float, burst: int, margin: float) -> tuple[_Rule, ...]:
    count = max(1, math.floor(requests_per_second))
    rules = [_Rule(count, max(1.0, count / requests_per_second) * (1.0 + margin))]
    if burst < count:
        rules.append(_Rule(burst, burst / requests_per_second * (1.0 + margin)))
    return tuple(rules)


class SendLog:
    """The send times of each token's latest requests, shared by the limiters of one process.

    :param clock: monotonic seconds; tests pass a fake clock.
    :param sleep: how to wait; tests pass a function that advances the fake clock.
    """

    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.clock = clock
        self.sleep = sleep
        self._lock = threading.Lock()
        self._sends: dict[str, deque[float]] = {}
        self._longest = 1.0
        self._swept_at_size = 0

    def __len__(self) -> int:
        """How many tokens have a log (a count the tests read: logs must not pile up)."""
        with self._lock:
            return len(self._sends)

    def reserve(self, key: str, rules: tuple[_Rule, ...]) -> float:
        """Book the earliest slot ``rules`` allow for ``key``; return the seconds to wait for it."""
        with self._lock:
            now = self.clock()
            self._sweep(now)
            depth = max(rule.count for rule in rules)
            self._longest = max(self._longest, *(rule.window for rule in rules))
            sends = self._sends.get(key)
            if sends is None or (sends.maxlen or 0) < depth:
                # Only the latest ``depth`` sends matter to any rule of this pace.
                sends = self._sends[key] = deque(sends or (), maxlen=depth)
            slot = now
            if sends:
                # Never before a slot already booked: the log stays in order, and waiting threads keep theirs.
                slot = max(slot, sends[-1])
            for rule in rules:
                if len(sends) >= rule.count:
                    slot = max(slot, sends[-rule.count] + rule.window)
            sends.append(slot)
            return slot - now

    def _sweep(self, now: float) -> None:
        # Amortised: only when the number of logs has doubled since the last sweep.
        if len(self._sends) < max(64, 2 * self._swept_at_size):
            return
        horizon = now - self._longest - _STALE_AFTER
        for key in [key for key, sends in self._sends.items() if sends[-1] < horizon]:
            del self._sends[key]
        self._swept_at_size = len(self._sends)


class RateLimiter:
    """At most ``requests_per_second`` requests per token in any rolling second (see the module's text).

    :param requests_per_second: the pace of each token.
    :param burst: how many requests may leave back to back (it can only spread them out, never let more go).
    :param margin: each window is stretched by this fraction (0.1: a send waits 1.1 s for the one ``n`` before).
    :param clock: monotonic seconds; tests pass a fake clock.
    :param sleep: how to wait; tests pass a function that advances the fake clock.
    """

    def __init__(
        self,
        requests_per_second: float = 3.0,
        burst: int = 3,
        *,
        margin: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._init(requests_per_second, burst, margin, SendLog(clock=clock, sleep=sleep))

    def _init(self, requests_per_second: float, burst: int, margin: float, log: SendLog) -> None:
        if requests_per_second <= 0 or burst < 1 or margin < 0:
            raise ValueError("requests_per_second must be positive, burst at least 1 and margin not negative")
        self.requests_per_second = requests_per_second
        self.burst = burst
        self.margin = margin
        self.log = log
        self._rules = _rules(requests_per_second, burst, margin)

    def __repr__(self) -> str:
        return f"RateLimiter({self.requests_per_second}/s, burst={self.burst}, margin={self.margin})"

    def at(self, requests_per_second: float, burst: int, *, margin: float = 0.0) -> RateLimiter:
        """A limiter of another pace over the same send log: together they never exceed the faster pace."""
        other = RateLimiter.__new__(RateLimiter)
        other._init(requests_per_second, burst, margin, self.log)
        return other

    def acquire(self, token: str) -> float:
        """Wait until ``token`` may send one more request; return the seconds waited."""
        return self.acquire_key(token_key(token))

    def acquire_key(self, key: str) -> float:
        """Like :meth:`acquire`, for a key already computed with :func:`token_key`."""
        wait = self.log.reserve(key, self._rules)
        if wait > 0:
            self.log.sleep(wait)
        return wait
