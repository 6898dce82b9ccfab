"""Pacing: a token bucket per token keeps bursts within the configured rate (counted on a fake clock)."""

from __future__ import annotations

import threading

import httpx
import pytest

from sferum_plugin.gateway import GatewayConfig, RateLimiter, RetryPolicy, SferumClient
from sferum_plugin.gateway.ratelimit import token_key
from tests.gateway.conftest import TOKEN
from tests.gateway.fakes import FakeClock, FakeVkApi, ok


def _within_bucket(times: list[float], rate: float, burst: int) -> bool:
    """The token bucket's promise: any n consecutive requests span at least (n - burst) / rate seconds."""
    return all(
        j - i + 1 <= burst + rate * (times[j] - times[i]) + 1e-9
        for i in range(len(times))
        for j in range(i, len(times))
    )


def test_a_burst_of_30_calls_stays_within_3_per_second(clock: FakeClock) -> None:
    limiter = RateLimiter(3.0, 3, clock=clock, sleep=clock.sleep)
    sent_at = []

    for _ in range(30):
        limiter.acquire(TOKEN)
        sent_at.append(clock())

    # Three go at once, the other 27 wait a third of a second each.
    assert len(clock.sleeps) == 27
    assert sum(clock.sleeps) == pytest.approx(9.0)
    assert sent_at[-1] - sent_at[0] == pytest.approx(9.0)
    assert _within_bucket(sent_at, rate=3.0, burst=3)
    assert not _within_bucket(sent_at, rate=3.0, burst=2)


def test_the_client_paces_its_requests(
    config: GatewayConfig, fake_api: FakeVkApi, http: httpx.Client, retry: RetryPolicy, clock: FakeClock
) -> None:
    limiter = RateLimiter(config.requests_per_second, 5, clock=clock, sleep=clock.sleep)
    client = SferumClient(config, TOKEN, http=http, limiter=limiter, retry=retry)
    fake_api.on("messages.editChat", ok(1))

    for _ in range(30):
        client.rename_chat(7, "New")

    assert len(fake_api.requests) == 30
    assert len(clock.sleeps) == 25
    assert sum(clock.sleeps) == pytest.approx(25 / 3)


def test_tokens_have_separate_buckets_keyed_by_a_hash(clock: FakeClock) -> None:
    limiter = RateLimiter(3.0, 3, clock=clock, sleep=clock.sleep)

    for _ in range(3):
        limiter.acquire("first-token-0000")
        limiter.acquire("second-token-000")

    assert clock.sleeps == []
    assert "first-token-0000" not in repr(vars(limiter))
    assert token_key("first-token-0000") in limiter._buckets
    assert len(token_key(TOKEN)) == 16


def test_an_idle_bucket_refills_up_to_the_burst(clock: FakeClock) -> None:
    limiter = RateLimiter(3.0, 3, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        limiter.acquire(TOKEN)

    clock.now += 60.0  # a long pause does not save up more than the burst
    waited = [limiter.acquire(TOKEN) for _ in range(4)]

    assert waited[:3] == [0.0, 0.0, 0.0]
    assert waited[3] == pytest.approx(1 / 3)


def test_threads_sharing_a_token_queue_up_instead_of_bursting() -> None:
    lock = threading.Lock()
    now = [0.0]
    planned: list[float] = []

    def sleep(seconds: float) -> None:
        with lock:
            planned.append(seconds)

    limiter = RateLimiter(3.0, 3, clock=lambda: now[0], sleep=sleep)
    threads = [threading.Thread(target=limiter.acquire, args=(TOKEN,)) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # With the clock frozen, each thread reserved its own slot: waits of 1/3, 2/3, ... 3 seconds.
    assert sorted(round(w * 3) for w in planned) == list(range(1, 10))
