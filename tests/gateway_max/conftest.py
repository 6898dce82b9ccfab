from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import tenacity

from sferum_plugin.gateway import RateLimiter, RetryPolicy
from sferum_plugin.gateway.max import MaxClient, MaxConfig
from tests.gateway.fakes import FakeClock
from tests.gateway_max.fakes import FakeMaxApi

TOKEN = "max-bot-token-SECRET-7c41a9e0b2"


@pytest.fixture
def config() -> MaxConfig:
    return MaxConfig(base_url="https://max.test/")


@pytest.fixture
def api() -> FakeMaxApi:
    return FakeMaxApi()


@pytest.fixture
def http(api: FakeMaxApi) -> Iterator[httpx.Client]:
    with api.client() as client:
        yield client


@pytest.fixture
def waits() -> list[float]:
    """The waits the retry policy asked for between attempts (it never really sleeps in tests)."""
    return []


@pytest.fixture
def retry(waits: list[float]) -> RetryPolicy:
    return RetryPolicy(max_attempts=4, wait=tenacity.wait_none(), sleep=waits.append)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def limiter(clock: FakeClock) -> RateLimiter:
    return RateLimiter(30.0, 1, clock=clock, sleep=clock.sleep)


@pytest.fixture
def client(config: MaxConfig, http: httpx.Client, limiter: RateLimiter, retry: RetryPolicy) -> MaxClient:
    return MaxClient(config, TOKEN, http=http, limiter=limiter, retry=retry)
