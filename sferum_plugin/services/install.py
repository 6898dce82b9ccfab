"""Installing, upgrading and uninstalling the module's tables (Alembic, own version table)."""

from __future__ import annotations

import logging
from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

__all__ = ["VERSION_TABLE", "current_revision", "head_revision", "install", "uninstall", "upgrade"]

logger = logging.getLogger(__name__)

VERSION_TABLE = "sferum_alembic_version"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("sferum_plugin") / "migrations"))
    return config


def head_revision() -> str:
    """The newest revision the installed code knows."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "the module has no migrations"
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or ``None`` when the module's tables are absent."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE}).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the module's tables to ``revision`` (the newest by default); safe to call when already there."""
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    logger.info("sferum tables migrated to %s", revision)


def install(engine: Engine) -> None:
    """Create the module's tables."""
    upgrade(engine)


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate the module's tables down to ``revision`` (``"base"`` removes them all)."""
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
    logger.info("sferum tables migrated down to %s", revision)


def uninstall(engine: Engine, *, keep_data: bool) -> None:
    """Remove the module's tables and version table, or keep them all for a later reinstall."""
    if keep_data:
        logger.info("sferum uninstalled, data kept")
        return
    if current_revision(engine) is not None:
        downgrade(engine, "base")
    with engine.begin() as connection:
        if inspect(connection).has_table(VERSION_TABLE):
            connection.exec_driver_sql(f"DROP TABLE {VERSION_TABLE}")
    logger.info("sferum uninstalled, data dropped")
