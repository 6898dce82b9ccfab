"""The module's own tables (prefix ``sferum_``), kept in the host's database.

The schema is owned by the Alembic migrations in ``sferum_plugin/migrations``; these classes describe it for the
ORM and must match the latest revision (a test compares them).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = [
    "ACTIVE_LESSON_STATES",
    "CHAT_KINDS",
    "CHAT_STATES",
    "Base",
    "LinkRequest",
    "OnlineLesson",
    "ProfileEvent",
    "ProfileLink",
    "SferumChat",
    "SferumChatListedMember",
    "SferumChatMember",
    "SferumInbox",
    "SferumMailing",
    "SferumMailingRecipient",
    "SferumSyncOperation",
    "SferumSyncPass",
    "SferumSyncRequest",
    "SferumSyncService",
]

# Named constraints, so that migrations can drop and alter them on every backend (SQLite batch mode included).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp stored in UTC on every backend.

    SQLite has no timezone type: SQLAlchemy would store the wall-clock digits of an aware value and hand back a
    naive one. Converting to UTC on the way in and marking UTC on the way out makes both backends agree.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware one")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of the module's tables (a metadata of their own, separate from the host's)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ProfileLink(Base):
    """The link between an LMS account and a Sferum educational profile, for one organisation (APP ID).

    The seed: «Создать учебный профиль Сферум» stores the link between the user's educational profile and the
    organisation's token, so that users are routed between the LMS and Sferum.
    """

    __tablename__ = "sferum_profile_links"
    __table_args__ = (
        UniqueConstraint("platform", "app_id", "user_id", name="uq_sferum_profile_links_app_user"),
        UniqueConstraint("platform", "app_id", "sferum_user_id", name="uq_sferum_profile_links_app_sferum_user"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(8))
    app_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    sferum_user_id: Mapped[int] = mapped_column(BigInteger)
    display_name: Mapped[str] = mapped_column(String(255), default="")
    linked_at: Mapped[datetime] = mapped_column(UtcDateTime())


class LinkRequest(Base):
    """A pending VK ID authorization started by «Создать учебный профиль Сферум».

    The PKCE verifier stays here, on the server; the browser only ever sees the ``state`` (stored hashed, so a
    database reader cannot complete someone else's flow) and the S256 challenge.  A row is single use and expires.
    On MAX a row is a deep link's one-time payload (stored hashed in ``state_hash``; no verifier, no redirect), and
    ``outcome`` says what its ``bot_started`` came to (:mod:`sferum_plugin.services.max_profiles`).
    """

    __tablename__ = "sferum_link_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    platform: Mapped[str] = mapped_column(String(8))
    app_id: Mapped[int] = mapped_column(BigInteger)
    code_verifier: Mapped[str] = mapped_column(String(128))
    redirect_uri: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)  # MAX: linked | taken | expired


class ProfileEvent(Base):
    """A durable record that a profile was linked or unlinked, for the chat membership service to consume.

    Written in the same transaction as the link itself (an outbox), so the event is never lost nor invented.
    """

    __tablename__ = "sferum_profile_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "linked" | "unlinked"
    user_id: Mapped[int] = mapped_column(Integer)
    sferum_user_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    processed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True, index=True)


ACTIVE_LESSON_STATES = ("starting", "active")
"""States in which an online lesson holds its schedule lesson: at most one row per lesson may be in them."""


class OnlineLesson(Base):
    """An online lesson (a Sferum call) held for a lesson of the schedule.

    States: ``starting`` (a teacher pressed «Начать», the call is being created), ``active`` (the call exists),
    ``unknown`` (Sferum did not confirm whether the call was created), ``failed`` (Sferum refused), ``ended``.
    The partial unique index admits one ``starting``/``active`` row per lesson, so two concurrent starts (double
    click, two tabs, two workers) create exactly one call: the second insert fails before any call is made.
    """

    __tablename__ = "sferum_online_lessons"
    __table_args__ = (
        Index(
            "uq_sferum_online_lessons_one_active",
            "lesson_id",
            unique=True,
            sqlite_where=text("state IN ('starting', 'active')"),
            postgresql_where=text("state IN ('starting', 'active')"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lesson_id: Mapped[int] = mapped_column(Integer, index=True)
    platform: Mapped[str] = mapped_column(String(8))
    app_id: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16))
    call_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    join_link: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    ok_join_link: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    started_by: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ended_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(16), nullable=True)  # teacher | admin | auto | sferum
    error: Mapped[str | None] = mapped_column(String(500), nullable=True)


# --------------------------------------------------------------------------------------------------------------
# Chats and the membership sync service (PRODUCT.md §5)
# --------------------------------------------------------------------------------------------------------------

CHAT_KINDS = ("group", "unit", "custom")
"""A chat of a study group, of a structural unit, or a custom chat with listed members."""

CHAT_STATES = ("creating", "unknown", "awaiting", "active", "vanished", "bot_removed", "failed")
"""``creating``: not (yet) created in Sferum; ``unknown``: createChat's outcome is not known, reconcile by marker;
``awaiting`` (MAX): the chat button was sent, MAX creates the chat when the person taps it; ``active``: exists;
``vanished``: Sferum answered 927, or MAX 404 (re-creatable); ``bot_removed`` (MAX): the bot was removed from the
chat or lost its administrator's rights; ``failed``: Sferum refused to create it."""


class SferumChat(Base):
    """A chat the module manages in Sferum.

    At most one chat per study group and per unit: the unique constraint on ``(app_id, kind, target_id)``
    makes a second request open the existing one (custom chats have ``target_id`` NULL, and NULLs are
    distinct on both backends).  ``marker`` is a short tag placed in the Sferum title so a createChat with an
    unknown outcome can be found again (``messages.searchConversations``).  ``lease_*`` let one worker at a
    time plan and apply changes to the chat.
    """

    __tablename__ = "sferum_chats"
    __table_args__ = (
        UniqueConstraint("platform", "app_id", "kind", "target_id", name="uq_sferum_chats_app_kind_target"),
        UniqueConstraint("platform", "app_id", "marker", name="uq_sferum_chats_app_marker"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(8))
    app_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    title: Mapped[str] = mapped_column(String(255))
    marker: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), index=True)
    chat_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    invite_link: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    created_by: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    needs_verify: Mapped[bool] = mapped_column(Boolean, default=False)
    last_synced_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    last_verified_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    lease_holder: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class SferumChatMember(Base):
    """Known state: a Sferum user the module believes is a member of a chat (refreshed by verification)."""

    __tablename__ = "sferum_chat_members"
    __table_args__ = (UniqueConstraint("chat_pk", "sferum_user_id", name="uq_sferum_chat_members_chat_user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_pk: Mapped[int] = mapped_column(Integer, index=True)
    sferum_user_id: Mapped[int] = mapped_column(BigInteger, index=True)


class SferumChatListedMember(Base):
    """A listed member of a custom chat (an LMS account); desired while the person is active."""

    __tablename__ = "sferum_chat_listed_members"
    __table_args__ = (UniqueConstraint("chat_pk", "user_id", name="uq_sferum_chat_listed_members_chat_user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_pk: Mapped[int] = mapped_column(Integer, index=True)
    user_id: Mapped[int] = mapped_column(Integer)


class SferumSyncOperation(Base):
    """One add or remove of a chat member, with its outcome.

    States: ``pending`` (to send, at ``next_attempt_at``), ``sending`` (handed to Sferum; if a worker dies
    here the chat's real member list decides the outcome), ``done``, ``failed`` (permanent, shown to admins),
    ``obsolete`` (no longer needed).
    """

    __tablename__ = "sferum_sync_operations"
    __table_args__ = (Index("ix_sferum_sync_operations_open", "state", "chat_pk"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_pk: Mapped[int] = mapped_column(Integer, index=True)
    sferum_user_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    action: Mapped[str] = mapped_column(String(8))  # "add" | "remove"
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class SferumSyncRequest(Base):
    """A durable request to sync (a host notification, a profile event, «Синхронизировать сейчас»).

    Coalesced by ``scope``: a second request for the same scope only moves ``requested_at``; a worker deletes
    the row only if ``requested_at`` did not move while it worked, so a notification during a pass is kept.
    """

    __tablename__ = "sferum_sync_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(64), unique=True)  # "all" | "chat:<pk>" | "group:<id>" | "unit:<id>"
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime())


class SferumSyncPass(Base):
    """A pass of the sync service, with its counts (the admin page's history).

    ``connection_errors``, ``rate_limited`` and ``quota_errors`` count the pass's failed attempts, retries included
    (no reply or an HTTP 5xx; error 6 or HTTP 429; errors 9 and 29); ``unreachable`` says its last attempt got no
    reply from Sferum (the sync page then shows a banner until a pass gets through).
    """

    __tablename__ = "sferum_sync_passes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(16))  # "queue" | "full" | "dry-run"
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    chats: Mapped[int] = mapped_column(Integer, default=0)
    added: Mapped[int] = mapped_column(Integer, default=0)
    removed: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str | None] = mapped_column(String(500), nullable=True)
    connection_errors: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rate_limited: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    quota_errors: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    unreachable: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class SferumSyncService(Base):
    """The service's own row per organisation: the org account's Sferum id, and a quota pause.

    ``flood_strikes`` counts the flood-control pauses (error 9) in a row: each one pauses longer than the one before
    (:func:`~sferum_plugin.gateway.retry.quota_pause`); a pass that reaches Sferum without a quota error resets it.
    ``credential_key`` is a key of the token ``org_user_id`` was learned with (never the token): a pass with another
    token learns it again and ends a pause for refused credentials (``credentials_refused``, MAX 401).
    ``updates_marker`` is MAX's long-polling position.
    """

    __tablename__ = "sferum_sync_service"

    platform: Mapped[str] = mapped_column(String(8), primary_key=True)
    app_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    org_user_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    paused_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    pause_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    flood_strikes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    updates_marker: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    credential_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    credentials_refused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class SferumSyncWorker(Base):
    """A sync worker running a pass: the rate limit is shared among the live ones, and on SQLite only one runs.

    A row lives from the start of a pass to its end; ``until`` is renewed by long passes, and a crashed worker's
    row stops counting once ``until`` has passed.
    """

    __tablename__ = "sferum_sync_workers"

    holder: Mapped[str] = mapped_column(String(100), primary_key=True)
    platform: Mapped[str] = mapped_column(String(8))
    app_id: Mapped[int] = mapped_column(BigInteger, index=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    until: Mapped[datetime] = mapped_column(UtcDateTime())


class SferumMailing(Base):
    """An e-mail mailing (issue 6): who made it for whom, its texts, its state and its running counts.

    ``state`` is ``preparing`` (confirmed; the job has yet to expand the audience into recipients), ``sending`` (the
    job works on it), ``paused``, ``cancelled`` or ``finished``; a worker holds the
    mailing while ``lease_until`` is in the future, so two processes never send the same mailing at once.
    """

    __tablename__ = "sferum_mailings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    author_user_id: Mapped[int] = mapped_column(Integer)
    author_name: Mapped[str] = mapped_column(String(255), default="")
    section: Mapped[str] = mapped_column(String(16))  # "students" | "employees"
    audience: Mapped[str] = mapped_column(String(1000), default="")  # how the audience was chosen, for people
    # How to find the recipients (JSON: selected ids and the list's filters); the job expands it, not the request.
    audience_spec: Mapped[str] = mapped_column(Text(), default="")
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text())
    link_url: Mapped[str] = mapped_column(String(1000), default="")
    state: Mapped[str] = mapped_column(String(16), index=True)
    total: Mapped[int] = mapped_column(Integer, default=0)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class SferumMailingRecipient(Base):
    """One recipient of a mailing, a snapshot of the name and address taken when the job expanded the audience.

    ``state``: ``queued``, ``sending`` (committed just before the SMTP transaction, so a restart knows it was in
    flight), ``sent``, ``failed`` (``reason`` holds the SMTP reply) or ``skipped`` (``reason`` says why).
    """

    __tablename__ = "sferum_mailing_recipients"
    __table_args__ = (Index("ix_sferum_mailing_recipients_mailing_state", "mailing_id", "state", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mailing_id: Mapped[int] = mapped_column(Integer)
    person_id: Mapped[int] = mapped_column(Integer)
    full_name: Mapped[str] = mapped_column(String(255), default="")
    email: Mapped[str] = mapped_column(String(320), default="")
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class SferumInbox(Base):
    """An event a platform delivered (MAX's webhook or long polling), kept until a job has handled it.

    The webhook answers MAX as soon as the row is committed; ``update_key`` (a digest of the event) makes a
    redelivered event a no-op.  ``processed_at`` is set once handled; a failing event keeps its ``error`` and is
    tried again, ``attempts`` times so far.
    """

    __tablename__ = "sferum_inbox"
    __table_args__ = (UniqueConstraint("platform", "update_key", name="uq_sferum_inbox_platform"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(8))
    update_key: Mapped[str] = mapped_column(String(64))
    update_type: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text())
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    processed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    error: Mapped[str | None] = mapped_column(String(500), nullable=True)
