"""Pacing: every request, retries included, waits its turn on the bot token's key; counted on a fake clock."""

from __future__ import annotations

import httpx

from sferum_plugin.gateway import RateLimiter, RetryPolicy
from sferum_plugin.gateway.max import MaxClient, MaxConfig
from sferum_plugin.gateway.ratelimit import token_key
from tests.gateway.fakes import FakeClock
from tests.gateway_max import fakes
from tests.gateway_max.conftest import TOKEN
from tests.gateway_max.fakes import FakeMaxApi, error, reply


class RecordingLimiter(RateLimiter):
    """The real limiter, noting which key each request waited on and when it went."""

    def __init__(self, clock: FakeClock, requests_per_second: float, burst: int) -> None:
        super().__init__(requests_per_second, burst, clock=clock, sleep=clock.sleep)
        self.clock = clock
        self.keys: list[str] = []
        self.sent_at: list[float] = []

    def acquire_key(self, key: str) -> float:
        waited = super().acquire_key(key)
        self.keys.append(key)
        self.sent_at.append(self.clock())
        return waited


def test_ninety_calls_at_maxs_30_per_second_take_at_least_two_seconds_without_sleeping(
    api: FakeMaxApi, http: httpx.Client, retry: RetryPolicy, clock: FakeClock
) -> None:
    config = MaxConfig(base_url="https://max.test")
    limiter = RecordingLimiter(clock, config.requests_per_second, config.burst)
    client = MaxClient(config, TOKEN, http=http, limiter=limiter, retry=retry)
    api.on("DELETE", "/chats/{chatId}/members", reply(200, fakes.success()))

    for user_id in range(90):
        client.remove_member(-1, user_id)

    assert len(api.served) == 90
    assert limiter.keys == [token_key(TOKEN)] * 90
    assert clock.sleeps, "the fake clock recorded the waits; nothing really slept"
    # Whatever the limiter's algorithm, 30 a second means 90 requests span at least (90 - 30) / 30 seconds.
    assert limiter.sent_at[-1] - limiter.sent_at[0] >= 2.0
    # MAX's defaults (30/s, burst 1) spread requests out: every one after the first waits at least 1/30 s.
    assert len(clock.sleeps) == 89
    assert sum(clock.sleeps) >= 89 / 30 - 1e-9


def test_a_retry_waits_its_turn_too(
    api: FakeMaxApi, http: httpx.Client, retry: RetryPolicy, clock: FakeClock, config: MaxConfig
) -> None:
    limiter = RecordingLimiter(clock, 30.0, 1)
    client = MaxClient(config, TOKEN, http=http, limiter=limiter, retry=retry)
    api.on("GET", "/me", error(429, "too.many.requests"), reply(200, fakes.bot_info()))

    client.get_me()

    assert limiter.keys == [token_key(TOKEN)] * 2


def test_two_bots_do_not_share_a_pace(
    api: FakeMaxApi, http: httpx.Client, retry: RetryPolicy, clock: FakeClock
) -> None:
    config = MaxConfig(base_url="https://max.test")
    limiter = RecordingLimiter(clock, 30.0, 1)
    first = MaxClient(config, TOKEN, http=http, limiter=limiter, retry=retry)
    second = MaxClient(config, "another-bot-token-0000", http=http, limiter=limiter, retry=retry)
    api.on("GET", "/me", reply(200, fakes.bot_info()))

    first.get_me()
    second.get_me()

    assert clock.sleeps == []
    assert limiter.keys == [token_key(TOKEN), token_key("another-bot-token-0000")]
