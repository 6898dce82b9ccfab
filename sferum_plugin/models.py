"""The module's own tables (prefix ``sferum_``), kept in the host's database.

The schema is owned by the Alembic migrations in ``sferum_plugin/migrations``; these classes describe it for the
ORM and must match the latest revision (a test compares them).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, Dialect, Index, Integer, MetaData, String, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = ["ACTIVE_LESSON_STATES", "Base", "LinkRequest", "OnlineLesson", "ProfileEvent", "ProfileLink", "UtcDateTime"]

# Named constraints, so that migrations can drop and alter them on every backend (SQLite batch mode included).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp stored in UTC on every backend.

    SQLite has no timezone type: SQLAlchemy would store the wall-clock digits of an aware value and hand back a
    naive one. Converting to UTC on the way in and marking UTC on the way out makes both backends agree.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware one")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of the module's tables (a metadata of their own, separate from the host's)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ProfileLink(Base):
    """The link between an LMS account and a Sferum educational profile, for one organisation (APP ID).

    The seed: «Создать учебный профиль Сферум» stores the link between the user's educational profile and the
    organisation's token, so that users are routed between the LMS and Sferum.
    """

    __tablename__ = "sferum_profile_links"
    __table_args__ = (
        UniqueConstraint("app_id", "user_id", name="uq_sferum_profile_links_app_user"),
        UniqueConstraint("app_id", "sferum_user_id", name="uq_sferum_profile_links_app_sferum_user"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    app_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    sferum_user_id: Mapped[int] = mapped_column(BigInteger)
    display_name: Mapped[str] = mapped_column(String(255), default="")
    linked_at: Mapped[datetime] = mapped_column(UtcDateTime())


class LinkRequest(Base):
    """A pending VK ID authorization started by «Создать учебный профиль Сферум».

    The PKCE verifier stays here, on the server; the browser only ever sees the ``state`` (stored hashed, so a
    database reader cannot complete someone else's flow) and the S256 challenge.  A row is single use and expires.
    """

    __tablename__ = "sferum_link_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    app_id: Mapped[int] = mapped_column(BigInteger)
    code_verifier: Mapped[str] = mapped_column(String(128))
    redirect_uri: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class ProfileEvent(Base):
    """A durable record that a profile was linked or unlinked, for the chat membership service to consume.

    Written in the same transaction as the link itself (an outbox), so the event is never lost nor invented.
    """

    __tablename__ = "sferum_profile_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "linked" | "unlinked"
    user_id: Mapped[int] = mapped_column(Integer)
    sferum_user_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    processed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True, index=True)


ACTIVE_LESSON_STATES = ("starting", "active")
"""States in which an online lesson holds its schedule lesson: at most one row per lesson may be in them."""


class OnlineLesson(Base):
    """An online lesson (a Sferum call) held for a lesson of the schedule.

    States: ``starting`` (a teacher pressed «Начать», the call is being created), ``active`` (the call exists),
    ``unknown`` (Sferum did not confirm whether the call was created), ``failed`` (Sferum refused), ``ended``.
    The partial unique index admits one ``starting``/``active`` row per lesson, so two concurrent starts (double
    click, two tabs, two workers) create exactly one call: the second insert fails before any call is made.
    """

    __tablename__ = "sferum_online_lessons"
    __table_args__ = (
        Index(
            "uq_sferum_online_lessons_one_active",
            "lesson_id",
            unique=True,
            sqlite_where=text("state IN ('starting', 'active')"),
            postgresql_where=text("state IN ('starting', 'active')"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lesson_id: Mapped[int] = mapped_column(Integer, index=True)
    app_id: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16))
    call_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    join_link: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    ok_join_link: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    started_by: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ended_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(16), nullable=True)  # teacher | admin | auto | sferum
    error: Mapped[str | None] = mapped_column(String(500), nullable=True)


# --------------------------------------------------------------------------------------------------------------
# Chats and the membership sync service (PRODUCT.md §5)
# --------------------------------------------------------------------------------------------------------------
