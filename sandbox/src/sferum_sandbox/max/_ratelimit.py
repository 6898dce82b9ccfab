"""MAX's request limit per bot token: at most N requests in any rolling second, counted, not smoothed.

MAX documents 30 requests per second. The sandbox counts the requests a token made in the last second (a rolling
window, so a burst at the end of one second and the start of the next is refused as it would be counted), which is
what a client pacing itself at exactly the documented rate must get through.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable


class RollingWindowLimiter:
    """Allows ``rate`` requests per second per key: at most ``max(1, floor(rate))`` requests within any window of
    ``that many / rate`` seconds (one second for a whole ``rate``). ``rate`` None disables limiting.

    Not thread-safe by itself: the sandbox calls it under its lock.
    """

    def __init__(self, rate: float | None, clock: Callable[[], float]) -> None:
        if rate is not None and not rate > 0:
            raise ValueError("rate limit must be positive or None")
        self.rate = rate
        self._count = max(1, math.floor(rate)) if rate is not None else 0
        self._window = self._count / rate if rate is not None else 0.0
        self._clock = clock
        self._seen: dict[str, deque[float]] = {}

    def allow(self, key: str) -> bool:
        """Count one request of ``key``; False (and not counted) when the window is full."""
        if self.rate is None:
            return True
        now = self._clock()
        seen = self._seen.setdefault(key, deque())
        while seen and seen[0] <= now - self._window:
            seen.popleft()
        if len(seen) >= self._count:
            return False
        seen.append(now)
        return True

    def reset(self) -> None:
        """Forget every request."""
        self._seen.clear()
