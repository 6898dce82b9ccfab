"""The host on PostgreSQL: migrations, demo data, pages and bulk queries (needs SFERUM_TEST_DATABASE_URL)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from lms_host import Cabinet
from lms_host.demo import load_demo_data
from lms_host.jobs import run_due_jobs
from lms_host.models import Base, Lesson, Student
from sqlalchemy import func, select

from hookspecs.types import PersonKind
from tests.host.conftest import login, post
from tests.host.people import fast_hash

pytestmark = pytest.mark.postgres


def test_init_db_and_demo_data_on_postgresql(app_factory: Callable[..., Flask], pg_url: str) -> None:
    app = app_factory(LMS_DATABASE_URL=pg_url)
    cabinet = Cabinet.of(app)
    assert cabinet.db.engine.dialect.name == "postgresql"
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    assert runner.invoke(args=["init-db"]).exit_code == 0
    with cabinet.db.engine.connect() as connection:
        assert list(compare_metadata(MigrationContext.configure(connection), Base.metadata)) == []
    load_demo_data(cabinet, hash_password=fast_hash)
    with cabinet.db.session() as session:
        counts = (
            session.scalar(select(func.count()).select_from(Student)),
            session.scalar(select(func.count()).select_from(Lesson)),
        )
    load_demo_data(cabinet, hash_password=fast_hash)
    with cabinet.db.session() as session:
        again = (
            session.scalar(select(func.count()).select_from(Student)),
            session.scalar(select(func.count()).select_from(Lesson)),
        )
    assert counts == again
    start = datetime.combine(cabinet.host.clock.today(), time.min, tzinfo=cabinet.host.clock.timezone)
    assert cabinet.host.directory.lessons_between(start, start + timedelta(days=1))


def test_pages_and_directory_on_postgresql(app_factory: Callable[..., Flask], pg_url: str) -> None:
    app = app_factory(LMS_DATABASE_URL=pg_url)
    cabinet = Cabinet.of(app)
    # Self-contained even when run alone; on the shared module database this also re-runs both commands.
    assert app.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
    load_demo_data(cabinet, hash_password=fast_hash)
    client = app.test_client()
    assert login(client, "admin").status_code == 302
    assert post(client, "/admin/modules/fake/install").status_code == 302
    assert "Фейк идёт" in client.get("/schedule").get_data(as_text=True)
    assert client.get("/students?q=кузнецов").get_data(as_text=True).count("Кузнецов Алексей Игоревич") >= 1
    groups = cabinet.host.directory.groups()
    members = cabinet.host.directory.group_members(groups)
    assert all(len(people) >= 20 for people in members.values())
    staff = cabinet.host.directory.group_staff(groups)
    assert all(staff[group_id] for group_id in groups)
    found = cabinet.host.directory.search_people("КУЗНЕЦОВ")
    assert any(person.kind == PersonKind.STUDENT for person in found)
    assert run_due_jobs(cabinet, owner="a") == ["fake.tick"]
    assert run_due_jobs(cabinet, owner="b") == []
    settings = post(
        client, "/admin/modules/fake/settings", {"api_url": "https://a.example", "api_token": "pg-token-123456"}
    )
    assert settings.status_code == 302
    assert cabinet.settings.get("fake")["api_token"] == "pg-token-123456"
