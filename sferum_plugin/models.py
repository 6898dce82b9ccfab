"""The module's own tables (prefix ``sferum_``), kept in the host's database.

The schema is owned by the Alembic migrations in ``sferum_plugin/migrations``; these classes describe it for the
ORM and must match the latest revision (a test compares them).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Integer, MetaData, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["Base", "ProfileLink"]

# Named constraints, so that migrations can drop and alter them on every backend (SQLite batch mode included).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


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
    linked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
