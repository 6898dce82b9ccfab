"""Applying a plan: record each operation, send them through ``execute`` (25 per request), record outcomes.

The order makes a crash at any point harmless.  Operations are first committed as ``sending``; only then are
they sent; their outcomes and the new known members are committed together afterwards.  A worker that dies in
between leaves ``sending`` rows behind: the next pass reads the chat's real member list before planning it,
which settles each of them (done if Sferum already shows the change, pending otherwise), so nothing is lost and
nothing is sent twice on a guess.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence, Set
from datetime import datetime

import attrs
from sqlalchemy import bindparam, delete, insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hookspecs.services import Database
from sferum_plugin.account import Account
from sferum_plugin.gateway import operations
from sferum_plugin.gateway.batch import EXECUTE_MAX_CALLS
from sferum_plugin.gateway.codes import VkErrorCode
from sferum_plugin.gateway.errors import (
    AccessDeniedError,
    QuotaExceededError,
    SferumError,
    UserNotInChatError,
    may_have_been_applied,
)
from sferum_plugin.gateway.operations import Operation
from sferum_plugin.models import SferumChat, SferumChatMember, SferumSyncOperation
from sferum_plugin.services.sync.api import ChatsApi
from sferum_plugin.services.sync.plan import Plan
from sferum_plugin.services.sync.queue import pause_service
from sferum_plugin.services.sync.reasons import (
    MAX_ATTEMPTS,
    Retry,
    Verdict,
    backoff,
    reason_of,
    verdict_of,
)
from sferum_plugin.services.sync.verify import read_member_lists

__all__ = ["Applied", "add_known", "apply_plan", "remove_known"]

logger = logging.getLogger(__name__)

Key = tuple[int, int, str]  # (chat row id, Sferum user id, "add" | "remove")


@attrs.define
class Applied:
    """Counts of one apply step."""

    added: int = 0
    removed: int = 0
    failed: int = 0
    requests: int = 0
    quota: QuotaExceededError | None = None
    resume_at: datetime | None = None


def apply_plan(db: Database, api: ChatsApi, plan: Plan, *, account: Account, now: datetime) -> Applied:
    """Send the plan's due differences and record every outcome."""
    result = Applied()
    keys: list[Key] = []
    for chat_pk, chat in sorted(plan.chats.items()):
        if chat.state != "active" or chat.chat_id is None:
            continue
        keys.extend((chat_pk, user, "add") for user in sorted(chat.diff.add))
        keys.extend((chat_pk, user, "remove") for user in sorted(chat.diff.remove))
    with db.session() as session:
        _retire_obsolete(session, plan, now)
        if keys:
            _mark_sending(session, plan, keys, now)
    if not keys:
        return result
    chat_ids = {pk: chat.chat_id for pk, chat in plan.chats.items() if chat.chat_id is not None}
    batch: list[Operation[None]] = [
        operations.add_chat_member(chat_ids[pk], user)
        if action == "add"
        else operations.remove_chat_member(chat_ids[pk], user)
        for pk, user, action in keys
    ]
    outcomes = api.execute_batch(batch)
    # An upper bound: execute_batch stops at a request that fails as a whole (a quota error, say).
    result.requests = -(-len(batch) // EXECUTE_MAX_CALLS)
    errors = [o.error for o in outcomes]
    unsettled = _settle_re_adds(api, keys, errors, chat_ids, result)
    with db.session() as session:
        _record(session, plan, keys, errors, result, account=account, now=now, unsettled=unsettled)
    return result


def _settle_re_adds(
    api: ChatsApi, keys: Sequence[Key], errors: list[SferumError | None], chat_ids: dict[int, int], result: Applied
) -> set[Key]:
    """Sferum answers error 15 (access denied) to adding someone who is already in the chat (seen in the field).  So
    after a 15 on an add, the chat's real member list decides: there, the add is done (its error is cleared); not
    there, Sferum refused it (the error stays).  Returns the adds whose list could not be read (or that met a quota
    pause, which forbids reading now): they stay ``sending``, for the next pass's read to settle, as after a crash."""
    re_adds = [
        index
        for index, ((_, _, action), error) in enumerate(zip(keys, errors, strict=True))
        if action == "add" and isinstance(error, AccessDeniedError) and error.code == VkErrorCode.ACCESS
    ]
    if not re_adds:
        return set()
    if any(isinstance(error, QuotaExceededError) for error in errors):
        return {keys[index] for index in re_adds}
    lists = read_member_lists(api, {keys[index][0]: chat_ids[keys[index][0]] for index in re_adds})
    result.requests += lists.requests
    unsettled: set[Key] = set()
    for index in re_adds:
        chat_pk, user, _ = keys[index]
        if chat_pk not in lists.members:
            unsettled.add(keys[index])
        elif user in lists.members[chat_pk]:
            errors[index] = None
    return unsettled


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
    vanished: set[int] = attrs.field(factory=set)
    """Chats Sferum no longer has."""
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
) -> None:
    """Record each operation's outcome, the known members it changed, the chats it touched and any pause; the
    ``unsettled`` ones stay ``sending`` and their chats are read next pass."""
    outcomes = _Outcomes()
    for key, error in zip(keys, errors, strict=True):
        if key in unsettled:
            outcomes.unsure.add(key[0])
            continue
        prior = plan.open_ops.get(key)
        _note_outcome(key, error, (prior.attempts if prior else 0) + 1, outcomes, result, now=now)
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
    _mark_chats(session, unsure=outcomes.unsure, vanished=outcomes.vanished)
    if result.quota is not None:
        result.resume_at = pause_service(session, account, result.quota, now=now, reason=reason_of(result.quota))


def _note_outcome(
    key: Key, error: SferumError | None, attempts: int, outcomes: _Outcomes, result: Applied, *, now: datetime
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
        outcomes.vanished.add(chat_pk)
        row["state"] = "obsolete"
    elif verdict is Verdict.FAILED:
        row["state"] = "failed"
        result.failed += 1
    else:
        if may_have_been_applied(error):
            outcomes.unsure.add(chat_pk)
        given_up = attempts >= MAX_ATTEMPTS
        row.update(state="failed" if given_up else "pending", next_attempt_at=now + backoff(attempts))
        if given_up:
            row["last_error"] = reason_of(error, retry=Retry.GIVEN_UP)  # no «будет повторена» for the last one
        result.failed += given_up


def _mark_chats(session: Session, *, unsure: set[int], vanished: set[int]) -> None:
    """Flag the chats to verify next pass, and mark the ones Sferum no longer has."""
    if unsure:
        session.execute(update(SferumChat).where(SferumChat.id.in_(sorted(unsure))).values(needs_verify=True))
    if vanished:
        logger.warning("chats vanished from Sferum: rows %s", sorted(vanished))
        session.execute(
            update(SferumChat)
            .where(SferumChat.id.in_(sorted(vanished)))
            .values(state="vanished", error="Чат удалён в Сферуме.")
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
