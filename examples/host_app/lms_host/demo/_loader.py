"""Loading the demo organisation (``flask --app lms_host demo-data``).

Idempotent: every record has a natural key (username, unit and group title, record number, the group and start
of a lesson, chat title), so a re-run updates what exists and adds what is missing, never duplicates.  People
whose status or group/unit changes are announced to the plugins after the commit, as any import would.
The current week (Monday to Sunday in the organisation's time zone) is always generated, and the group of the
demo ``student``, taught by the demo ``teacher``, has lessons covering the whole of today, so that one of them
is "now" at any time of the demo.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta, tzinfo

import attrs
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from hookspecs.types import PersonKind
from lms_host.cabinet import Cabinet
from lms_host.demo._organisation import (
    ALL_DAY_GROUP,
    CHATS,
    DEMO_PASSWORD,
    EMPLOYEES,
    FILLER_MINUTES,
    FILLER_SUBJECTS,
    GROUPS,
    PAIR_MINUTES,
    SLOTS,
    STUDENT_ACCOUNT,
    TEACHERS,
    UNITS,
    USERS,
)
from lms_host.demo._people import student_records
from lms_host.models import (
    Chat,
    ChatMember,
    ChatMessage,
    Employee,
    Lesson,
    Role,
    StructuralUnit,
    Student,
    StudyGroup,
    User,
)
from lms_host.records import RecordChanges, notify_changes

__all__ = ["DEMO_PASSWORD", "load_demo_data"]


@attrs.define
class LoadSummary:
    """What a demo-data run created or updated."""

    users: int = 0
    students: int = 0
    employees: int = 0
    lessons_created: int = 0
    lessons_updated: int = 0
    chats_created: int = 0

    def __str__(self) -> str:
        return (
            f"Demo data loaded: {self.users} users, {self.employees} employees, {self.students} students, "
            f"lessons {self.lessons_created} created / {self.lessons_updated} updated, "
            f"{self.chats_created} chats created."
        )


def load_demo_data(cabinet: Cabinet, *, hash_password: Callable[[str], str] = generate_password_hash) -> LoadSummary:
    """Create or refresh the demo organisation; announce changed people to the plugins after the commit.

    :param hash_password: how passwords are hashed (tests pass a cheap one; the default is deliberately slow).
    """
    summary = LoadSummary()
    changes = RecordChanges()
    with cabinet.db.session() as session:
        users = _users(session, summary, hash_password)
        units = _units(session)
        employees = _employees(session, units, users, changes, summary)
        groups = _groups(session, units, employees)
        _students(session, groups, users, changes, summary)
        _lessons(session, cabinet, groups, employees, summary)
        _chats(session, users, summary)
    notify_changes(cabinet, changes)
    return summary


def _users(session: Session, summary: LoadSummary, hash_password: Callable[[str], str]) -> dict[str, User]:
    roles = {role.code: role for role in session.scalars(select(Role)).all()}
    users: dict[str, User] = {}
    for username, full_name, email, role in USERS:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            user = User(username=username, password_hash="", locale="ru")
            session.add(user)
        # Hashing is slow on purpose; only re-hash when the password was changed.
        if not user.password_hash or not check_password_hash(user.password_hash, DEMO_PASSWORD):
            user.password_hash = hash_password(DEMO_PASSWORD)
        user.full_name = full_name
        user.email = email
        user.roles = [roles[role]]
        users[username] = user
        summary.users += 1
    session.flush()
    return users


def _units(session: Session) -> list[StructuralUnit]:
    units = []
    for title in UNITS:
        unit = session.scalar(select(StructuralUnit).where(StructuralUnit.title == title))
        if unit is None:
            unit = StructuralUnit(title=title)
            session.add(unit)
        units.append(unit)
    session.flush()
    return units


def _employees(
    session: Session,
    units: list[StructuralUnit],
    users: dict[str, User],
    changes: RecordChanges,
    summary: LoadSummary,
) -> dict[str, Employee]:
    employees: dict[str, Employee] = {}
    for number, full_name, email, unit, position, status, username in EMPLOYEES:
        employee = session.scalar(select(Employee).where(Employee.record_number == number))
        if employee is None:
            employee = Employee(record_number=number)
            session.add(employee)
            old_status, old_unit = None, None
        else:
            old_status, old_unit = employee.status, employee.unit_id
        employee.full_name = full_name
        employee.email = email
        employee.unit_id = units[unit].id
        employee.position = position
        employee.status = status
        employee.user_id = users[username].id if username else None
        session.flush()
        changes.record(PersonKind.EMPLOYEE, employee.id, old_status, status, old_unit, employee.unit_id)
        employees[number] = employee
        summary.employees += 1
    return employees


def _groups(session: Session, units: list[StructuralUnit], employees: dict[str, Employee]) -> dict[str, StudyGroup]:
    groups: dict[str, StudyGroup] = {}
    for title, unit, year, curator in GROUPS:
        group = session.scalar(select(StudyGroup).where(StudyGroup.title == title))
        if group is None:
            group = StudyGroup(title=title)
            session.add(group)
        group.unit_id = units[unit].id
        group.year = year
        group.curator_id = employees[curator].id
        groups[title] = group
    session.flush()
    return groups


def _student_rows(groups: dict[str, StudyGroup]) -> Iterator[tuple[str, str, str, int, str]]:
    """(record number, full name, e-mail, group id, status) of every demo student."""
    for number, full_name, email, title, status in student_records():
        yield number, full_name, email, groups[title].id, status


def _students(
    session: Session,
    groups: dict[str, StudyGroup],
    users: dict[str, User],
    changes: RecordChanges,
    summary: LoadSummary,
) -> None:
    existing = {row.record_number: row for row in session.scalars(select(Student)).all()}
    for number, full_name, email, group_id, status in _student_rows(groups):
        student = existing.get(number)
        if student is None:
            student = Student(record_number=number)
            session.add(student)
            old_status, old_group = None, None
        else:
            old_status, old_group = student.status, student.group_id
        student.full_name = full_name
        student.email = email
        student.group_id = group_id
        student.status = status
        student.user_id = users["student"].id if number == STUDENT_ACCOUNT[0] else None
        session.flush()
        changes.record(PersonKind.STUDENT, student.id, old_status, status, old_group, group_id)
        summary.students += 1


def _planned_lessons(monday: date, today: date, tz: tzinfo) -> Iterator[tuple[str, datetime, datetime, str, str, str]]:
    """(group, start, end, subject, teacher record number, room) of the week, times aware in ``tz``."""
    for group_index, (title, *_rest) in enumerate(GROUPS):
        for offset in range(7):
            day = monday + timedelta(days=offset)
            planned = []
            if day.weekday() < 6:  # no lessons on Sunday, except the all-day group's today
                for slot_index, start in enumerate(SLOTS):
                    teacher, subjects, room = TEACHERS[(group_index + slot_index + offset) % len(TEACHERS)]
                    subject = subjects[(slot_index + offset) % len(subjects)]
                    begins = datetime.combine(day, start, tzinfo=tz)
                    planned.append((begins, begins + timedelta(minutes=PAIR_MINUTES), subject, teacher, room))
            if title == ALL_DAY_GROUP and day == today:
                planned.extend(_fillers(day, planned, tz))
            for begins, ends, subject, teacher, room in planned:
                yield title, begins, ends, subject, teacher, room


def _fillers(
    day: date, planned: list[tuple[datetime, datetime, str, str, str]], tz: tzinfo
) -> list[tuple[datetime, datetime, str, str, str]]:
    """Lessons by the demo teacher that fill every gap of ``day`` (so a lesson is always "now")."""
    start_of_day = datetime.combine(day, time.min, tzinfo=tz)
    end_of_day = start_of_day + timedelta(days=1)
    fillers: list[tuple[datetime, datetime, str, str, str]] = []
    cursor = start_of_day
    for begins, ends, *_rest in [*sorted(planned), (end_of_day, end_of_day, "", "", "")]:
        while cursor < begins:
            # Chunks of FILLER_MINUTES; a short remainder is merged into the last chunk.
            chunk_end = min(cursor + timedelta(minutes=FILLER_MINUTES), begins)
            if begins - chunk_end < timedelta(minutes=30):
                chunk_end = begins
            subject = FILLER_SUBJECTS[len(fillers) % len(FILLER_SUBJECTS)]
            fillers.append((cursor, chunk_end, subject, "E-001", ""))
            cursor = chunk_end
        cursor = max(cursor, ends)
    return fillers


def _lessons(
    session: Session,
    cabinet: Cabinet,
    groups: dict[str, StudyGroup],
    employees: dict[str, Employee],
    summary: LoadSummary,
) -> None:
    clock = cabinet.host.clock
    today = clock.today()
    monday = today - timedelta(days=today.weekday())
    tz = clock.timezone
    week_start = datetime.combine(monday, time.min, tzinfo=tz)
    existing = {
        (row.group_id, row.starts_at): row
        for row in session.scalars(
            select(Lesson).where(Lesson.starts_at >= week_start, Lesson.starts_at < week_start + timedelta(days=7))
        ).all()
    }
    for title, begins, ends, subject, teacher, room in _planned_lessons(monday, today, tz):
        group_id = groups[title].id
        lesson = existing.get((group_id, begins))
        if lesson is None:
            lesson = Lesson(group_id=group_id, starts_at=begins)
            session.add(lesson)
            existing[(group_id, begins)] = lesson
            summary.lessons_created += 1
        else:
            summary.lessons_updated += 1
        lesson.ends_at = ends
        lesson.subject = subject
        lesson.teacher_id = employees[teacher].id
        lesson.room = room
    session.flush()


def _chats(session: Session, users: dict[str, User], summary: LoadSummary) -> None:
    for title, members, messages in CHATS:
        chat = session.scalar(select(Chat).where(Chat.title == title))
        if chat is not None:
            continue
        chat = Chat(title=title)
        session.add(chat)
        session.flush()
        session.add_all(ChatMember(chat_id=chat.id, user_id=users[username].id) for username in members)
        session.add_all(
            ChatMessage(chat_id=chat.id, author_id=users[author].id, body=body) for author, body in messages
        )
        summary.chats_created += 1
