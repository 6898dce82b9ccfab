"""The sync history counts failed attempts (no reply, error 6, errors 9 and 29) and whether Sferum was reached.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

COUNTS = ("connection_errors", "rate_limited", "quota_errors")


def upgrade() -> None:
    with op.batch_alter_table("sferum_sync_passes") as batch:
        for name in COUNTS:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("unreachable", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("sferum_sync_passes") as batch:
        batch.drop_column("unreachable")
        for name in reversed(COUNTS):
            batch.drop_column(name)
