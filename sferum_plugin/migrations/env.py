"""Alembic environment of the Sferum module.

The module shares the host's database, so it keeps its own version table (``sferum_alembic_version``) and only
ever looks at its own metadata; the host's migrations and ours never see each other's tables.
Migrations are run programmatically by :mod:`sferum_plugin.services.install` with an open connection.
"""

from alembic import context

from sferum_plugin.models import Base
from sferum_plugin.services.install import VERSION_TABLE  # defined once, where the version is also read and dropped

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    version_table=VERSION_TABLE,
    render_as_batch=True,  # SQLite cannot ALTER most things; batch mode recreates tables there
)
with context.begin_transaction():
    context.run_migrations()
