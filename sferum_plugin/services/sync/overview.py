"""What the «Синхронизация чатов» page shows: per chat state and counts, failures, the pause, the pass history."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

import attrs
from sqlalchemy import func, select

from hookspecs.services import Directory, Host
from sferum_plugin.account import Account
from sferum_plugin.models import SferumChat, SferumChatMember, SferumSyncOperation, SferumSyncPass
from sferum_plugin.services.sync.plan import make_plan
from sferum_plugin.services.sync.queue import service_row

__all__ = ["ChatOverview", "FailedOperation", "SyncOverview", "sync_overview"]


@attrs.frozen
class FailedOperation:
    """An operation shown to admins: who, what, why, how often, when next (``op_id``: its row)."""

    sferum_user_id: int
    user_id: int | None
    action: str
    state: str
    attempts: int
    reason: str | None
    next_attempt_at: object
    op_id: int = 0


@attrs.frozen
class ChatOverview:
    """One row of the page."""

    pk: int
    kind: str
    target: str
    title: str
    state: str
    error: str | None
    in_sferum: int
    desired: int
    waiting: int
    last_synced_at: object
    pending: int
    problems: tuple[FailedOperation, ...]


@attrs.frozen
class SyncOverview:
    """The whole page.

    :param paused_until: the end of the quota pause in force (``None`` when there is none, or it is over).
    :param pause_end: the end of the latest pause, over or not: stored reasons name it (``%(until)s``).
    :param unreachable_at: when the latest pass ran, if its last attempt got no reply from Sferum (the banner).
    """

    chats: tuple[ChatOverview, ...]
    paused_until: datetime | None
    pause_reason: str | None
    passes: tuple[SferumSyncPass, ...]
    pause_end: datetime | None = None
    unreachable_at: datetime | None = None


def sync_overview(host: Host, *, account: Account, history: int = 20) -> SyncOverview:
    """Read everything the page shows, in a fixed number of queries."""
    with host.db.session() as session:
        chats = session.scalars(select(SferumChat).where(*account.owns(SferumChat)).order_by(SferumChat.id)).all()
        pks = [chat.id for chat in chats]
        service = service_row(session, account)
        in_sferum = dict(
            session.execute(
                select(SferumChatMember.chat_pk, func.count())
                .where(SferumChatMember.chat_pk.in_(pks))
                .group_by(SferumChatMember.chat_pk)
            ).all()
        )
        ops = session.scalars(
            select(SferumSyncOperation).where(
                SferumSyncOperation.chat_pk.in_(pks), SferumSyncOperation.state.in_(("pending", "sending", "failed"))
            )
        ).all()
        plan = make_plan(session, host.directory, account=account, chat_pks=pks, org_user_id=service.org_user_id,
                         strict=False, now=host.clock.now())  # fmt: skip
        passes = session.scalars(
            select(SferumSyncPass)
            .where(account.platform_of(SferumSyncPass))
            .order_by(SferumSyncPass.id.desc())
            .limit(history)
        ).all()
        for row in (*chats, *passes, *ops):  # read after the session closes, whatever the host's expiry rule
            session.expunge(row)
        paused_until, pause_reason = service.paused_until, service.pause_reason
    pending: Counter[int] = Counter(op.chat_pk for op in ops if op.state != "failed")
    problems = _problems_by_chat(ops)
    targets = _target_names(host.directory, chats)
    rows: list[ChatOverview] = []
    for chat in chats:
        planned = plan.chats.get(chat.id)
        rows.append(
            ChatOverview(
                pk=chat.id,
                kind=chat.kind,
                target=targets(chat),
                title=chat.title,
                state=chat.state,
                error=chat.error,
                in_sferum=in_sferum.get(chat.id, 0),
                desired=len(planned.desired.members) if planned else 0,
                waiting=len(planned.desired.waiting) if planned else 0,
                last_synced_at=chat.last_synced_at,
                pending=pending[chat.id],
                problems=tuple(problems[chat.id]),
            )
        )
    latest = passes[0] if passes else None
    return SyncOverview(
        chats=tuple(rows),
        paused_until=paused_until if paused_until is not None and paused_until > host.clock.now() else None,
        pause_reason=pause_reason,
        passes=tuple(passes),
        pause_end=paused_until,
        unreachable_at=latest.started_at if latest is not None and latest.unreachable else None,
    )


def _problems_by_chat(ops: Iterable[SferumSyncOperation]) -> defaultdict[int, list[FailedOperation]]:
    """The operations admins should see, by chat: refused for good, or retrying after an error."""
    problems: defaultdict[int, list[FailedOperation]] = defaultdict(list)
    for op in ops:
        if op.state == "failed" or op.last_error:
            problems[op.chat_pk].append(
                FailedOperation(
                    op.sferum_user_id,
                    op.user_id,
                    op.action,
                    op.state,
                    op.attempts,
                    op.last_error,
                    op.next_attempt_at,
                    op_id=op.id,
                )
            )
    return problems


def _target_names(directory: Directory, chats: Sequence[SferumChat]) -> Callable[[SferumChat], str]:
    """The name of the group or unit each chat is for ("" for a custom chat), read in one call per kind."""
    groups = directory.groups([c.target_id for c in chats if c.kind == "group" and c.target_id is not None])
    units = directory.units([c.target_id for c in chats if c.kind == "unit" and c.target_id is not None])

    def name(chat: SferumChat) -> str:
        if chat.kind == "group":
            return groups.get(chat.target_id or 0, "")
        if chat.kind == "unit":
            return units.get(chat.target_id or 0, "")
        return ""

    return name
