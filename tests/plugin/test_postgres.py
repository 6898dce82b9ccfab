"""The module on PostgreSQL, the production target: migrations, and concurrent starts of one online lesson."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, inspect, select

from sferum_plugin.gateway.domain import StartedCall
from sferum_plugin.models import OnlineLesson, ProfileLink
from sferum_plugin.services import install, lessons
from sferum_plugin.services.lessons import LessonRefused
from tests._db import PG_ENV_VAR, PG_SKIP_REASON, fresh_engine
from tests.plugin.fakes import FakeDatabase, FakeHost
from tests.plugin.test_lessons import NOW, SETTINGS, TEACHER, _lesson

pytestmark = [pytest.mark.postgres, pytest.mark.skipif(not os.environ.get(PG_ENV_VAR), reason=PG_SKIP_REASON)]


@pytest.fixture
def pg_engine() -> Iterator[Engine]:
    with fresh_engine(os.environ[PG_ENV_VAR], pool_size=10) as engine:
        yield engine


def test_migrations_upgrade_and_downgrade_on_postgresql(pg_engine: Engine) -> None:
    install.install(pg_engine)
    assert {"sferum_profile_links", "sferum_online_lessons"} <= set(inspect(pg_engine).get_table_names())
    install.downgrade(pg_engine, "0001")
    assert "sferum_online_lessons" not in inspect(pg_engine).get_table_names()
    install.upgrade(pg_engine)
    install.uninstall(pg_engine, keep_data=False)
    assert not [t for t in inspect(pg_engine).get_table_names() if t.startswith("sferum_")]


class SlowCalls:
    """Holds the first calls.start open until every other worker has tried, so the starts really overlap."""

    def __init__(self, workers: int) -> None:
        self.started = 0
        self.lock = threading.Lock()
        self.others_done = threading.Semaphore(0)
        self.workers = workers

    def start_call(self) -> StartedCall:
        with self.lock:
            self.started += 1
            number = self.started
        for _ in range(self.workers - 1):
            self.others_done.acquire(timeout=10)
        return StartedCall(join_link=f"https://call.test/{number}", call_id=f"call-{number}")

    def finish_call(self, call_id: str) -> bool:
        return True


def test_concurrent_starts_create_exactly_one_call(pg_engine: Engine) -> None:
    install.install(pg_engine)
    host = FakeHost(db=FakeDatabase(pg_engine))
    host.clock.current = NOW
    host.directory.lesson_list = [_lesson(1)]
    with host.db.session() as session:
        session.add(
            ProfileLink(
                platform="vk", app_id=SETTINGS.app_id, user_id=TEACHER.user_id, sferum_user_id=1001, linked_at=NOW
            )
        )
    workers = 6
    calls = SlowCalls(workers)
    barrier = threading.Barrier(workers)
    outcomes: list[str] = []

    def worker() -> None:
        barrier.wait()
        try:
            lessons.start_lesson(host, TEACHER, 1, SETTINGS, lambda settings: calls)
            outcomes.append("started")
        except LessonRefused as refused:
            outcomes.append(refused.reason)
            calls.others_done.release()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert calls.started == 1
    assert outcomes.count("started") == 1
    assert all("уже" in outcome for outcome in outcomes if outcome != "started")
    with host.db.session() as session:
        assert [row.state for row in session.scalars(select(OnlineLesson))] == ["active"]
