"""The accounting records as plugins see them.  Every method answers for many ids with ONE query."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, Select, false, func, or_, select, union

from hookspecs.types import GroupInfo, LessonRef, Person, PersonKind, PersonStatus
from lms_host.database import HostDatabase, contains_text
from lms_host.models import Employee, Lesson, StructuralUnit, Student, StudyGroup
from lms_host.numbers import parse_id

__all__ = ["SqlDirectory", "employee_person", "lesson_ref", "list_statement", "student_person"]


def student_person(row: Student) -> Person:
    """The contract's view of a student record."""
    return Person(
        id=row.id,
        kind=PersonKind.STUDENT,
        user_id=row.user_id,
        full_name=row.full_name,
        email=row.email,
        status=PersonStatus(row.status),
        group_id=row.group_id,
    )


def employee_person(row: Employee) -> Person:
    """The contract's view of an employee record."""
    return Person(
        id=row.id,
        kind=PersonKind.EMPLOYEE,
        user_id=row.user_id,
        full_name=row.full_name,
        email=row.email,
        status=PersonStatus(row.status),
        unit_id=row.unit_id,
    )


def lesson_ref(row: Lesson, timezone: tzinfo) -> LessonRef:
    """The contract's view of a lesson, its times in the organisation's time zone."""
    return LessonRef(
        id=row.id,
        subject=row.subject,
        starts_at=row.starts_at.astimezone(timezone),
        ends_at=row.ends_at.astimezone(timezone),
        group_id=row.group_id,
        teacher_id=row.teacher_id,
        room=row.room,
    )


def list_statement(kind: PersonKind, filters: Mapping[str, str]) -> tuple[Select[Any], list[ColumnElement[bool]]]:
    """The Обучающиеся/Сотрудники list's query for its own filters (``q``, ``group``/``unit``, ``status``).

    Returns the ordered ``SELECT`` of the records and its conditions (for the count); unknown names are ignored.
    """
    model: type[Student] | type[Employee] = Student if kind == PersonKind.STUDENT else Employee
    container = filters.get("group" if kind == PersonKind.STUDENT else "unit", "")
    query = filters.get("q", "").strip()
    status = filters.get("status", "")
    conditions: list[ColumnElement[bool]] = []
    if query:
        conditions.append(or_(contains_text(model.full_name, query), contains_text(model.email, query)))
    container_id = parse_id(container)
    if container_id is not None:
        column = Student.group_id if kind == PersonKind.STUDENT else Employee.unit_id
        conditions.append(column == container_id)
    elif container:
        conditions.append(false())  # a group or unit that is not an id names nobody: never widen to everyone
    if status:
        conditions.append(model.status == status)
    return select(model).where(*conditions).order_by(model.full_name, model.id), conditions


def _ids(ids: Iterable[int]) -> list[int]:
    return sorted({int(value) for value in ids})


class SqlDirectory:
    """The :class:`hookspecs.services.Directory` service over the host's tables."""

    def __init__(self, db: HostDatabase, timezone: tzinfo) -> None:
        self._db = db
        self._timezone = timezone

    def people(self, kind: PersonKind, ids: Iterable[int]) -> Mapping[int, Person]:
        """The records of the given people (missing ids are absent from the result)."""
        wanted = _ids(ids)
        if not wanted:
            return {}
        with self._db.session() as session:
            if kind == PersonKind.STUDENT:
                students = session.scalars(select(Student).where(Student.id.in_(wanted))).all()
                return {row.id: student_person(row) for row in students}
            employees = session.scalars(select(Employee).where(Employee.id.in_(wanted))).all()
            return {row.id: employee_person(row) for row in employees}

    def people_by_user(self, user_ids: Iterable[int]) -> Mapping[int, Sequence[Person]]:
        """For each LMS account, its student and employee records."""
        wanted = _ids(user_ids)
        if not wanted:
            return {}
        # One round trip: the two registers are fetched as one UNION of (kind, id) pairs.
        pairs = union(
            select(Student.id.label("person_id"), Student.user_id.label("user_id")).where(Student.user_id.in_(wanted)),
            select((-Employee.id).label("person_id"), Employee.user_id.label("user_id")).where(
                Employee.user_id.in_(wanted)
            ),
        ).subquery()
        result: dict[int, list[Person]] = defaultdict(list)
        with self._db.session() as session:
            rows = session.execute(
                select(pairs.c.person_id, Student, Employee)
                .outerjoin(Student, Student.id == pairs.c.person_id)
                .outerjoin(Employee, Employee.id == -pairs.c.person_id)
                .order_by(pairs.c.user_id, pairs.c.person_id.desc())
            ).all()
        for person_id, student, employee in rows:
            if person_id > 0 and student is not None and student.user_id is not None:
                result[student.user_id].append(student_person(student))
            elif employee is not None and employee.user_id is not None:
                result[employee.user_id].append(employee_person(employee))
        return dict(result)

    def group_members(self, group_ids: Iterable[int]) -> Mapping[int, Sequence[Person]]:
        """For each study group, its students (every status)."""
        wanted = _ids(group_ids)
        result: dict[int, list[Person]] = {group_id: [] for group_id in wanted}
        if not wanted:
            return result
        with self._db.session() as session:
            rows = session.scalars(
                select(Student).where(Student.group_id.in_(wanted)).order_by(Student.full_name, Student.id)
            ).all()
        for row in rows:
            result[row.group_id or 0].append(student_person(row))
        return result

    def unit_members(self, unit_ids: Iterable[int]) -> Mapping[int, Sequence[Person]]:
        """For each structural unit, its employees (every status)."""
        wanted = _ids(unit_ids)
        result: dict[int, list[Person]] = {unit_id: [] for unit_id in wanted}
        if not wanted:
            return result
        with self._db.session() as session:
            rows = session.scalars(
                select(Employee).where(Employee.unit_id.in_(wanted)).order_by(Employee.full_name, Employee.id)
            ).all()
        for row in rows:
            result[row.unit_id or 0].append(employee_person(row))
        return result

    def group_staff(self, group_ids: Iterable[int]) -> Mapping[int, Sequence[Person]]:
        """For each study group, the employees who teach (any lesson) or curate it."""
        wanted = _ids(group_ids)
        result: dict[int, list[Person]] = {group_id: [] for group_id in wanted}
        if not wanted:
            return result
        pairs = union(
            select(Lesson.group_id.label("group_id"), Lesson.teacher_id.label("employee_id")).where(
                Lesson.group_id.in_(wanted)
            ),
            select(StudyGroup.id.label("group_id"), StudyGroup.curator_id.label("employee_id")).where(
                StudyGroup.id.in_(wanted), StudyGroup.curator_id.is_not(None)
            ),
        ).subquery()
        with self._db.session() as session:
            rows = session.execute(
                select(pairs.c.group_id, Employee)
                .join(Employee, Employee.id == pairs.c.employee_id)
                .order_by(pairs.c.group_id, Employee.full_name, Employee.id)
            ).all()
        for group_id, employee in rows:
            result[group_id].append(employee_person(employee))
        return result

    def groups(self, ids: Iterable[int] | None = None) -> Mapping[int, str]:
        """Titles of study groups (all of them when ``ids`` is ``None``)."""
        statement = select(StudyGroup.id, StudyGroup.title).order_by(StudyGroup.title)
        if ids is not None:
            statement = statement.where(StudyGroup.id.in_(_ids(ids)))
        with self._db.session() as session:
            return {row_id: title for row_id, title in session.execute(statement).all()}

    def units(self, ids: Iterable[int] | None = None) -> Mapping[int, str]:
        """Titles of structural units (all of them when ``ids`` is ``None``)."""
        statement = select(StructuralUnit.id, StructuralUnit.title).order_by(StructuralUnit.title)
        if ids is not None:
            statement = statement.where(StructuralUnit.id.in_(_ids(ids)))
        with self._db.session() as session:
            return {row_id: title for row_id, title in session.execute(statement).all()}

    def group_infos(self, ids: Iterable[int] | None = None) -> Mapping[int, GroupInfo]:
        """Study groups with their structural unit and year of study (all of them when ``ids`` is ``None``)."""
        statement = select(StudyGroup.id, StudyGroup.title, StudyGroup.unit_id, StudyGroup.year).order_by(
            StudyGroup.title
        )
        if ids is not None:
            statement = statement.where(StudyGroup.id.in_(_ids(ids)))
        with self._db.session() as session:
            rows = session.execute(statement).all()
        return {
            row_id: GroupInfo(id=row_id, title=title, unit_id=unit_id, year=year)
            for row_id, title, unit_id, year in rows
        }

    def lessons(self, ids: Iterable[int]) -> Mapping[int, LessonRef]:
        """The given lessons of the schedule."""
        wanted = _ids(ids)
        if not wanted:
            return {}
        with self._db.session() as session:
            rows = session.scalars(select(Lesson).where(Lesson.id.in_(wanted))).all()
        return {row.id: lesson_ref(row, self._timezone) for row in rows}

    def lessons_between(self, start: datetime, end: datetime) -> Sequence[LessonRef]:
        """Every lesson starting in ``[start, end)``, in start order."""
        with self._db.session() as session:
            rows = session.scalars(
                select(Lesson)
                .where(Lesson.starts_at >= start, Lesson.starts_at < end)
                .order_by(Lesson.starts_at, Lesson.id)
            ).all()
        return [lesson_ref(row, self._timezone) for row in rows]

    def search_people(self, query: str, limit: int = 20) -> Sequence[Person]:
        """Active people whose name or e-mail contains ``query``; names starting with it come first."""
        needle = query.strip()
        if not needle:
            return []
        prefix = _escape_like(needle.lower()) + "%"
        pairs = union(
            select(Student.id.label("person_id"), Student.full_name.label("full_name")).where(
                Student.status == PersonStatus.ACTIVE.value,
                or_(contains_text(Student.full_name, needle), contains_text(Student.email, needle)),
            ),
            select((-Employee.id).label("person_id"), Employee.full_name.label("full_name")).where(
                Employee.status == PersonStatus.ACTIVE.value,
                or_(contains_text(Employee.full_name, needle), contains_text(Employee.email, needle)),
            ),
        ).subquery()
        starts_with = func.lower(pairs.c.full_name).like(prefix, escape="\\")
        with self._db.session() as session:
            rows = session.execute(
                select(pairs.c.person_id, Student, Employee)
                .outerjoin(Student, Student.id == pairs.c.person_id)
                .outerjoin(Employee, Employee.id == -pairs.c.person_id)
                .order_by(starts_with.desc(), pairs.c.full_name, pairs.c.person_id)
                .limit(limit)
            ).all()
        people: list[Person] = []
        for person_id, student, employee in rows:
            if person_id > 0 and student is not None:
                people.append(student_person(student))
            elif employee is not None:
                people.append(employee_person(employee))
        return people

    def list_people(self, kind: PersonKind, filters: Mapping[str, str]) -> Sequence[Person]:
        """Every person the list shows for ``filters`` (all pages), in list order; other names are ignored."""
        statement, _ = list_statement(kind, filters)
        model: type[Student] | type[Employee] = Student if kind == PersonKind.STUDENT else Employee
        container = Student.group_id if kind == PersonKind.STUDENT else Employee.unit_id
        # Plain columns, not ORM objects: the list may be every student of the university.
        columns = statement.with_only_columns(
            model.id, model.user_id, model.full_name, model.email, model.status, container
        )
        with self._db.session() as session:
            rows = session.execute(columns).all()
        if kind == PersonKind.STUDENT:
            return [
                Person(id=r[0], kind=kind, user_id=r[1], full_name=r[2], email=r[3], status=PersonStatus(r[4]),
                       group_id=r[5])
                for r in rows
            ]  # fmt: skip
        return [
            Person(
                id=r[0], kind=kind, user_id=r[1], full_name=r[2], email=r[3], status=PersonStatus(r[4]), unit_id=r[5]
            )
            for r in rows
        ]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
