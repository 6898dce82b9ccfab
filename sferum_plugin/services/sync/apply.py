"""Applying a plan: record each operation, send them through the platform's adapter, record outcomes.

The order makes a crash at any point harmless.  Operations are first committed as ``sending``; only then are
they sent; their outcomes and the new known members are committed together afterwards.  A worker that dies in
between leaves ``sending`` rows behind: the next pass reads the chat's real member list before planning it,
which settles each of them (done if the platform already shows the change, pending otherwise), so nothing is lost
and nothing is sent twice on a guess.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence, Set
from datetime import datetime

import attrs
from sqlalchemy import bindparam, delete, insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hookspecs.services import Database
from sferum_plugin.account import Account
from sferum_plugin.gateway.errors import (
    QuotaExceededError,
    SferumError,
    UserNotInChatError,
    may_have_been_applied,
)
from sferum_plugin.models import SferumChat, SferumChatMember, SferumSyncOperation
from sferum_plugin.services.sync.api import Change, ChatMembership
from sferum_plugin.services.sync.plan import Plan
from sferum_plugin.services.sync.queue import NOT_MANAGEABLE, pause_for_credentials, pause_service
from sferum_plugin.services.sync.reasons import (
    MAX_ATTEMPTS,
    Retry,
    Verdict,
    backoff,
    reason_of,
    verdict_of,
)

__all__ = ["Applied", "add_known", "apply_plan", "mark_lost_chats", "remove_known"]

logger = logging.getLogger(__name__)

Key = tuple[int, int, str]  # (chat row id, platform user id, "add" | "remove")


@attrs.define
class Applied:
    """Counts of one apply step, and what stopped it: a quota pause, or refused credentials (MAX 401)."""

    added: int = 0
    removed: int = 0
    failed: int = 0
    requests: int = 0
    quota: QuotaExceededError | None = None
    stop: SferumError | None = None
    resume_at: datetime | None = None


def apply_plan(db: Database, membership: ChatMembership, plan: Plan, *, account: Account, now: datetime) -> Applied:
    """Send the plan's due differences and record every outcome."""
    result = Applied()
    changes: list[Change] = []
    for chat_pk, chat in sorted(plan.chats.items()):
        if chat.state != "active" or chat.chat_id is None:
            continue
        changes.extend(Change(chat_pk, chat.chat_id, user, "add") for user in sorted(chat.diff.add))
        changes.extend(Change(chat_pk, chat.chat_id, user, "remove") for user in sorted(chat.diff.remove))
    keys = [change.key for change in changes]
    with db.session() as session:
        _retire_obsolete(session, plan, now)
        if keys:
            _mark_sending(session, plan, keys, now)
    if not keys:
        return result
    sent = membership.send_changes(changes)
    result.requests = sent.requests
    with db.session() as session:
        _record(session, plan, keys, sent.errors, result, account=account, now=now, unsettled=sent.unsettled,
                unsent=sent.unsent)  # fmt: skip
        _mark_chats(session, unsure=sent.unsure)
        if result.stop is not None:
            result.resume_at = pause_for_credentials(
                session, account, now=now, reason=reason_of(result.stop), credential=membership.credential
            )
    return result


def _retire_obsolete(session: Session, plan: Plan, now: datetime) -> None:
    """Mark obsolete the open operations the plan no longer needs (the person left the group meanwhile, say)."""
    stale = []
    for (chat_pk, user, action), op in plan.open_ops.items():
        chat = plan.chats.get(chat_pk)
        if chat is None or op.state == "sending":
            continue
        wanted = chat.needed.add if action == "add" else chat.needed.remove
        if user not in wanted:
            stale.append({"op_id": op.id})
    if stale:
        session.connection().execute(
            update(SferumSyncOperation)
            .where(SferumSyncOperation.id == bindparam("op_id"))
            .values(state="obsolete", updated_at=now),
            stale,
        )


def _mark_sending(session: Session, plan: Plan, keys: Sequence[Key], now: datetime) -> None:
    """Commit every operation about to be sent as ``sending`` (reusing its open row), before anything is sent."""
    reused, new = [], []
    for chat_pk, user, action in keys:
        op = plan.open_ops.get((chat_pk, user, action))
        if op is not None:
            reused.append({"op_id": op.id})
        else:
            new.append(
                {"chat_pk": chat_pk, "sferum_user_id": user, "user_id": plan.user_of.get(user), "action": action,
                 "state": "sending", "attempts": 0, "created_at": now, "updated_at": now}
            )  # fmt: skip
    if reused:
        session.connection().execute(
            update(SferumSyncOperation)
            .where(SferumSyncOperation.id == bindparam("op_id"))
            .values(state="sending", updated_at=now),
            reused,
        )
    if new:
        session.execute(insert(SferumSyncOperation), new)


@attrs.define
class _Outcomes:
    """What the sent operations came to, gathered so that each kind of write is one statement."""

    rows: list[dict[str, object]] = attrs.field(factory=list)
    """One per operation: its key (``k_chat``, ``k_user``, ``k_action``) and its new state, attempts, error."""
    added: list[tuple[int, int]] = attrs.field(factory=list)
    removed: list[tuple[int, int]] = attrs.field(factory=list)
    lost: dict[int, tuple[str, str]] = attrs.field(factory=dict)
    """Chats the sync can no longer manage: gone (``vanished``), or the bot may not manage them (MAX 403), with the
    state and the reason to record."""
    unsure: set[int] = attrs.field(factory=set)
    """Chats where an answer did not say whether the change was applied: read their real list next pass."""


def _record(
    session: Session,
    plan: Plan,
    keys: Sequence[Key],
    errors: Sequence[SferumError | None],
    result: Applied,
    *,
    account: Account,
    now: datetime,
    unsettled: Set[Key] = frozenset(),
    unsent: Set[Key] = frozenset(),
) -> None:
    """Record each operation's outcome, the known members it changed, the chats it touched and any pause; the
    ``unsettled`` ones stay ``sending`` and their chats are read next pass; the ``unsent`` ones carry a failure that
    cannot have applied them."""
    outcomes = _Outcomes()
    for key, error in zip(keys, errors, strict=True):
        if key in unsettled:
            outcomes.unsure.add(key[0])
            continue
        prior = plan.open_ops.get(key)
        _note_outcome(
            key, error, (prior.attempts if prior else 0) + 1, outcomes, result, now=now, sent=key not in unsent
        )
    session.connection().execute(
        update(SferumSyncOperation)
        .where(
            SferumSyncOperation.chat_pk == bindparam("k_chat"),
            SferumSyncOperation.sferum_user_id == bindparam("k_user"),
            SferumSyncOperation.action == bindparam("k_action"),
            SferumSyncOperation.state == "sending",
        )
        .values(updated_at=now),
        outcomes.rows,
    )
    add_known(session, outcomes.added)
    remove_known(session, outcomes.removed)
    result.added += len(outcomes.added)
    result.removed += len(outcomes.removed)
    _mark_chats(session, unsure=outcomes.unsure)
    mark_lost_chats(session, outcomes.lost)
    if result.quota is not None:
        result.resume_at = pause_service(session, account, result.quota, now=now, reason=reason_of(result.quota))


def _note_outcome(
    key: Key,
    error: SferumError | None,
    attempts: int,
    outcomes: _Outcomes,
    result: Applied,
    *,
    now: datetime,
    sent: bool = True,
) -> None:
    """Add the operation's new row to ``outcomes`` (``attempts`` counts this one), and what it changed."""
    chat_pk, user, action = key
    row: dict[str, object] = {"k_chat": chat_pk, "k_user": user, "k_action": action, "attempts": attempts,
                              "last_error": None, "next_attempt_at": None, "state": "done"}  # fmt: skip
    outcomes.rows.append(row)
    # Removing someone who already left reaches the state we wanted: it counts as done.
    if error is None or (action == "remove" and isinstance(error, UserNotInChatError)):
        (outcomes.added if action == "add" else outcomes.removed).append((chat_pk, user))
        return
    verdict = verdict_of(error)
    row["last_error"] = reason_of(error)
    if verdict is Verdict.PAUSE:
        assert isinstance(error, QuotaExceededError)
        result.quota = result.quota or error
        # The quota refused the call, so it was no try at the change: it goes again after the pause without
        # using up one of its MAX_ATTEMPTS.
        row.update(state="pending", attempts=attempts - 1)
    elif verdict is Verdict.VANISHED:
        outcomes.lost[chat_pk] = ("vanished", reason_of(error))
        row["state"] = "obsolete"
    elif verdict in (Verdict.DENIED, Verdict.STOP):
        # Not a try at the change: it waits, attempts unused, until the chat is checked again (the bot made its
        # administrator) or the credentials change.
        if verdict is Verdict.DENIED:
            outcomes.lost[chat_pk] = (NOT_MANAGEABLE, reason_of(error))
        else:
            result.stop = result.stop or error
        row.update(state="pending", attempts=attempts - 1)
    elif verdict is Verdict.FAILED:
        row["state"] = "failed"
        result.failed += 1
    else:
        if sent and may_have_been_applied(error):
            outcomes.unsure.add(chat_pk)
        given_up = attempts >= MAX_ATTEMPTS
        row.update(state="failed" if given_up else "pending", next_attempt_at=now + backoff(attempts))
        if given_up:
            row["last_error"] = reason_of(error, retry=Retry.GIVEN_UP)  # no «будет повторена» for the last one
        result.failed += given_up


def _mark_chats(session: Session, *, unsure: Set[int]) -> None:
    """Flag the chats to verify next pass."""
    if unsure:
        session.execute(update(SferumChat).where(SferumChat.id.in_(sorted(unsure))).values(needs_verify=True))


def mark_lost_chats(session: Session, lost: Mapping[int, tuple[str, str]]) -> None:
    """Mark the chats the sync can no longer manage (chat row id → (state, reason)): ``vanished`` (gone) or
    :data:`~sferum_plugin.services.sync.queue.NOT_MANAGEABLE` (MAX: the bot may not manage the members).  Passes
    leave them alone from then on; the reason says what to do."""
    if not lost:
        return
    logger.warning("chats the sync can no longer manage: %s", {pk: state for pk, (state, _) in sorted(lost.items())})
    session.connection().execute(
        update(SferumChat)
        .where(SferumChat.id == bindparam("k_chat"), SferumChat.state == "active")
        .values(state=bindparam("k_state"), error=bindparam("k_error")),
        [{"k_chat": pk, "k_state": state, "k_error": reason} for pk, (state, reason) in sorted(lost.items())],
    )


def add_known(session: Session, pairs: Sequence[tuple[int, int]]) -> None:
    """Record that the Sferum users are members of the chats (``(chat row id, user)`` pairs)."""
    if not pairs:
        return
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = module.insert(SferumChatMember).on_conflict_do_nothing()
    session.execute(statement, [{"chat_pk": pk, "sferum_user_id": user} for pk, user in pairs])


def remove_known(session: Session, pairs: Sequence[tuple[int, int]]) -> None:
    """Record that the Sferum users are no longer members of the chats."""
    if not pairs:
        return
    session.connection().execute(
        delete(SferumChatMember).where(
            SferumChatMember.chat_pk == bindparam("k_chat"), SferumChatMember.sferum_user_id == bindparam("k_user")
        ),
        [{"k_chat": pk, "k_user": user} for pk, user in pairs],
    )
