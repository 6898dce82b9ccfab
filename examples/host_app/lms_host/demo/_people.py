"""The demo organisation's people as plain records, without a database: the same people ``demo-data`` loads.

``make demo`` gives each of them an account in the chosen platform's sandbox when that platform needs one per
person (``SFERUM_PLATFORM=max``: a MAX user each), so that the demo can play any of them on both sides.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import attrs

from hookspecs.types import PersonKind
from lms_host.demo._names import student_email, student_name, transliterate
from lms_host.demo._organisation import EMPLOYEES, GROUPS, STUDENT_ACCOUNT, STUDENTS_PER_GROUP, UNITS

__all__ = ["DemoPerson", "demo_people", "student_records"]


@attrs.frozen
class DemoPerson:
    """One person of the demo organisation.

    :param record_number: the natural key in the accounting records (``E-001``, ``S-ИВТ-21-01``).
    :param full_name: surname, first name and patronymic.
    :param email: may be empty, as in any real register.
    :param kind: student or employee.
    :param status: ``active``, ``expelled`` or ``dismissed``.
    :param place: the study group of a student, the structural unit of an employee.
    :param username: the ЛК login of the person's demo account, if they have one (``teacher``, ``student``...).
    """

    record_number: str
    full_name: str
    email: str
    kind: PersonKind
    status: str
    place: str
    username: str | None = None

    @property
    def surname(self) -> str:
        """The first word of the full name."""
        return self.full_name.split()[0]

    @property
    def first_name(self) -> str:
        """The second word of the full name."""
        return self.full_name.split()[1]

    @property
    def handle(self) -> str:
        """The record number in Latin letters, digits and ``_`` (``S-ИВТ-21-01`` → ``s_ivt_21_01``): a stable
        username for the person in a messenger's sandbox."""
        return re.sub(r"[^a-z0-9]+", "_", transliterate(self.record_number)).strip("_")


def student_records() -> Iterator[tuple[str, str, str, str, str]]:
    """(record number, full name, e-mail, group title, status) of every demo student, groups in order."""
    counter = 0
    for title, *_rest in GROUPS:
        for position in range(1, STUDENTS_PER_GROUP + 1):
            number = f"S-{title}-{position:02d}"
            if number == STUDENT_ACCOUNT[0]:
                yield number, STUDENT_ACCOUNT[1], STUDENT_ACCOUNT[2], title, "active"
                continue
            counter += 1
            surname, first, patronymic = student_name(counter)
            # A few students have no e-mail, as in any real register.
            email = "" if position % 9 == 4 else student_email(surname, first, counter)
            status = "expelled" if position in (STUDENTS_PER_GROUP, STUDENTS_PER_GROUP - 1) else "active"
            yield number, f"{surname} {first} {patronymic}", email, title, status


def demo_people() -> tuple[DemoPerson, ...]:
    """Every employee, then every student, of the demo organisation."""
    employees = [
        DemoPerson(number, full_name, email, PersonKind.EMPLOYEE, status, UNITS[unit], username)
        for number, full_name, email, unit, _position, status, username in EMPLOYEES
    ]
    students = [
        DemoPerson(
            number, full_name, email, PersonKind.STUDENT, status, group,
            "student" if number == STUDENT_ACCOUNT[0] else None,
        )
        for number, full_name, email, group, status in student_records()
    ]  # fmt: skip
    return (*employees, *students)
