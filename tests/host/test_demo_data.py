"""The demo organisation: lessons today in the organisation's time zone, idempotent re-runs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta

import pytest
from flask import Flask
from lms_host import Cabinet
from lms_host.demo import load_demo_data as _load_demo_data
from lms_host.models import Chat, ChatMessage, Employee, Lesson, Student, StudyGroup, User
from sqlalchemy import func, select

from hookspecs.types import PersonKind, PersonStatus, PersonStatusChange
from tests.host.conftest import FakeClock, login, post
from tests.host.fake_plugin import FakePlugin
from tests.host.people import fast_hash


def load_demo_data(cabinet: Cabinet):  # type: ignore[no-untyped-def]
    return _load_demo_data(cabinet, hash_password=fast_hash)


def _counts(cabinet: Cabinet) -> dict[str, int]:
    with cabinet.db.session() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (User, Student, Employee, StudyGroup, Lesson, Chat, ChatMessage)
        }


@pytest.fixture
def empty_app(app_factory: Callable[..., Flask]) -> Flask:
    return app_factory()


# 23:30 UTC on a Sunday is already Monday 02:30 in Moscow: "today" must be the organisation's day.
@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 3, 4, 7, 0, tzinfo=UTC),
        datetime(2026, 3, 8, 23, 30, tzinfo=UTC),
        datetime(2026, 3, 8, 12, tzinfo=UTC),
    ],
)
def test_demo_has_lessons_today_in_org_time_zone_covering_now(
    empty_app: Flask, clock: FakeClock, now: datetime
) -> None:
    clock.current = now
    cabinet = Cabinet.of(empty_app)
    load_demo_data(cabinet)
    today = cabinet.host.clock.today()
    tz = cabinet.host.clock.timezone
    start = datetime.combine(today, time.min, tzinfo=tz)
    with cabinet.db.session() as session:
        lessons = session.scalars(
            select(Lesson).where(Lesson.starts_at >= start, Lesson.starts_at < start + timedelta(days=1))
        ).all()
        teacher = session.scalar(
            select(Employee).join(User, User.id == Employee.user_id).where(User.username == "teacher")
        )
        student = session.scalar(
            select(Student).join(User, User.id == Student.user_id).where(User.username == "student")
        )
    assert teacher is not None
    assert student is not None
    ours = [lesson for lesson in lessons if lesson.teacher_id == teacher.id and lesson.group_id == student.group_id]
    assert ours, "teacher teaches the student's group today"
    assert any(lesson.starts_at <= now < lesson.ends_at for lesson in lessons if lesson.group_id == student.group_id)


def test_demo_data_is_idempotent(empty_app: Flask) -> None:
    cabinet = Cabinet.of(empty_app)
    load_demo_data(cabinet)
    first = _counts(cabinet)
    load_demo_data(cabinet)
    assert _counts(cabinet) == first
    assert first["students"] >= 66
    assert first["employees"] >= 6
    assert first["study_groups"] == 3


def test_demo_organisation_has_the_documented_shape(empty_app: Flask) -> None:
    cabinet = Cabinet.of(empty_app)
    load_demo_data(cabinet)
    with cabinet.db.session() as session:
        per_group = session.execute(select(Student.group_id, func.count()).group_by(Student.group_id)).all()
        statuses = dict(session.execute(select(Student.status, func.count()).group_by(Student.status)).all())
        dismissed = session.scalar(select(func.count()).select_from(Employee).where(Employee.status == "dismissed"))
        without_email = session.scalar(select(func.count()).select_from(Student).where(Student.email == ""))
        emails = session.scalars(select(Student.email).where(Student.email != "")).all()
    assert all(count >= 20 for _group, count in per_group)
    assert statuses["expelled"] > 0
    assert dismissed
    assert without_email
    assert all(email.endswith("@students.example.edu") for email in emails)


def test_demo_accounts_sign_in_with_password_demo(empty_app: Flask) -> None:
    load_demo_data(Cabinet.of(empty_app))
    client = empty_app.test_client()
    for username in ("admin", "teacher", "student", "employee"):
        assert login(client, username).status_code == 302, username
        post(client, "/logout")


def test_rerun_after_next_week_begins_adds_the_new_week(empty_app: Flask, clock: FakeClock) -> None:
    cabinet = Cabinet.of(empty_app)
    load_demo_data(cabinet)
    lessons = _counts(cabinet)["lessons"]
    clock.current += timedelta(days=7)
    summary = load_demo_data(cabinet)
    assert summary.lessons_created > 0
    assert _counts(cabinet)["lessons"] == lessons + summary.lessons_created


def test_rerun_restores_changed_people_and_notifies_plugins(empty_app: Flask, fake_plugin: FakePlugin) -> None:
    cabinet = Cabinet.of(empty_app)
    load_demo_data(cabinet)
    client = empty_app.test_client()
    login(client, "admin")
    post(client, "/admin/modules/fake/install")
    with cabinet.db.session() as session:
        student = session.scalar(select(Student).where(Student.record_number == "S-ИВТ-21-05"))
        assert student is not None
        student.status = "expelled"
        student_id = student.id
    fake_plugin.calls["status"].clear()
    load_demo_data(cabinet)
    assert fake_plugin.calls["status"] == [
        [PersonStatusChange(student_id, PersonKind.STUDENT, PersonStatus.EXPELLED, PersonStatus.ACTIVE)]
    ]


def test_demo_lessons_never_overlap_for_a_group_or_a_teacher(empty_app: Flask) -> None:
    cabinet = Cabinet.of(empty_app)
    load_demo_data(cabinet)
    with cabinet.db.session() as session:
        lessons = session.scalars(select(Lesson).order_by(Lesson.starts_at)).all()
    for key in ("group_id", "teacher_id"):
        busy: dict[int, datetime] = {}
        for lesson in lessons:
            owner = getattr(lesson, key)
            assert busy.get(owner, lesson.starts_at) <= lesson.starts_at, (key, lesson.subject, lesson.starts_at)
            busy[owner] = lesson.ends_at
