"""Which chats a pass takes: queued requests resolved to chat rows, plus chats that need work anyway."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from hookspecs.services import Directory
from hookspecs.types import PersonKind
from sferum_plugin.account import Account
from sferum_plugin.models import SferumChat, SferumChatListedMember, SferumSyncOperation
from sferum_plugin.services.sync.queue import CLAIMABLE_STATES, enqueue

__all__ = ["active_chats", "chats_in_scope", "requeue_missed"]


def active_chats(session: Session, account: Account, scope: list[int] | None) -> list[int]:
    """The active chats among ``scope`` (all when ``None``)."""
    query = select(SferumChat.id).where(*account.owns(SferumChat), SferumChat.state == "active")
    if scope is not None:
        query = query.where(SferumChat.id.in_(scope))
    return list(session.scalars(query))


def requeue_missed(
    session: Session,
    account: Account,
    scope: list[int] | None,
    claimed: list[int],
    now: datetime,
    *,
    states: Sequence[str] = CLAIMABLE_STATES,
) -> None:
    """Chats in scope that another worker holds: queue them again, so a change made meanwhile is not missed."""
    query = select(SferumChat.id).where(*account.owns(SferumChat), SferumChat.state.in_(states))
    if scope is not None:
        query = query.where(SferumChat.id.in_(scope))
    if claimed:
        query = query.where(SferumChat.id.not_in(claimed))
    missed = list(session.scalars(query))
    if missed:
        enqueue(session, [f"chat:{pk}" for pk in missed], now)


def chats_in_scope(
    session: Session,
    directory: Directory,
    account: Account,
    *,
    chat_pks: tuple[int, ...] | None,
    everything: bool,
    taken: Mapping[str, datetime],
    profile_events: bool,
    now: datetime,
    states: Sequence[str] = CLAIMABLE_STATES,
) -> list[int] | None:
    """The chat rows a pass should take (``None``: all of them in ``states``)."""
    if chat_pks is not None:
        return list(chat_pks)
    if everything or profile_events or "all" in taken:
        return None
    by_kind: dict[str, set[int]] = {}
    for scope in taken:
        name, _, value = scope.partition(":")
        if value.isdigit():
            by_kind.setdefault(name, set()).add(int(value))
    if by_kind.get("employee"):
        return None  # an employee may be staff of any group: re-derive everything (cheap: bulk queries)
    chats = set(by_kind.get("chat", set()))
    groups = set(by_kind.get("group", set()))
    users: set[int] = set()
    if by_kind.get("student"):
        for person in directory.people(PersonKind.STUDENT, sorted(by_kind["student"])).values():
            if person.group_id is not None:
                groups.add(person.group_id)
            if person.user_id is not None:
                users.add(person.user_id)
    conditions: list[ColumnElement[bool]] = [
        SferumChat.state.in_(("creating", "unknown")),
        SferumChat.needs_verify.is_(True),
        SferumChat.id.in_(
            select(SferumSyncOperation.chat_pk).where(
                SferumSyncOperation.state.in_(("pending", "sending")),
                or_(SferumSyncOperation.next_attempt_at.is_(None), SferumSyncOperation.next_attempt_at <= now),
            )
        ),
    ]
    if chats:
        conditions.append(SferumChat.id.in_(sorted(chats)))
    if groups:
        conditions.append((SferumChat.kind == "group") & SferumChat.target_id.in_(sorted(groups)))
    if by_kind.get("unit"):
        conditions.append((SferumChat.kind == "unit") & SferumChat.target_id.in_(sorted(by_kind["unit"])))
    if users:
        listed = select(SferumChatListedMember.chat_pk).where(SferumChatListedMember.user_id.in_(sorted(users)))
        conditions.append(SferumChat.id.in_(listed))
    return list(
        session.scalars(
            select(SferumChat.id).where(*account.owns(SferumChat), SferumChat.state.in_(states), or_(*conditions))
        )
    )
