"""The durable queue of sync requests, the chat leases, and the service-wide pauses (a quota; refused credentials).

Notifications from the host only write a row here (quick, no HTTP); a worker takes them later.  Requests are
coalesced by scope.  Chats are claimed with a lease in one short ``UPDATE``: on PostgreSQL the candidate rows are
picked with ``FOR UPDATE SKIP LOCKED`` so concurrent workers never wait for each other and never claim the same
chat; SQLite serializes writers, so the same ``UPDATE ... WHERE lease_until < now`` is atomic there as well.
A lease that runs out (a crashed worker) frees the chat for the next worker, which reconciles it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from sferum_plugin.account import Account
from sferum_plugin.gateway.codes import VkErrorCode
from sferum_plugin.gateway.errors import QuotaExceededError
from sferum_plugin.gateway.retry import escalate
from sferum_plugin.models import SferumChat, SferumSyncRequest, SferumSyncService

__all__ = [
    "CLAIMABLE_STATES",
    "CREDENTIALS_PAUSE",
    "NOT_MANAGEABLE",
    "SYNCED_STATES",
    "claim_chats",
    "end_flood_strikes",
    "enqueue",
    "finish_requests",
    "lift_credentials_pause",
    "pause_for_credentials",
    "pause_service",
    "pending_requests",
    "release_chats",
    "service_row",
]

CLAIMABLE_STATES = ("creating", "unknown", "active")
"""Chats a worker may take: to create, to reconcile, or to sync."""

SYNCED_STATES = ("active",)
"""Chats a worker may take on a platform where the sync creates no chat (MAX: a person's tap creates it; the row
waits ``awaiting`` meanwhile): only the existing ones, so that no pass takes a chat it can do nothing for."""

NOT_MANAGEABLE = "bot_removed"
"""A chat's state when MAX refuses the bot its members (403: removed from the chat, or no longer an administrator
with the right to add and remove members): passes leave it alone until «Проверить чат снова» makes it active
(:func:`sferum_plugin.services.max_chats.recheck`, whose ``BOT_REMOVED`` it is)."""

CREDENTIALS_PAUSE = timedelta(days=30)
"""How long refused credentials (MAX 401) stop the service when nothing else lifts the pause: a new token in the
settings or «Синхронизировать сейчас» lift it at once (:func:`lift_credentials_pause`); after this, one pass tries
again (a revoked token stays revoked, so that is one request a month)."""


def enqueue(session: Session, scopes: Iterable[str], now: datetime) -> None:
    """Ask for a sync of ``scopes`` (``"all"``, ``"chat:<pk>"``, ``"group:<id>"``, ``"unit:<id>"``,
    ``"student:<id>"``, ``"employee:<id>"``); a scope already queued only has its time moved."""
    rows = [{"scope": scope, "requested_at": now} for scope in dict.fromkeys(scopes)]
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(SferumSyncRequest)
    statement = statement.on_conflict_do_update(
        index_elements=[SferumSyncRequest.scope], set_={"requested_at": statement.excluded.requested_at}
    )
    session.execute(statement, rows)


def pending_requests(session: Session) -> dict[str, datetime]:
    """Every queued scope with the time it was (last) requested."""
    return dict(session.execute(select(SferumSyncRequest.scope, SferumSyncRequest.requested_at)).all())


def finish_requests(session: Session, taken: Mapping[str, datetime]) -> None:
    """Delete the requests a pass has served, unless they were requested again meanwhile."""
    if not taken:
        return
    statement = delete(SferumSyncRequest).where(
        SferumSyncRequest.scope == bindparam("s"), SferumSyncRequest.requested_at == bindparam("r")
    )
    session.connection().execute(statement, [{"s": scope, "r": at} for scope, at in taken.items()])


def claim_chats(
    session: Session,
    *,
    account: Account,
    holder: str,
    now: datetime,
    until: datetime,
    pks: Sequence[int] | None = None,
    states: Sequence[str] = CLAIMABLE_STATES,
) -> list[int]:
    """Lease the free chats among ``pks`` (every chat in ``states`` when ``None``) to ``holder``; returns their
    ids."""
    candidates = select(SferumChat.id).where(
        *account.owns(SferumChat),
        SferumChat.state.in_(states),
        or_(SferumChat.lease_until.is_(None), SferumChat.lease_until < now, SferumChat.lease_holder == holder),
    )
    if pks is not None:
        if not pks:
            return []
        candidates = candidates.where(SferumChat.id.in_(list(pks)))
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    statement = (
        update(SferumChat)
        .where(SferumChat.id.in_(candidates))
        .values(lease_holder=holder, lease_until=until)
        .returning(SferumChat.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(session.scalars(statement).all())


def release_chats(session: Session, pks: Iterable[int], holder: str) -> None:
    """Give back the leases ``holder`` holds on ``pks``."""
    ids = list(pks)
    if ids:
        session.execute(
            update(SferumChat)
            .where(SferumChat.id.in_(ids), SferumChat.lease_holder == holder)
            .values(lease_holder=None, lease_until=None)
            .execution_options(synchronize_session=False)
        )


def service_row(session: Session, account: Account) -> SferumSyncService:
    """The service's row for the organisation (created on first use)."""
    row = session.get(SferumSyncService, (account.platform, account.key))
    if row is None:
        # Two workers may start at once: insert-or-ignore, then read whichever row won.
        module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        session.execute(module.insert(SferumSyncService).values(**account.columns()).on_conflict_do_nothing())
        row = session.get(SferumSyncService, (account.platform, account.key))
    assert row is not None
    return row


def pause_service(
    session: Session, account: Account, quota: QuotaExceededError, *, now: datetime, reason: str
) -> datetime:
    """Stop every sync of the organisation after a quota error (9 or 29); return until when.

    Flood control can last hours, so when it comes back at once each pause is longer than the one before
    (:func:`~sferum_plugin.gateway.retry.quota_pause`: 10 min, 30 min, 2 h, then 6 h).  The number in a row is kept
    with the pause, since every pass is a job of its own; :func:`end_flood_strikes` starts it again.  The pause is
    measured on our own clock (``now`` plus the error's pause), so a skewed clock cannot shorten or stretch it.
    """
    row = service_row(session, account)
    if quota.code == VkErrorCode.FLOOD:
        row.flood_strikes = (row.flood_strikes or 0) + 1
        quota = escalate(quota, row.flood_strikes)
    until = now + timedelta(seconds=quota.retry_after)
    if row.paused_until is None or row.paused_until < until:
        row.paused_until = until
        row.pause_reason = reason
    return until


def end_flood_strikes(session: Session, account: Account) -> None:
    """Sferum answered a pass without flood control: the next flood-control pause is the shortest again."""
    session.execute(update(SferumSyncService).where(*account.owns(SferumSyncService)).values(flood_strikes=0))


def pause_for_credentials(
    session: Session, account: Account, *, now: datetime, reason: str, credential: str
) -> datetime:
    """Stop every sync of the account after the platform refused its credentials (MAX 401: the bot token); return
    until when.  No pass sends a request while it lasts; :func:`lift_credentials_pause` ends it when the credentials
    change or the administrator asks for a sync.  ``credential`` is a key of the refused token, never the token."""
    row = service_row(session, account)
    until = now + CREDENTIALS_PAUSE
    row.paused_until, row.pause_reason = until, reason
    row.credentials_refused, row.credential_key = True, credential
    return until


def lift_credentials_pause(row: SferumSyncService, credential: str | None) -> bool:
    """Bring the service's ``row`` up to date with the credentials in use, at the start of a pass; return whether a
    pause for refused credentials ended.

    ``credential`` is the key of the token in the settings now.  When it differs from the one the row knows, the
    token was changed: a pause for refused credentials ends, and since the new token may belong to another bot, the
    organisation account is learned again.  ``None`` (the administrator asked for a sync) ends such a pause
    whatever the token.
    """
    changed = credential is not None and row.credential_key != credential
    if changed:
        if row.credential_key is not None:
            row.org_user_id = None
        row.credential_key = credential
    if not row.credentials_refused or not (changed or credential is None):
        return False
    row.paused_until, row.pause_reason, row.credentials_refused = None, None, False
    return True
