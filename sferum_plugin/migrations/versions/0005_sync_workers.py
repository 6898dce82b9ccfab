"""The live sync workers: a shared request rate, and one worker at a time on SQLite.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sferum_sync_workers",
        sa.Column("holder", sa.String(length=100), nullable=False),
        sa.Column("app_id", sa.BigInteger(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("holder", name="pk_sferum_sync_workers"),
    )
    op.create_index("ix_sferum_sync_workers_app_id", "sferum_sync_workers", ["app_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_sferum_sync_workers_app_id", table_name="sferum_sync_workers")
    op.drop_table("sferum_sync_workers")
