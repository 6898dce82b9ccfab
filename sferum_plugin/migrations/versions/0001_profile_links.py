"""Profile links: LMS account <-> Sferum educational profile per organisation.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sferum_profile_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("app_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("sferum_user_id", sa.BigInteger(), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sferum_profile_links"),
        sa.UniqueConstraint("app_id", "user_id", name="uq_sferum_profile_links_app_user"),
        sa.UniqueConstraint("app_id", "sferum_user_id", name="uq_sferum_profile_links_app_sferum_user"),
    )
    op.create_index("ix_sferum_profile_links_user_id", "sferum_profile_links", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_sferum_profile_links_user_id", table_name="sferum_profile_links")
    op.drop_table("sferum_profile_links")
