"""Pace requests per token with a token bucket, so that Sferum's per-second limit (error 6) is rarely hit.

VK limits API calls per access token (3 requests per second for user tokens; dev.vk.com "API limits"), so the
buckets are keyed by token, through a hash: the limiter never holds a token itself.  One
:class:`RateLimiter` is meant to be shared by every client and thread of a process (it has a lock); clients
of the same token then share one bucket.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable

import attrs

__all__ = ["RateLimiter", "token_key"]


def token_key(token: str) -> str:
    """Return a stable, non-reversible key for ``token`` (the first 16 hex digits of its SHA-256)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:16]


@attrs.define
class _Bucket:
    tokens: float
    updated_at: float


class RateLimiter:
    """A token bucket per token: ``burst`` requests at once, then ``requests_per_second`` on average.

    :param requests_per_second: refill rate of each bucket.
    :param burst: capacity of each bucket.
    :param clock: monotonic seconds; tests pass a fake clock.
    :param sleep: how to wait; tests pass a function that advances the fake clock.
    """

    def __init__(
        self,
        requests_per_second: float = 3.0,
        burst: int = 3,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if requests_per_second <= 0 or burst < 1:
            raise ValueError("requests_per_second must be positive and burst at least 1")
        self.requests_per_second = requests_per_second
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._buckets: dict[str, _Bucket] = {}

    def acquire(self, token: str) -> float:
        """Wait until ``token`` may send one more request; return the seconds waited."""
        return self.acquire_key(token_key(token))

    def acquire_key(self, key: str) -> float:
        """Like :meth:`acquire`, for a key already computed with :func:`token_key`."""
        wait = self._reserve(key)
        if wait > 0:
            self._sleep(wait)
        return wait

    def _reserve(self, key: str) -> float:
        # The slot is reserved under the lock (the bucket may go negative) and waited for outside it, so that
        # threads sharing a token queue up in order and no thread sleeps while holding the lock.
        with self._lock:
            now = self._clock()
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(tokens=float(self.burst), updated_at=now)
            elapsed = max(0.0, now - bucket.updated_at)
            bucket.tokens = min(float(self.burst), bucket.tokens + elapsed * self.requests_per_second)
            bucket.updated_at = now
            bucket.tokens -= 1.0
            if bucket.tokens >= 0:
                return 0.0
            return -bucket.tokens / self.requests_per_second
