"""Alembic migrations of the host's tables (version table ``alembic_version``)."""
