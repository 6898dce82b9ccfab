"""Live sync workers: one at a time on SQLite, a shared request rate on PostgreSQL, crashed workers forgotten."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from sferum_plugin.account import Account
from sferum_plugin.models import SferumSyncWorker
from sferum_plugin.services import install
from sferum_plugin.services.connection import SferumAccess
from sferum_plugin.services.sync import workers
from sferum_plugin.settings import SferumSettings
from tests._db import PG_ENV_VAR, PG_SKIP_REASON, fresh_engine

NOW = datetime(2026, 9, 2, 9, 0, tzinfo=UTC)
APP = 51234567


def _join(engine: Engine, holder: str, *, now: datetime = NOW, minutes: int = 10) -> int | None:
    with Session(engine) as session, session.begin():
        return workers.join(
            session, account=Account("vk", APP), holder=holder, now=now, until=now + timedelta(minutes=minutes)
        )


def _leave(engine: Engine, holder: str) -> None:
    with Session(engine) as session, session.begin():
        workers.leave(session, holder)


def _rows(engine: Engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(SferumSyncWorker)) or 0


def test_on_sqlite_a_second_worker_waits_for_the_first_to_finish(sqlite_engine: Engine) -> None:
    assert _join(sqlite_engine, "a") == 1
    assert _join(sqlite_engine, "b") is None
    assert _rows(sqlite_engine) == 1  # b was not registered
    assert _join(sqlite_engine, "a") == 1  # a's own row does not lock a out of its next pass
    _leave(sqlite_engine, "a")
    assert _join(sqlite_engine, "b") == 1


def test_a_crashed_workers_row_stops_counting_when_its_time_runs_out(sqlite_engine: Engine) -> None:
    assert _join(sqlite_engine, "crashed", minutes=10) == 1
    assert _join(sqlite_engine, "b", now=NOW + timedelta(minutes=5)) is None
    assert _join(sqlite_engine, "b", now=NOW + timedelta(minutes=11)) == 1
    assert _rows(sqlite_engine) == 1


def test_renewing_keeps_a_long_pass_counted(sqlite_engine: Engine) -> None:
    _join(sqlite_engine, "long", minutes=10)
    with Session(sqlite_engine) as session, session.begin():
        workers.renew(session, "long", NOW + timedelta(minutes=25))
    assert _join(sqlite_engine, "b", now=NOW + timedelta(minutes=20)) is None


@pytest.fixture
def pg_engine() -> Iterator[Engine]:
    if not os.environ.get(PG_ENV_VAR):
        pytest.skip(PG_SKIP_REASON)
    with fresh_engine(os.environ[PG_ENV_VAR]) as engine:
        install.install(engine)
        yield engine


@pytest.mark.postgres
def test_on_postgresql_workers_run_together_and_count_each_other(pg_engine: Engine) -> None:
    assert _join(pg_engine, "a") == 1
    assert _join(pg_engine, "b") == 2
    assert _join(pg_engine, "c", now=NOW + timedelta(minutes=11)) == 1  # a and b crashed long ago
    _leave(pg_engine, "c")
    assert _rows(pg_engine) == 0


def test_a_worker_paces_at_its_share_of_the_configured_rate() -> None:
    settings = SferumSettings.from_stored(
        {"app_id": str(APP), "service_token": "s" * 40, "app_token": "a" * 40, "requests_per_second": "3"}
    )
    assert settings is not None
    sferum = SferumAccess()
    with sferum.organisation(settings) as alone, sferum.organisation(settings, share=3) as shared:
        assert alone._limiter.requests_per_second == 3.0
        assert shared._limiter.requests_per_second == 1.0
    with sferum.organisation(settings, share=3) as again:
        assert again._limiter is shared._limiter  # one limiter per pace, shared by every client of the process


def _statements_to_join_and_leave(engine: Engine) -> int:
    from sqlalchemy import event

    count = [0]

    def listener(*_: object) -> None:
        count[0] += 1

    event.listen(engine, "before_cursor_execute", listener)
    try:
        _join(engine, "counted")
        _leave(engine, "counted")
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return count[0]


def test_joining_and_leaving_costs_three_statements_on_sqlite(sqlite_engine: Engine) -> None:
    _join(sqlite_engine, "someone-else", minutes=-1)  # an expired row: forgotten by the same statement
    assert _statements_to_join_and_leave(sqlite_engine) == 3  # forget + conditional insert, then delete


@pytest.mark.postgres
def test_joining_and_leaving_costs_four_statements_on_postgresql(pg_engine: Engine) -> None:
    assert _statements_to_join_and_leave(pg_engine) == 4  # forget + insert + count, then delete
