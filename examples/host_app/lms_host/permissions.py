"""The host's own permissions and the catalog the roles page shows."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from hookspecs.types import Permission
from lms_host.models import Role, RolePermission

__all__ = [
    "CHATS_USE",
    "EMPLOYEES_VIEW",
    "HOST_PERMISSIONS",
    "ROLE_TITLES",
    "SCHEDULE_VIEW",
    "STUDENTS_VIEW",
    "grant_defaults",
    "permissions_of_roles",
]

ROLE_TITLES = {"admin": "Администратор", "employee": "Сотрудник", "student": "Обучающийся"}

SCHEDULE_VIEW = "host.schedule.view"
STUDENTS_VIEW = "host.students.view"
EMPLOYEES_VIEW = "host.employees.view"
CHATS_USE = "host.chats.use"

# The default grants of these are made by the first migration, so that a fresh database is usable.
HOST_PERMISSIONS = (
    Permission(SCHEDULE_VIEW, "Расписание", "Просмотр расписания", ("student", "employee")),
    Permission(STUDENTS_VIEW, "Обучающиеся", "Просмотр обучающихся", ("employee",)),
    Permission(EMPLOYEES_VIEW, "Сотрудники", "Просмотр сотрудников", ("employee",)),
    Permission(CHATS_USE, "Чаты", "Чаты", ("student", "employee")),
)


def permissions_of_roles(session: Session, role_ids: Iterable[int]) -> frozenset[str]:
    """Every permission code granted to the given roles."""
    ids = list(role_ids)
    if not ids:
        return frozenset()
    codes = session.scalars(select(RolePermission.permission).where(RolePermission.role_id.in_(ids))).all()
    return frozenset(codes)


def grant_defaults(session: Session, permissions: Iterable[Permission]) -> int:
    """Grant each permission to its ``default_roles`` (existing grants are kept).

    :returns: how many grants were added.
    """
    roles = {role.code: role.id for role in session.scalars(select(Role)).all()}
    existing = {(row[0], row[1]) for row in session.execute(select(RolePermission.role_id, RolePermission.permission))}
    added = 0
    for permission in permissions:
        for role_code in permission.default_roles:
            role_id = roles.get(role_code)
            if role_id is None or (role_id, permission.code) in existing:
                continue
            session.add(RolePermission(role_id=role_id, permission=permission.code))
            existing.add((role_id, permission.code))
            added += 1
    return added
