"""Fixtures for the MAX sandbox tests: a sandbox with fake clocks served on a free loopback port, a Bot API client
whose every answer is checked against MAX's OpenAPI document, and a webhook receiver."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sferum_sandbox.max import MaxSandbox, RunningMaxSandbox, serve

from tests.sandbox_max.maxbot import WALL_START, FakeClock, SleepRecorder, WebhookReceiver, bot_client, check_update


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
def sandbox(clock: FakeClock, wall_clock: FakeClock, sleeps: SleepRecorder) -> MaxSandbox:
    return MaxSandbox(
        seed=7,
        clock=clock,
        wall_clock=wall_clock,
        sleep=sleeps,
        rate_limit_per_second=None,
        long_poll_max_wait=0.2,
        webhook_timeout=5.0,
    )


@pytest.fixture
def running(sandbox: MaxSandbox) -> Iterator[RunningMaxSandbox]:
    with serve(sandbox, deliver_webhooks=False) as running:
        yield running


@pytest.fixture
def api(running: RunningMaxSandbox) -> Iterator[httpx.Client]:
    with bot_client(running.url) as client:
        yield client


@pytest.fixture
def people(sandbox: MaxSandbox) -> list[int]:
    """The demo people's ids."""
    return [user["user_id"] for user in sandbox.state()["users"]]


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    receiver.start()
    yield receiver
    receiver.stop()
    for update in receiver.updates:  # every body the sandbox POSTed is an Update of the document
        check_update(update)
