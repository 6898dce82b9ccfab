"""The :class:`hookspecs.services.Database` service and the host's migrations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import ColumnElement, Engine, create_engine, event, func
from sqlalchemy.orm import QueryableAttribute, Session, sessionmaker

__all__ = ["HostDatabase", "contains_text", "make_engine", "upgrade_database"]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys switched on, as PostgreSQL always has them."""
    if url.startswith("sqlite"):
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_foreign_keys)
        return engine
    # A long-running web process outlives server-side connection timeouts: test a connection before use.
    return create_engine(url, pool_pre_ping=True)


def _sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
    # SQLite's own lower() folds ASCII only; names here are Cyrillic, and searches must match PostgreSQL's.
    dbapi_connection.create_function("lower", 1, _lower, deterministic=True)


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


class HostDatabase:
    """The host's database: an engine and sessions that commit on success and roll back on error."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (SQLite or PostgreSQL)."""
        return self._engine

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits when the block ends without an exception and rolls back otherwise."""
        with self._sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        """Close every pooled connection (tests call it; warnings are errors there)."""
        self._engine.dispose()


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration that runs the host's migrations on ``engine``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade_database(engine: Engine, revision: str = "head") -> None:
    """Bring the host's tables to ``revision`` (idempotent; the version table is ``alembic_version``)."""
    command.upgrade(alembic_config(engine), revision)


def downgrade_database(engine: Engine, revision: str) -> None:
    """Take the host's tables back to ``revision`` (``"base"`` drops them)."""
    command.downgrade(alembic_config(engine), revision)


def contains_text(column: ColumnElement[str] | QueryableAttribute[str], needle: str) -> ColumnElement[bool]:
    """A case-insensitive "contains" that treats ``%`` and ``_`` in ``needle`` literally."""
    escaped = needle.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped}%", escape="\\")
