"""The inbox on PostgreSQL: duplicates racing each other (MAX redelivering while the first POST is still being
answered, two pollers reading the same page) are one row, and nobody's transaction fails."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from sferum_sandbox.max import MaxSandbox, RunningMaxSandbox
from sqlalchemy import Engine

from sferum_plugin import MODULE_NAME
from sferum_plugin.services import inbox, install, max_updates
from sferum_plugin.services.connection import SferumAccess
from tests._db import PG_ENV_VAR, PG_SKIP_REASON, fresh_engine
from tests.inbox.conftest import add_chat, inbox_rows, job, max_settings, sync_scopes
from tests.plugin.fakes import FakeDatabase, FakeHost

USER = {"user_id": 5, "first_name": "Анна", "is_bot": False, "last_activity_time": 0}

pytestmark = [pytest.mark.postgres, pytest.mark.skipif(not os.environ.get(PG_ENV_VAR), reason=PG_SKIP_REASON)]


@pytest.fixture
def pg_engine() -> Iterator[Engine]:
    with fresh_engine(os.environ[PG_ENV_VAR]) as engine:
        install.install(engine)
        yield engine


@pytest.fixture
def pg_host(pg_engine: Engine, max_running: RunningMaxSandbox) -> FakeHost:
    host = FakeHost(db=FakeDatabase(pg_engine))
    host.settings.installed.add(MODULE_NAME)
    host.settings.stored[MODULE_NAME] = max_settings(max_running.url)
    return host


def _at_once(count: int, work: Callable[[], object]) -> list[object]:
    """Run ``work`` in ``count`` threads released together; their results (an exception fails the test)."""
    barrier = threading.Barrier(count)
    results: list[object] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(work())
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


def test_concurrent_duplicates_are_stored_once(pg_host: FakeHost, pg_engine: Engine) -> None:
    body = {"update_type": "user_removed", "timestamp": 7, "chat_id": 100, "user": {"user_id": 5}}

    def store() -> bool:
        with pg_host.db.session() as session:
            return inbox.store_update(session, "max", body, pg_host.clock.now())

    results = _at_once(8, store)
    assert sorted(results, key=bool) == [False] * 7 + [True]
    assert len(inbox_rows(pg_engine)) == 1


def test_pollers_racing_store_each_update_once(pg_host: FakeHost, pg_engine: Engine, max_box: MaxSandbox) -> None:
    for user in max_box.state()["users"][:5]:
        max_box.press_start(user["user_id"])
    _at_once(3, lambda: max_updates.poll_updates(job(pg_host), sferum=SferumAccess()))
    assert sorted(row.update_type for row in inbox_rows(pg_engine)) == ["bot_started"] * 5


def test_two_inbox_jobs_at_once_handle_each_row_once(pg_host: FakeHost, pg_engine: Engine) -> None:
    pk = add_chat(pg_engine, 100)
    with pg_host.db.session() as session:
        for timestamp in range(40):
            body = {"update_type": "user_added", "timestamp": timestamp, "chat_id": 100, "user": USER}
            inbox.store_update(session, "max", body, pg_host.clock.now())
    _at_once(2, lambda: inbox.handle_inbox(job(pg_host, after=timedelta(seconds=1))))
    rows = inbox_rows(pg_engine)
    assert all(row.processed_at is not None for row in rows)
    assert [row.attempts for row in rows] == [1] * 40  # none handled twice
    assert sync_scopes(pg_engine) == {f"chat:{pk}"}
