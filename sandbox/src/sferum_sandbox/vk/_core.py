"""The sandbox's internals in one place: configuration, state, lock, clocks, faults and limits.

``Sandbox`` (the public face) owns one ``SandboxCore``; the dispatcher, VK ID and the pages work on it.
Every read or change of ``state`` happens under ``lock`` (one re-entrant lock for the whole sandbox: the
threaded HTTP server runs requests concurrently, and a simple total order is what a test wants).
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable

import attrs

from ._demo import seed_demo_organisation
from ._faults import FaultInjector
from ._ratelimit import TokenBucketLimiter
from ._schema import ApiContract
from ._state import TOKEN_USER, AccessToken, SferumState


@attrs.define(repr=False)
class SandboxCore:
    """Configuration and mutable internals of one sandbox."""

    app_id: int
    app_token: str
    service_token: str
    seed: int
    contract: ApiContract
    clock: Callable[[], float]
    wall_clock: Callable[[], float]
    sleep: Callable[[float], None]
    rate_limit_per_second: float | None
    lock: threading.RLock = attrs.field(factory=threading.RLock)
    state: SferumState = attrs.field(factory=SferumState)
    request_counts: Counter[str] = attrs.field(factory=Counter)
    call_counts: Counter[str] = attrs.field(factory=Counter)
    """Method calls, each call inside an ``execute`` counted under its own name (``execute`` itself is not)."""
    write_counts: Counter[str] = attrs.field(factory=Counter)
    """Calls that changed Sferum (``WRITE_METHODS`` in ``_dispatch``), those inside an ``execute`` included."""
    rng: random.Random = attrs.field(init=False)
    faults: FaultInjector = attrs.field(init=False)
    limiter: TokenBucketLimiter = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.faults = FaultInjector(self.lock, self.seed)
        self.limiter = TokenBucketLimiter(self.rate_limit_per_second, self.clock)
        self.reset()

    def __repr__(self) -> str:
        return f"SandboxCore(app_id={self.app_id!r})"  # never the tokens

    def now(self) -> int:
        """Unix time in whole seconds (join dates, token dates)."""
        return int(self.wall_clock())

    def reset(self) -> None:
        """Return to the freshly seeded demo organisation: no chats, calls, grants, faults or counts."""
        with self.lock:
            self.state = SferumState()
            seed_demo_organisation(
                self.state, app_token=self.app_token, service_token=self.service_token, now=self.now()
            )
            self.rng.seed(self.seed)
            self.faults.reset(self.seed)
            self.limiter.reset()
            self.request_counts.clear()
            self.call_counts.clear()
            self.write_counts.clear()

    def random_secret(self, prefix: str, length: int = 40) -> str:
        """A token-like secret from the seeded generator (deterministic for a seed and call order)."""
        return prefix + "".join(self.rng.choice("abcdef0123456789") for _ in range(length))

    def issue_user_token(self, user_id: int, lifetime_seconds: int) -> AccessToken:
        """Create a user access token for ``user_id`` valid for ``lifetime_seconds``."""
        with self.lock:
            token = AccessToken(
                self.random_secret("vk1.a.sandbox."),
                TOKEN_USER,
                user_id,
                issued_at=self.now(),
                expires_at=self.clock() + lifetime_seconds,
                expire_unix=self.now() + lifetime_seconds,
            )
            self.state.tokens[token.value] = token
            return token
