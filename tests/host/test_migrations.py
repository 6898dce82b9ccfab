"""The host's Alembic migrations: they match the models, go up and down, and leave plugin tables alone."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from lms_host.database import downgrade_database, make_engine, upgrade_database
from lms_host.models import Base, Role
from sqlalchemy import Engine, inspect, select, text


def _diff(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))


def test_migrations_match_the_models_and_seed_the_roles(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    try:
        upgrade_database(engine)
        upgrade_database(engine)  # idempotent
        assert _diff(engine) == []
        with engine.connect() as connection:
            roles = dict(connection.execute(select(Role.code, Role.title)).all())
        assert roles == {"admin": "Администратор", "employee": "Сотрудник", "student": "Обучающийся"}
    finally:
        engine.dispose()


def test_downgrade_removes_only_the_host_tables(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    try:
        with engine.begin() as connection:
            # What a plugin with its own version table leaves in the same database.
            connection.execute(text("CREATE TABLE plugin_alembic_version (version_num VARCHAR(32) PRIMARY KEY)"))
            connection.execute(text("INSERT INTO plugin_alembic_version VALUES ('p1')"))
            connection.execute(text("CREATE TABLE plugin_things (id INTEGER PRIMARY KEY)"))
        upgrade_database(engine)
        downgrade_database(engine, "base")
        tables = set(inspect(engine).get_table_names())
        assert tables == {"alembic_version", "plugin_alembic_version", "plugin_things"}
        upgrade_database(engine)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT version_num FROM plugin_alembic_version")).scalar() == "p1"
    finally:
        engine.dispose()
