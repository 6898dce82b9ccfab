"""The Directory service: bulk answers, one query per call."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from lms_host import Cabinet
from lms_host.models import Lesson
from sqlalchemy import event

from hookspecs.services import Host
from hookspecs.types import GroupInfo, PersonKind
from tests.host.people import Seeded


@contextmanager
def one_query(cabinet: Cabinet) -> Iterator[None]:
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(cabinet.db.engine, "before_cursor_execute", record)
    try:
        yield
    finally:
        event.remove(cabinet.db.engine, "before_cursor_execute", record)
    assert len(statements) == 1, statements


def test_host_satisfies_the_contract_protocol(cabinet: Cabinet) -> None:
    assert isinstance(cabinet.host, Host)


def test_people_by_kind(cabinet: Cabinet, seeded: Seeded) -> None:
    ids = [seeded.student_id, *seeded.other_student_ids, 999]
    with one_query(cabinet):
        people = cabinet.host.directory.people(PersonKind.STUDENT, ids)
    assert sorted(people) == sorted(ids[:-1])
    assert people[seeded.student_id].full_name == "Кузнецов Алексей Игоревич"
    assert people[seeded.student_id].group_id == seeded.group_id
    assert not people[seeded.other_student_ids[2]].active
    with one_query(cabinet):
        employees = cabinet.host.directory.people(PersonKind.EMPLOYEE, [seeded.teacher_id])
    assert employees[seeded.teacher_id].unit_id == seeded.unit_id


def test_people_by_user(cabinet: Cabinet, seeded: Seeded) -> None:
    people = cabinet.host.directory.people(PersonKind.STUDENT, [seeded.student_id])
    teacher = cabinet.host.directory.people(PersonKind.EMPLOYEE, [seeded.teacher_id])[seeded.teacher_id]
    student_user = people[seeded.student_id].user_id
    assert student_user is not None
    assert teacher.user_id is not None
    with one_query(cabinet):
        by_user = cabinet.host.directory.people_by_user([student_user, teacher.user_id, 12345])
    assert [p.kind for p in by_user[student_user]] == [PersonKind.STUDENT]
    assert [p.id for p in by_user[teacher.user_id]] == [seeded.teacher_id]
    assert 12345 not in by_user


def test_group_and_unit_members(cabinet: Cabinet, seeded: Seeded) -> None:
    with one_query(cabinet):
        members = cabinet.host.directory.group_members([seeded.group_id, seeded.other_group_id])
    assert [p.full_name for p in members[seeded.group_id]] == ["Андреева Мария Олеговна", "Кузнецов Алексей Игоревич"]
    assert len(members[seeded.other_group_id]) == 2  # the expelled student is listed too
    with one_query(cabinet):
        units = cabinet.host.directory.unit_members([seeded.unit_id, seeded.other_unit_id])
    assert [p.id for p in units[seeded.unit_id]] == [seeded.teacher_id]
    assert [p.id for p in units[seeded.other_unit_id]] == [seeded.employee_id]


def test_group_staff_are_teachers_and_curators(cabinet: Cabinet, seeded: Seeded) -> None:
    start = datetime(2026, 3, 2, 6, tzinfo=UTC)
    with cabinet.db.session() as session:
        session.add(
            Lesson(
                subject="X",
                starts_at=start,
                ends_at=start + timedelta(hours=1),
                group_id=seeded.other_group_id,
                teacher_id=seeded.employee_id,
            )
        )
        session.add(
            Lesson(
                subject="Y",
                starts_at=start,
                ends_at=start + timedelta(hours=1),
                group_id=seeded.group_id,
                teacher_id=seeded.teacher_id,
            )
        )
    with one_query(cabinet):
        staff = cabinet.host.directory.group_staff([seeded.group_id, seeded.other_group_id])
    assert [p.id for p in staff[seeded.group_id]] == [seeded.teacher_id]  # teacher and curator, once
    assert [p.id for p in staff[seeded.other_group_id]] == [seeded.employee_id]


def test_titles_and_lessons(cabinet: Cabinet, seeded: Seeded) -> None:
    with one_query(cabinet):
        assert cabinet.host.directory.groups() == {seeded.group_id: "ИВТ-21", seeded.other_group_id: "ПМ-22"}
    assert cabinet.host.directory.units([seeded.unit_id]) == {seeded.unit_id: "Кафедра информатики"}
    start = datetime(2026, 3, 2, 6, tzinfo=UTC)
    with cabinet.db.session() as session:
        lesson = Lesson(
            subject="Базы данных",
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            group_id=seeded.group_id,
            teacher_id=seeded.teacher_id,
            room="301",
        )
        session.add(lesson)
        session.flush()
        lesson_id = lesson.id
    with one_query(cabinet):
        refs = cabinet.host.directory.lessons([lesson_id])
    ref = refs[lesson_id]
    assert ref.starts_at == start
    assert ref.local_time.hour == 9  # Moscow
    assert ref.starts_at.utcoffset() == timedelta(hours=3)
    assert [r.id for r in cabinet.host.directory.lessons_between(start, start + timedelta(minutes=1))] == [lesson_id]
    assert cabinet.host.directory.lessons_between(start + timedelta(minutes=1), start + timedelta(hours=2)) == []


def test_group_infos_tell_each_groups_unit_and_year_in_one_query(cabinet: Cabinet, seeded: Seeded) -> None:
    with one_query(cabinet):
        infos = cabinet.host.directory.group_infos()
    assert list(infos.values()) == [
        GroupInfo(id=seeded.group_id, title="ИВТ-21", unit_id=seeded.unit_id, year=2),
        GroupInfo(id=seeded.other_group_id, title="ПМ-22", unit_id=seeded.unit_id, year=1),
    ]
    with one_query(cabinet):
        some = cabinet.host.directory.group_infos([seeded.other_group_id, 999])
    assert list(some) == [seeded.other_group_id]
    with one_query(cabinet):
        assert cabinet.host.directory.group_infos([]) == {}


def test_search_people_finds_active_people_by_name_or_email(cabinet: Cabinet, seeded: Seeded) -> None:
    with one_query(cabinet):
        found = cabinet.host.directory.search_people("ов")
    names = [person.full_name for person in found]
    assert "Волкова Екатерина Юрьевна" not in names  # expelled
    assert "Петров Иван Сергеевич" in names
    assert "Борисов Денис Андреевич" in names
    assert [p.full_name for p in cabinet.host.directory.search_people("SIDOROVA@")] == ["Сидорова Анна Павловна"]
    assert cabinet.host.directory.search_people("   ") == []
    assert len(cabinet.host.directory.search_people("ов", limit=2)) == 2
