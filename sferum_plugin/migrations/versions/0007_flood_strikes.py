"""The sync counts flood-control pauses in a row, so that each one pauses longer (10 min, 30 min, 2 h, 6 h).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sferum_sync_service") as batch:
        batch.add_column(sa.Column("flood_strikes", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("sferum_sync_service") as batch:
        batch.drop_column("flood_strikes")
