"""Chats and the membership sync service: chats, known members, listed members, operations, requests, passes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sferum_chat_listed_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_pk", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sferum_chat_listed_members"),
        sa.UniqueConstraint("chat_pk", "user_id", name="uq_sferum_chat_listed_members_chat_user"),
    )
    op.create_index("ix_sferum_chat_listed_members_chat_pk", "sferum_chat_listed_members", ["chat_pk"], unique=False)
    op.create_table(
        "sferum_chat_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_pk", sa.Integer(), nullable=False),
        sa.Column("sferum_user_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sferum_chat_members"),
        sa.UniqueConstraint("chat_pk", "sferum_user_id", name="uq_sferum_chat_members_chat_user"),
    )
    op.create_index("ix_sferum_chat_members_chat_pk", "sferum_chat_members", ["chat_pk"], unique=False)
    op.create_index("ix_sferum_chat_members_sferum_user_id", "sferum_chat_members", ["sferum_user_id"], unique=False)
    op.create_table(
        "sferum_chats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("app_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("marker", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("invite_link", sa.String(length=1000), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("needs_verify", sa.Boolean(), nullable=False),
        sa.Column("last_synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("lease_holder", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sferum_chats"),
        sa.UniqueConstraint("app_id", "kind", "target_id", name="uq_sferum_chats_app_kind_target"),
        sa.UniqueConstraint("app_id", "marker", name="uq_sferum_chats_app_marker"),
    )
    op.create_index("ix_sferum_chats_state", "sferum_chats", ["state"], unique=False)
    op.create_table(
        "sferum_sync_operations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_pk", sa.Integer(), nullable=False),
        sa.Column("sferum_user_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sferum_sync_operations"),
    )
    op.create_index("ix_sferum_sync_operations_chat_pk", "sferum_sync_operations", ["chat_pk"], unique=False)
    op.create_index("ix_sferum_sync_operations_open", "sferum_sync_operations", ["state", "chat_pk"], unique=False)
    op.create_table(
        "sferum_sync_passes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("chats", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("removed", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sferum_sync_passes"),
    )
    op.create_index("ix_sferum_sync_passes_started_at", "sferum_sync_passes", ["started_at"], unique=False)
    op.create_table(
        "sferum_sync_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=64), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sferum_sync_requests"),
        sa.UniqueConstraint("scope", name="uq_sferum_sync_requests_scope"),
    )
    op.create_table(
        "sferum_sync_service",
        sa.Column("app_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("org_user_id", sa.BigInteger(), nullable=True),
        sa.Column("paused_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pause_reason", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("app_id", name="pk_sferum_sync_service"),
    )


def downgrade() -> None:
    op.drop_table("sferum_sync_service")
    op.drop_table("sferum_sync_requests")
    op.drop_index("ix_sferum_sync_passes_started_at", table_name="sferum_sync_passes")
    op.drop_table("sferum_sync_passes")
    op.drop_index("ix_sferum_sync_operations_open", table_name="sferum_sync_operations")
    op.drop_index("ix_sferum_sync_operations_chat_pk", table_name="sferum_sync_operations")
    op.drop_table("sferum_sync_operations")
    op.drop_index("ix_sferum_chats_state", table_name="sferum_chats")
    op.drop_table("sferum_chats")
    op.drop_index("ix_sferum_chat_members_sferum_user_id", table_name="sferum_chat_members")
    op.drop_index("ix_sferum_chat_members_chat_pk", table_name="sferum_chat_members")
    op.drop_table("sferum_chat_members")
    op.drop_index("ix_sferum_chat_listed_members_chat_pk", table_name="sferum_chat_listed_members")
    op.drop_table("sferum_chat_listed_members")
