"""Changes to the accounting records made in the host, and the notifications plugins receive about them.

Notifications are sent AFTER the change is committed; a failing plugin is logged and does not undo or fail the
change (the administrator's edit has happened).
"""

from __future__ import annotations

from collections.abc import Sequence

from hookspecs.types import MembershipChange, PersonKind, PersonStatus, PersonStatusChange
from lms_host.cabinet import Cabinet
from lms_host.models import Employee, Student

__all__ = [
    "EMPLOYEE_STATUSES",
    "STUDENT_STATUSES",
    "RecordChanges",
    "notify_changes",
    "update_employee",
    "update_student",
]

STUDENT_STATUSES = (PersonStatus.ACTIVE, PersonStatus.EXPELLED)
EMPLOYEE_STATUSES = (PersonStatus.ACTIVE, PersonStatus.DISMISSED)


class RecordChanges:
    """Status and membership changes collected while editing records, to be announced after the commit."""

    def __init__(self) -> None:
        self.statuses: list[PersonStatusChange] = []
        self.memberships: list[MembershipChange] = []

    def __bool__(self) -> bool:
        return bool(self.statuses or self.memberships)

    def record(
        self,
        kind: PersonKind,
        person_id: int,
        old_status: str | None,
        new_status: str,
        old_container: int | None,
        new_container: int | None,
    ) -> None:
        """Note what changed about one person (``old_status=None`` for a new record)."""
        if old_status != new_status:
            before = PersonStatus(old_status) if old_status is not None else None
            self.statuses.append(PersonStatusChange(person_id, kind, before, PersonStatus(new_status)))
        if old_container != new_container:
            self.memberships.append(MembershipChange(person_id, kind, old_container, new_container))


def update_student(cabinet: Cabinet, student_id: int, *, status: PersonStatus, group_id: int | None) -> RecordChanges:
    """Change a student's status and group; returns the changes (already committed, not yet announced)."""
    if status not in STUDENT_STATUSES:
        raise ValueError(f"not a student status: {status}")
    changes = RecordChanges()
    with cabinet.db.session() as session:
        student = session.get(Student, student_id)
        if student is None:
            raise LookupError(student_id)
        changes.record(PersonKind.STUDENT, student.id, student.status, status.value, student.group_id, group_id)
        student.status = status.value
        student.group_id = group_id
    return changes


def update_employee(cabinet: Cabinet, employee_id: int, *, status: PersonStatus, unit_id: int | None) -> RecordChanges:
    """Change an employee's status and structural unit; returns the committed changes."""
    if status not in EMPLOYEE_STATUSES:
        raise ValueError(f"not an employee status: {status}")
    changes = RecordChanges()
    with cabinet.db.session() as session:
        employee = session.get(Employee, employee_id)
        if employee is None:
            raise LookupError(employee_id)
        changes.record(PersonKind.EMPLOYEE, employee.id, employee.status, status.value, employee.unit_id, unit_id)
        employee.status = status.value
        employee.unit_id = unit_id
    return changes


def notify_changes(cabinet: Cabinet, changes: RecordChanges) -> Sequence[Exception]:
    """Tell the plugins about committed changes; returns the plugins' failures (already logged)."""
    failures: list[Exception] = []
    if changes.statuses:
        failures += cabinet.notify("lms_people_status_changed", changes=tuple(changes.statuses), host=cabinet.host)
    if changes.memberships:
        failures += cabinet.notify("lms_memberships_changed", changes=tuple(changes.memberships), host=cabinet.host)
    return failures
