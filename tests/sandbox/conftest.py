"""Fixtures for the sandbox tests: a sandbox with fake clocks, served on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sferum_sandbox import DEFAULT_APP_TOKEN, DEFAULT_SERVICE_TOKEN, RunningSandbox, Sandbox, serve

from tests import vk_schema

API_VERSION = "5.199"
WALL_START = 1_760_000_000.0


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class SleepRecorder:
    """Stands in for time.sleep: records the delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


class VkApi:
    """Calls the sandbox the way VK clients do: POST form with access_token and v."""

    def __init__(self, client: httpx.Client, token: str = DEFAULT_APP_TOKEN) -> None:
        self.client = client
        self.token = token

    def raw(self, method: str, access_token: str | None = None, **params: Any) -> dict[str, Any]:
        data = {"access_token": access_token or self.token, "v": API_VERSION}
        data.update({key: str(value) for key, value in params.items()})
        response = self.client.post(f"/method/{method}", data=data)
        assert response.status_code == 200
        body: dict[str, Any] = response.json()
        return body

    def ok(self, method: str, access_token: str | None = None, **params: Any) -> Any:
        """Call ``method``, assert success and a schema-valid reply, return the ``response`` value."""
        body = self.raw(method, access_token, **params)
        assert "error" not in body, body
        vk_schema.validate_response(method, body)
        return body["response"]

    def error(self, method: str, access_token: str | None = None, **params: Any) -> dict[str, Any]:
        """Call ``method``, assert an error reply, return the ``error`` object."""
        body = self.raw(method, access_token, **params)
        assert "response" not in body, body
        error: dict[str, Any] = body["error"]
        assert set(error) == {"error_code", "error_msg", "request_params"}
        return error


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(500.0)


@pytest.fixture
def wall_clock() -> FakeClock:
    return FakeClock(WALL_START)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def sandbox(clock: FakeClock, wall_clock: FakeClock, sleeps: SleepRecorder) -> Sandbox:
    return Sandbox(seed=7, clock=clock, wall_clock=wall_clock, sleep=sleeps, rate_limit_per_second=None)


@pytest.fixture
def running(sandbox: Sandbox) -> Iterator[RunningSandbox]:
    with serve(sandbox) as running:
        yield running


@pytest.fixture
def http(running: RunningSandbox) -> Iterator[httpx.Client]:
    # Plain HTTP on loopback: verify=False only skips building a TLS context (~0.15 s per client).
    with httpx.Client(base_url=running.url, timeout=5.0, verify=False) as client:
        yield client


@pytest.fixture
def api(http: httpx.Client) -> VkApi:
    return VkApi(http)


@pytest.fixture
def service_api(http: httpx.Client) -> VkApi:
    return VkApi(http, DEFAULT_SERVICE_TOKEN)
