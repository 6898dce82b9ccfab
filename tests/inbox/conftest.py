"""Fixtures for MAX's events: the MAX sandbox over real HTTP (webhook delivery driven by the test, on a fake clock),
the module's tables on SQLite, and a host whose settings choose MAX."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sferum_sandbox.max import DEFAULT_BOT_TOKEN, MaxSandbox, RunningMaxSandbox, serve
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from hookspecs.types import JobContext
from sferum_plugin import MODULE_NAME
from sferum_plugin.account import Account
from sferum_plugin.models import SferumChat, SferumInbox, SferumSyncRequest
from sferum_plugin.services.connection import SferumAccess
from tests._db import installed_sqlite
from tests._sferum import no_wait_access
from tests.plugin.fakes import FakeDatabase, FakeHost
from tests.sandbox_max.maxbot import WALL_START, FakeClock

MAX_ACCOUNT = Account("max", 0)
SECRET = "inbox-webhook-Secret_0123456789"


@pytest.fixture
def max_clock() -> FakeClock:
    """The sandbox's monotonic clock: webhook redelivery is due when the test advances it."""
    return FakeClock(1000.0)


@pytest.fixture
def max_box(max_clock: FakeClock) -> MaxSandbox:
    return MaxSandbox(
        seed=11,
        clock=max_clock,
        wall_clock=FakeClock(WALL_START),
        sleep=lambda seconds: None,
        rate_limit_per_second=None,
        long_poll_max_wait=0.0,
        webhook_timeout=5.0,
    )


@pytest.fixture
def max_running(max_box: MaxSandbox) -> Iterator[RunningMaxSandbox]:
    with serve(max_box, deliver_webhooks=False) as running:
        yield running


@pytest.fixture
def engine(tmp_path) -> Iterator[Engine]:
    with installed_sqlite(tmp_path) as engine:
        yield engine


def max_settings(api_url: str, updates: str = "polling", webhook_url: str = "") -> dict[str, str]:
    """The module's stored settings choosing MAX."""
    return {
        "platform": "max",
        "max_bot_token": DEFAULT_BOT_TOKEN,
        "max_api_url": api_url,
        "max_updates": updates,
        "max_webhook_url": webhook_url,
        "max_webhook_secret": SECRET if updates == "webhook" else "",
        "timeout_seconds": "5",
    }


@pytest.fixture
def host(engine: Engine, max_running: RunningMaxSandbox) -> FakeHost:
    host = FakeHost(db=FakeDatabase(engine))
    host.settings.installed.add(MODULE_NAME)
    host.settings.stored[MODULE_NAME] = max_settings(max_running.url)
    return host


@pytest.fixture
def sferum() -> SferumAccess:
    return no_wait_access()


def job(host: FakeHost, *, after: timedelta = timedelta()) -> JobContext:
    """The context of one job run, ``after`` the host's current time."""
    return JobContext(host=host, now=host.clock.now() + after)


def inbox_rows(engine: Engine) -> list[SferumInbox]:
    with Session(engine) as session:
        rows = list(session.scalars(select(SferumInbox).order_by(SferumInbox.id)).all())
        session.expunge_all()
    return rows


def sync_scopes(engine: Engine) -> set[str]:
    with Session(engine) as session:
        return set(session.scalars(select(SferumSyncRequest.scope)).all())


def add_chat(engine: Engine, chat_id: int, *, account: Account = MAX_ACCOUNT, title: str = "ИВТ-21") -> int:
    """A chat the module manages (state ``active``); returns its pk."""
    from datetime import UTC, datetime

    with Session(engine) as session, session.begin():
        chat = SferumChat(
            **account.columns(),
            kind="group",
            target_id=chat_id % 100_000,
            title=title,
            marker=f"m{chat_id}",
            state="active",
            chat_id=chat_id,
            created_by=1,
            created_at=datetime(2026, 11, 1, tzinfo=UTC),
        )
        session.add(chat)
        session.flush()
        return chat.id
