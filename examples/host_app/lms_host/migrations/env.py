"""Alembic environment of the host: runs on the engine the caller put in ``config.attributes``."""

from __future__ import annotations

from alembic import context

from lms_host.models import Base

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    # The plugin keeps its own version table in the same database: the host keeps Alembic's default one.
    context.configure(connection=connection, target_metadata=Base.metadata)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
