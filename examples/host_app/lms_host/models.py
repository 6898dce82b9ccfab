"""The host's tables (SQLAlchemy 2 ORM).

Plugins keep their own tables, with their own prefix and Alembic version table, in the same database; nothing
here refers to them.  Times are stored in UTC (:class:`UtcDateTime`) and converted to the organisation's time
zone only for display.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

__all__ = [
    "Base",
    "Chat",
    "ChatMember",
    "ChatMessage",
    "Employee",
    "InstalledModule",
    "JobRun",
    "Lesson",
    "ModuleSetting",
    "Role",
    "RolePermission",
    "StructuralUnit",
    "Student",
    "StudyGroup",
    "User",
    "UserSession",
    "UtcDateTime",
    "user_roles",
]

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as UTC; SQLite keeps no offset, so values come back aware in UTC either way."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        stored: datetime = value
        return stored.replace(tzinfo=UTC) if stored.tzinfo is None else stored.astimezone(UTC)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base of the host's tables."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


user_roles = Table(
    "user_roles",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True),
)


class User(Base):
    """An LMS account."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(200), default="")
    locale: Mapped[str] = mapped_column(String(8), default="ru")
    roles: Mapped[list[Role]] = relationship(secondary=user_roles, lazy="selectin")


class UserSession(Base):
    """A signed-in browser session, so that signing out ends it on the server.

    The session cookie carries a random token; this row keeps only its SHA-256, so reading the table gives no
    usable session.  Signing out deletes the row: a copy of the cookie taken before opens nothing afterwards.
    """

    __tablename__ = "user_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class Role(Base):
    """A role (``admin``, ``employee``, ``student``) that permissions are granted to."""

    __tablename__ = "roles"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(100))


class RolePermission(Base):
    """A permission code granted to a role (host permissions and installed modules' ones)."""

    __tablename__ = "role_permissions"

    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True)
    permission: Mapped[str] = mapped_column(String(200), primary_key=True)


class StructuralUnit(Base):
    """A structural unit (department) of the organisation."""

    __tablename__ = "structural_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200), unique=True)


class Employee(Base):
    """An employee record of the accounting system."""

    __tablename__ = "employees"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The personnel number: the accounting system's own key, used by imports to find existing records.
    record_number: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    full_name: Mapped[str] = mapped_column(String(200), index=True)
    email: Mapped[str] = mapped_column(String(200), default="")
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("structural_units.id"), index=True)
    position: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default="active")

    unit: Mapped[StructuralUnit | None] = relationship()


class StudyGroup(Base):
    """A study group of students."""

    __tablename__ = "study_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100), unique=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("structural_units.id"))
    year: Mapped[int] = mapped_column(Integer, default=1)
    curator_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id", ondelete="SET NULL"))

    unit: Mapped[StructuralUnit | None] = relationship()
    curator: Mapped[Employee | None] = relationship()


class Student(Base):
    """A student record of the accounting system."""

    __tablename__ = "students"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The record-book number: the accounting system's own key.
    record_number: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    full_name: Mapped[str] = mapped_column(String(200), index=True)
    email: Mapped[str] = mapped_column(String(200), default="")
    group_id: Mapped[int | None] = mapped_column(ForeignKey("study_groups.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="active")

    group: Mapped[StudyGroup | None] = relationship()


class Lesson(Base):
    """A lesson of the schedule."""

    __tablename__ = "lessons"
    __table_args__ = (
        # A group cannot sit two lessons that start at the same moment; imports use this as the natural key.
        UniqueConstraint("group_id", "starts_at", name="uq_lessons_group_start"),
        Index("ix_lessons_teacher_start", "teacher_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime())
    group_id: Mapped[int] = mapped_column(ForeignKey("study_groups.id", ondelete="CASCADE"))
    teacher_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    room: Mapped[str] = mapped_column(String(50), default="")

    group: Mapped[StudyGroup] = relationship()
    teacher: Mapped[Employee] = relationship()


class Chat(Base):
    """A native LK chat."""

    __tablename__ = "chats"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=_utcnow)


class ChatMember(Base):
    """A member of a native chat."""

    __tablename__ = "chat_members"

    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)


class ChatMessage(Base):
    """A message of a native chat."""

    __tablename__ = "chat_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=_utcnow)

    author: Mapped[User] = relationship()


class InstalledModule(Base):
    """A plugin module installed through Администрирование → Модули."""

    __tablename__ = "modules"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[str] = mapped_column(String(32))
    installed_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=_utcnow)


class ModuleSetting(Base):
    """One stored setting of a module; secret values live only in ``ciphertext`` (Fernet)."""

    __tablename__ = "module_settings"

    module: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)
    ciphertext: Mapped[str | None] = mapped_column(Text)
    is_secret: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=_utcnow, onupdate=_utcnow)


class JobRun(Base):
    """When a background job last ran, and who holds its lease while it runs."""

    __tablename__ = "job_runs"

    job_name: Mapped[str] = mapped_column(String(100), primary_key=True)
    last_started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_error: Mapped[str] = mapped_column(Text, default="")
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
