"""Test helper shared by the host and plugin tests: a fresh PostgreSQL database for a test module.

Usage::

    with fresh_database_url("postgresql+psycopg://postgres@127.0.0.1:5432/test") as url:
        ...  # url points at an empty database t_<random>, dropped afterwards
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

__all__ = ["PG_ENV_VAR", "PG_SKIP_REASON", "fresh_database_url", "fresh_engine"]

PG_ENV_VAR = "SFERUM_TEST_DATABASE_URL"
PG_SKIP_REASON = f"{PG_ENV_VAR} is not set"


@contextmanager
def fresh_database_url(base_url: str) -> Iterator[str]:
    """Create an empty database next to ``base_url``'s, yield its URL, then drop it (``WITH (FORCE)``)."""
    base = make_url(base_url)
    name = f"t_{secrets.token_hex(6)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield base.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@contextmanager
def fresh_engine(base_url: str, **engine_options: Any) -> Iterator[Engine]:
    """An engine on a fresh database next to ``base_url``'s; disposed, and the database dropped, afterwards."""
    with fresh_database_url(base_url) as url:
        engine = create_engine(url, **engine_options)
        try:
            yield engine
        finally:
            engine.dispose()


@contextmanager
def installed_sqlite(directory: Path) -> Iterator[Engine]:
    """An engine on a new SQLite file in ``directory`` with the Sferum module's tables installed."""
    from sferum_plugin.services import install

    engine = create_engine(f"sqlite:///{directory / 'lms.sqlite3'}")
    install.install(engine)
    try:
        yield engine
    finally:
        engine.dispose()
