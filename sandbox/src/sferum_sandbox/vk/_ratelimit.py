"""Per-token request pacing: a token bucket per access token, as VK limits requests per second per token."""

from __future__ import annotations

from collections.abc import Callable

import attrs

# Float sums of refills (e.g. 3 x 1/3 s) fall a hair short of a whole request.
_EPSILON = 1e-9


@attrs.define
class _Bucket:
    tokens: float
    updated_at: float


class TokenBucketLimiter:
    """Allows ``rate`` requests per second per key, with bursts of up to ``rate`` (at least one) requests.

    ``rate`` None disables limiting. Not thread-safe by itself: the sandbox calls it under its lock.
    """

    def __init__(self, rate: float | None, clock: Callable[[], float]) -> None:
        if rate is not None and rate <= 0:
            raise ValueError("rate limit must be positive or None")
        self._rate = rate
        self._capacity = max(1.0, rate or 1.0)
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def allow(self, key: str) -> bool:
        """Take one request from ``key``'s bucket; False when it is empty."""
        if self._rate is None:
            return True
        now = self._clock()
        bucket = self._buckets.setdefault(key, _Bucket(self._capacity, now))
        bucket.tokens = min(self._capacity, bucket.tokens + (now - bucket.updated_at) * self._rate)
        bucket.updated_at = now
        if bucket.tokens < 1.0 - _EPSILON:
            return False
        bucket.tokens = max(0.0, bucket.tokens - 1.0)
        return True

    def reset(self) -> None:
        """Forget every bucket."""
        self._buckets.clear()
