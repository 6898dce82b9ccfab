"""A small organisation for page tests: four accounts, two groups, a unit, a few people."""

from __future__ import annotations

import attrs
from lms_host import Cabinet
from lms_host.models import Employee, Role, StructuralUnit, Student, StudyGroup, User
from sqlalchemy import select
from werkzeug.security import generate_password_hash

# A cheap hash: the tests sign in many times and the default (scrypt) is deliberately slow.
FAST_HASH = generate_password_hash("demo", method="pbkdf2:sha256:1000")


def fast_hash(password: str) -> str:
    """A cheap password hash for tests."""
    return generate_password_hash(password, method="pbkdf2:sha256:1000")


@attrs.frozen
class Seeded:
    unit_id: int
    other_unit_id: int
    group_id: int
    other_group_id: int
    teacher_id: int
    employee_id: int
    student_id: int
    other_student_ids: tuple[int, ...]


def seed_people(cabinet: Cabinet) -> Seeded:
    with cabinet.db.session() as session:
        roles = {role.code: role for role in session.scalars(select(Role)).all()}

        def user(username: str, full_name: str, role: str) -> User:
            row = User(username=username, password_hash=FAST_HASH, full_name=full_name, email="", locale="ru")
            row.roles = [roles[role]]
            session.add(row)
            return row

        admin = user("admin", "Администратор Системы", "admin")
        teacher_user = user("teacher", "Петров Иван Сергеевич", "employee")
        employee_user = user("employee", "Сидорова Анна Павловна", "employee")
        student_user = user("student", "Кузнецов Алексей Игоревич", "student")
        session.flush()
        del admin
        unit = StructuralUnit(title="Кафедра информатики")
        other_unit = StructuralUnit(title="Учебный отдел")
        session.add_all([unit, other_unit])
        session.flush()
        teacher = Employee(
            record_number="E-1",
            user_id=teacher_user.id,
            full_name=teacher_user.full_name,
            email="petrov@example.edu",
            unit_id=unit.id,
            position="Доцент",
        )
        employee = Employee(
            record_number="E-2",
            user_id=employee_user.id,
            full_name=employee_user.full_name,
            email="sidorova@example.edu",
            unit_id=other_unit.id,
            position="Методист",
        )
        session.add_all([teacher, employee])
        session.flush()
        group = StudyGroup(title="ИВТ-21", unit_id=unit.id, year=2, curator_id=teacher.id)
        other_group = StudyGroup(title="ПМ-22", unit_id=unit.id, year=1)
        session.add_all([group, other_group])
        session.flush()
        student = Student(
            record_number="S-1",
            user_id=student_user.id,
            full_name=student_user.full_name,
            email="kuznetsov@students.example.edu",
            group_id=group.id,
        )
        others = [
            Student(
                record_number="S-2",
                full_name="Андреева Мария Олеговна",
                email="andreeva@students.example.edu",
                group_id=group.id,
            ),
            Student(record_number="S-3", full_name="Борисов Денис Андреевич", email="", group_id=other_group.id),
            Student(
                record_number="S-4",
                full_name="Волкова Екатерина Юрьевна",
                email="volkova@students.example.edu",
                group_id=other_group.id,
                status="expelled",
            ),
        ]
        session.add(student)
        session.add_all(others)
        session.flush()
        return Seeded(
            unit_id=unit.id,
            other_unit_id=other_unit.id,
            group_id=group.id,
            other_group_id=other_group.id,
            teacher_id=teacher.id,
            employee_id=employee.id,
            student_id=student.id,
            other_student_ids=tuple(row.id for row in others),
        )
