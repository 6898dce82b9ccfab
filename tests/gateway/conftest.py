from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
import tenacity

from sferum_plugin.gateway import GatewayConfig, RateLimiter, RetryPolicy, SferumClient
from tests.gateway.fakes import FakeClock, FakeVkApi

TOKEN = "app-token-SECRET-5f2c9e1d7a"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def config() -> GatewayConfig:
    return GatewayConfig(api_base_url="https://api.sferum.test/", id_base_url="https://id.sferum.test")


@pytest.fixture
def fake_api() -> FakeVkApi:
    return FakeVkApi()


@pytest.fixture
def http(fake_api: FakeVkApi) -> Iterator[httpx.Client]:
    with fake_api.client() as client:
        yield client


@pytest.fixture
def waits() -> list[float]:
    """The backoff waits the retry policy asked for (it never really sleeps in tests)."""
    return []


@pytest.fixture
def retry(waits: list[float]) -> RetryPolicy:
    return RetryPolicy(max_attempts=4, wait=tenacity.wait_none(), sleep=waits.append, clock=lambda: NOW)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def limiter(clock: FakeClock) -> RateLimiter:
    return RateLimiter(3.0, 3, clock=clock, sleep=clock.sleep)


@pytest.fixture
def client(config: GatewayConfig, http: httpx.Client, limiter: RateLimiter, retry: RetryPolicy) -> SferumClient:
    return SferumClient(config, TOKEN, http=http, limiter=limiter, retry=retry)
