"""Fixtures for the sync tests: an installed database, a people directory, and Sferum in-process."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import tenacity
from sferum_sandbox import DEFAULT_APP_ID, DEFAULT_APP_TOKEN, Sandbox
from sferum_sandbox.max import MaxSandbox, RunningMaxSandbox, serve
from sqlalchemy import Engine

from sferum_plugin.gateway import GatewayConfig, RetryPolicy, SferumClient
from tests._db import installed_sqlite
from tests.plugin.fakes import FakeDatabase, FakeHost
from tests.sync.max_world import MaxWorld, bot_connection
from tests.sync.world import World


@pytest.fixture
def sqlite_engine(tmp_path) -> Iterator[Engine]:
    with installed_sqlite(tmp_path) as engine:
        yield engine


@pytest.fixture
def host(sqlite_engine: Engine) -> FakeHost:
    return FakeHost(db=FakeDatabase(sqlite_engine))


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(rate_limit_per_second=None)


def make_client(box: Sandbox, http: httpx.Client) -> SferumClient:
    """A client for the organisation with no pacing and zero retry waits."""
    config = GatewayConfig(api_base_url="http://sferum.test", requests_per_second=1000.0, burst=1_000_000)
    retry = RetryPolicy(max_attempts=3, wait=tenacity.wait_none(), sleep=lambda _: None)
    return SferumClient(config, DEFAULT_APP_TOKEN, http=http, retry=retry)


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[SferumClient]:
    with httpx.Client(transport=httpx.WSGITransport(app=sandbox.wsgi_app)) as http:
        yield make_client(sandbox, http)


@pytest.fixture
def world(host: FakeHost, sandbox: Sandbox, client: SferumClient) -> World:
    return World(host=host, box=sandbox, api=client, app_id=DEFAULT_APP_ID)


@pytest.fixture
def max_sandbox() -> MaxSandbox:
    return MaxSandbox(seed=3, rate_limit_per_second=None, long_poll_max_wait=0.1)


@pytest.fixture
def max_running(max_sandbox: MaxSandbox) -> Iterator[RunningMaxSandbox]:
    """The MAX sandbox served over real HTTP on a free loopback port."""
    with serve(max_sandbox, deliver_webhooks=False) as running:
        yield running


@pytest.fixture
def max_world(host: FakeHost, max_sandbox: MaxSandbox, max_running: RunningMaxSandbox) -> Iterator[MaxWorld]:
    with bot_connection(max_running) as client:
        yield MaxWorld(host=host, box=max_sandbox, client=client)
