"""Profile linking requests, the profile event outbox, and online lessons.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ACTIVE = sa.text("state IN ('starting', 'active')")


def upgrade() -> None:
    op.create_table(
        "sferum_link_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("app_id", sa.BigInteger(), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("redirect_uri", sa.String(length=1000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sferum_link_requests"),
        sa.UniqueConstraint("state_hash", name="uq_sferum_link_requests_state_hash"),
    )
    op.create_index("ix_sferum_link_requests_user_id", "sferum_link_requests", ["user_id"])
    op.create_table(
        "sferum_profile_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("sferum_user_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sferum_profile_events"),
    )
    op.create_index("ix_sferum_profile_events_processed_at", "sferum_profile_events", ["processed_at"])
    op.create_table(
        "sferum_online_lessons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lesson_id", sa.Integer(), nullable=False),
        sa.Column("app_id", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=True),
        sa.Column("join_link", sa.String(length=1000), nullable=True),
        sa.Column("ok_join_link", sa.String(length=1000), nullable=True),
        sa.Column("started_by", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_by", sa.Integer(), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=16), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sferum_online_lessons"),
    )
    op.create_index("ix_sferum_online_lessons_lesson_id", "sferum_online_lessons", ["lesson_id"])
    op.create_index(
        "uq_sferum_online_lessons_one_active",
        "sferum_online_lessons",
        ["lesson_id"],
        unique=True,
        sqlite_where=ACTIVE,
        postgresql_where=ACTIVE,
    )


def downgrade() -> None:
    op.drop_index("uq_sferum_online_lessons_one_active", table_name="sferum_online_lessons")
    op.drop_index("ix_sferum_online_lessons_lesson_id", table_name="sferum_online_lessons")
    op.drop_table("sferum_online_lessons")
    op.drop_index("ix_sferum_profile_events_processed_at", table_name="sferum_profile_events")
    op.drop_table("sferum_profile_events")
    op.drop_index("ix_sferum_link_requests_user_id", table_name="sferum_link_requests")
    op.drop_table("sferum_link_requests")
