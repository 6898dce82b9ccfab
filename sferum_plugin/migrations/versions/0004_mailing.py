"""E-mail mailings and their recipients.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sferum_mailings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("author_user_id", sa.Integer(), nullable=False),
        sa.Column("author_name", sa.String(length=255), nullable=False),
        sa.Column("section", sa.String(length=16), nullable=False),
        sa.Column("audience", sa.String(length=1000), nullable=False),
        sa.Column("audience_spec", sa.Text(), nullable=False, server_default=""),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link_url", sa.String(length=1000), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sferum_mailings"),
    )
    op.create_index("ix_sferum_mailings_state", "sferum_mailings", ["state"], unique=False)
    op.create_table(
        "sferum_mailing_recipients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mailing_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("full_name", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sferum_mailing_recipients"),
    )
    op.create_index(
        "ix_sferum_mailing_recipients_mailing_state",
        "sferum_mailing_recipients",
        ["mailing_id", "state", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_sferum_mailing_recipients_mailing_state", table_name="sferum_mailing_recipients")
    op.drop_table("sferum_mailing_recipients")
    op.drop_index("ix_sferum_mailings_state", table_name="sferum_mailings")
    op.drop_table("sferum_mailings")
