"""Planning a pass: the chats in scope, their desired and known members, and the difference to apply.

Everything is read in a fixed number of queries (chats, links, listed members, known members, open operations)
and a fixed number of bulk directory calls, whatever the number of chats.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

import attrs
from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from hookspecs.services import Directory
from sferum_plugin.account import Account
from sferum_plugin.models import (
    ProfileLink,
    SferumChat,
    SferumChatListedMember,
    SferumChatMember,
    SferumSyncOperation,
)
from sferum_plugin.services.sync.desired import ChatTarget, DesiredChat, desired_members
from sferum_plugin.services.sync.diff import MembershipDiff, membership_diff

__all__ = ["OPEN_STATES", "ChatPlan", "OpenOperation", "Plan", "make_plan"]

OPEN_STATES = ("pending", "sending", "failed")
"""Operations still relevant to planning: to send, sent without a recorded outcome, refused for good."""


@attrs.frozen
class OpenOperation:
    """An operation that is not done: ``(chat, user, action)`` is its identity while it is open."""

    id: int
    chat_pk: int
    sferum_user_id: int
    action: str
    state: str
    attempts: int
    next_attempt_at: datetime | None


@attrs.frozen
class ChatPlan:
    """One chat: what it should hold, what we know it holds, and the difference still to apply."""

    chat: ChatTarget
    chat_id: int | None
    state: str
    desired: DesiredChat
    known: frozenset[int]
    needed: MembershipDiff
    """The whole difference between desired and known."""
    diff: MembershipDiff
    """The part of ``needed`` to send now (no permanent failure, retry due)."""


@attrs.frozen
class Plan:
    """A pass's plan: per chat, plus what the apply step needs (links by Sferum id, open operations)."""

    chats: dict[int, ChatPlan]
    user_of: Mapping[int, int]  # Sferum user id → LMS account id (linked profiles)
    open_ops: Mapping[tuple[int, int, str], OpenOperation]


def links_of(session: Session, account: Account) -> dict[int, int]:
    """Every linked profile of the organisation: LMS account id → Sferum user id."""
    rows = session.execute(select(ProfileLink.user_id, ProfileLink.sferum_user_id).where(*account.owns(ProfileLink)))
    return {user_id: sferum_id for user_id, sferum_id in rows}


def make_plan(
    session: Session,
    directory: Directory,
    *,
    account: Account,
    chat_pks: Iterable[int],
    org_user_id: int | None,
    strict: bool,
    now: datetime,
) -> Plan:
    """Plan chats ``chat_pks``; pairs with a permanent failure or a retry not yet due are left out of the diff."""
    pks = sorted(set(chat_pks))
    rows = _chat_rows(session, pks)
    links = links_of(session, account)
    listed = _listed_members(session, pks)
    known = _known_members(session, pks)
    open_ops = _open_operations(session, pks)
    targets = [ChatTarget(row.id, row.kind, row.target_id, owner_user_id=row.created_by) for row in rows]
    desired = desired_members(directory, targets, links=links, listed=listed, org_user_id=org_user_id)
    managed = set(links.values())
    org = {org_user_id} if org_user_id is not None else set()
    chats: dict[int, ChatPlan] = {}
    for row, target in zip(rows, targets, strict=True):
        # The organisation account and the chat's owner are never removed, not even in strict mode.
        owner = {links[row.created_by]} if row.created_by in links else set()
        full = membership_diff(
            row.id,
            desired[row.id].members,
            known[row.id],
            managed=managed,
            protected=org | owner,
            strict=strict,
            not_added=org,
        )
        chats[row.id] = ChatPlan(
            chat=target,
            chat_id=row.chat_id,
            state=row.state,
            desired=desired[row.id],
            known=frozenset(known[row.id]),
            needed=full,
            diff=_due(full, open_ops, now),
        )
    return Plan(chats=chats, user_of={s: u for u, s in links.items()}, open_ops=open_ops)


def _chat_rows(session: Session, pks: Sequence[int]) -> Sequence[Row[int, str, int | None, int | None, str, int]]:
    """The chats being planned: what each is for (kind, target, owner) and where it stands in Sferum.

    Columns: ``id, kind, target_id, chat_id, state, created_by``.
    """
    return session.execute(
        select(
            SferumChat.id,
            SferumChat.kind,
            SferumChat.target_id,
            SferumChat.chat_id,
            SferumChat.state,
            SferumChat.created_by,
        ).where(SferumChat.id.in_(pks))
    ).all()


def _listed_members(session: Session, pks: Sequence[int]) -> dict[int, list[int]]:
    """The LMS accounts an admin listed by hand in each chat (custom chats)."""
    listed: dict[int, list[int]] = defaultdict(list)
    for chat_pk, user_id in session.execute(
        select(SferumChatListedMember.chat_pk, SferumChatListedMember.user_id).where(
            SferumChatListedMember.chat_pk.in_(pks)
        )
    ):
        listed[chat_pk].append(user_id)
    return listed


def _known_members(session: Session, pks: Sequence[int]) -> defaultdict[int, set[int]]:
    """The Sferum users we know each chat holds (what we applied or last read), by chat row id.

    A ``defaultdict``: a chat we know no member of (a new one) reads as an empty set.
    """
    known: defaultdict[int, set[int]] = defaultdict(set)
    for chat_pk, sferum_id in session.execute(
        select(SferumChatMember.chat_pk, SferumChatMember.sferum_user_id).where(SferumChatMember.chat_pk.in_(pks))
    ):
        known[chat_pk].add(sferum_id)
    return known


def _open_operations(session: Session, pks: Sequence[int]) -> dict[tuple[int, int, str], OpenOperation]:
    """The chats' operations that are not done, by ``(chat, user, action)``."""
    rows = session.execute(
        select(
            SferumSyncOperation.id,
            SferumSyncOperation.chat_pk,
            SferumSyncOperation.sferum_user_id,
            SferumSyncOperation.action,
            SferumSyncOperation.state,
            SferumSyncOperation.attempts,
            SferumSyncOperation.next_attempt_at,
        ).where(SferumSyncOperation.chat_pk.in_(pks), SferumSyncOperation.state.in_(OPEN_STATES))
    )
    return {(op.chat_pk, op.sferum_user_id, op.action): op for op in (OpenOperation(*row) for row in rows)}


def _due(diff: MembershipDiff, open_ops: Mapping[tuple[int, int, str], OpenOperation], now: datetime) -> MembershipDiff:
    """The part of ``diff`` to send now: not refused for good, and no retry still waiting for its time."""

    def due(user: int, action: str) -> bool:
        op = open_ops.get((diff.chat_pk, user, action))
        if op is None:
            return True
        if op.state == "failed":
            return False
        return op.next_attempt_at is None or op.next_attempt_at <= now

    return MembershipDiff(
        chat_pk=diff.chat_pk,
        add=frozenset(u for u in diff.add if due(u, "add")),
        remove=frozenset(u for u in diff.remove if due(u, "remove")),
    )
