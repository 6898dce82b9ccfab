"""Sferum on two platforms: every row that belongs to an account says which platform's, and MAX's events get an inbox.

Rows keyed by ``app_id`` (a VK application) are now keyed by ``(platform, app_id)``: the account within a platform
(see :class:`sferum_plugin.account.Account`).  Existing rows are VK Messenger's.  So switching the module to MAX
and back hides and restores each platform's links, chats, lessons and history; nothing of one is sent to the other.

A MAX profile link request (a deep link's payload, hashed) records what became of it in
``sferum_link_requests.outcome``.

``sferum_inbox`` keeps every event a platform delivered (MAX's webhook or long polling) until a job has handled it;
``update_key`` makes a redelivered event a no-op.  ``sferum_sync_service.updates_marker`` is the long-polling
position, so a restart neither loses nor repeats events; ``credential_key`` (a key of the token, never the token) tells
a pass that the token was changed, and ``credentials_refused`` that the platform refused it (MAX 401).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_PLATFORM_TABLES = (
    "sferum_profile_links",
    "sferum_link_requests",
    "sferum_online_lessons",
    "sferum_chats",
    "sferum_sync_service",
    "sferum_sync_workers",
    "sferum_sync_passes",
)

# (table, constraint, columns before, columns after)
_UNIQUES = (
    ("sferum_profile_links", "uq_sferum_profile_links_app_user", ["app_id", "user_id"]),
    ("sferum_profile_links", "uq_sferum_profile_links_app_sferum_user", ["app_id", "sferum_user_id"]),
    ("sferum_chats", "uq_sferum_chats_app_kind_target", ["app_id", "kind", "target_id"]),
    ("sferum_chats", "uq_sferum_chats_app_marker", ["app_id", "marker"]),
)


def upgrade() -> None:
    for table in _PLATFORM_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("platform", sa.String(length=8), nullable=False, server_default="vk"))
        with op.batch_alter_table(table) as batch:
            # The default only fills the existing rows: a new row must say its platform.
            batch.alter_column("platform", existing_type=sa.String(length=8), server_default=None)
    for table, name, columns in _UNIQUES:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(name, type_="unique")
            batch.create_unique_constraint(name, ["platform", *columns])
    with op.batch_alter_table("sferum_link_requests") as batch:
        batch.add_column(sa.Column("outcome", sa.String(length=16), nullable=True))
    with op.batch_alter_table("sferum_sync_service") as batch:
        batch.drop_constraint("pk_sferum_sync_service", type_="primary")
        batch.create_primary_key("pk_sferum_sync_service", ["platform", "app_id"])
        batch.add_column(sa.Column("updates_marker", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("credential_key", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("credentials_refused", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "sferum_inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=8), nullable=False),
        sa.Column("update_key", sa.String(length=64), nullable=False),
        sa.Column("update_type", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sferum_inbox"),
        sa.UniqueConstraint("platform", "update_key", name="uq_sferum_inbox_platform"),
    )
    op.create_index("ix_sferum_inbox_processed_at", "sferum_inbox", ["processed_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_sferum_inbox_processed_at", table_name="sferum_inbox")
    op.drop_table("sferum_inbox")
    with op.batch_alter_table("sferum_link_requests") as batch:
        batch.drop_column("outcome")
    with op.batch_alter_table("sferum_sync_service") as batch:
        batch.drop_column("credentials_refused")
        batch.drop_column("credential_key")
        batch.drop_column("updates_marker")
    # Another platform's rows cannot be told apart once the column is gone: only VK Messenger's are kept.
    for table in _PLATFORM_TABLES:
        op.execute(sa.text(f"DELETE FROM {table} WHERE platform <> 'vk'"))  # noqa: S608 (a constant name)
    with op.batch_alter_table("sferum_sync_service") as batch:
        batch.drop_constraint("pk_sferum_sync_service", type_="primary")
        batch.create_primary_key("pk_sferum_sync_service", ["app_id"])
    for table, name, columns in _UNIQUES:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(name, type_="unique")
            batch.create_unique_constraint(name, columns)
    for table in _PLATFORM_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("platform")
