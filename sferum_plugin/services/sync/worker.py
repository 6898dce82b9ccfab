"""One pass of the membership sync service: take requests, lease chats, create, verify, plan, apply, record.

A *queue* pass (every few seconds) serves the queued requests and the chats that need work (to create, to
reconcile, to verify after an ambiguous failure, with retries due); it plans against the known state, so a pass
with no changes makes no Sferum request at all.  A *full* pass re-derives every chat and reads every real
member list first (drift repair).  A *dry run* plans without leases, requests or writes and returns the preview.

The platform's side (who the organisation account is, creating chats, reading member lists, sending adds and
removes) is the adapter passed in (:class:`~sferum_plugin.services.sync.api.ChatMembership`); a VK client
(:class:`~sferum_plugin.services.sync.api.ChatsApi`) passed instead is wrapped in the VK adapter.  Two service-wide
pauses stop every pass before it sends anything: a quota pause (VK errors 9 and 29, until the time Sferum set) and
refused credentials (MAX 401, until the token changes or the administrator asks for a sync; see
:func:`~sferum_plugin.services.sync.queue.pause_for_credentials`).
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta

import attrs
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from hookspecs.services import Database, Directory
from sferum_plugin.account import Account
from sferum_plugin.gateway.errors import QuotaExceededError, SferumError
from sferum_plugin.gateway.tally import FailureCounts
from sferum_plugin.models import (
    ProfileEvent,
    SferumChat,
    SferumChatMember,
    SferumSyncOperation,
    SferumSyncPass,
)
from sferum_plugin.services.sync.api import ChatMembership, ChatsApi, Lease
from sferum_plugin.services.sync.apply import add_known, apply_plan, mark_lost_chats
from sferum_plugin.services.sync.diff import MembershipDiff
from sferum_plugin.services.sync.plan import make_plan
from sferum_plugin.services.sync.queue import (
    CLAIMABLE_STATES,
    NOT_MANAGEABLE,
    SYNCED_STATES,
    claim_chats,
    end_flood_strikes,
    finish_requests,
    lift_credentials_pause,
    pause_for_credentials,
    pause_service,
    pending_requests,
    release_chats,
    service_row,
)
from sferum_plugin.services.sync.reasons import Verdict, reason_of, verdict_of
from sferum_plugin.services.sync.scope import active_chats, chats_in_scope, requeue_missed
from sferum_plugin.services.sync.vk_membership import VkMembership

__all__ = ["PassOptions", "PassReport", "as_membership", "run_pass"]

logger = logging.getLogger(__name__)


def _holder() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@attrs.frozen
class PassOptions:
    """How to run a pass.

    :param full: re-derive every chat and verify Sferum's real member lists.
    :param dry_run: only plan; return what would be added and removed.
    :param chat_pks: limit the pass to these chat rows.
    :param strict: remove every member that is not desired (except the owner and the organisation account).
    :param lease: how long a worker holds the chats it took (a crashed worker's chats are free after that).
    :param holder: this worker's name in the leases.
    """

    full: bool = False
    dry_run: bool = False
    chat_pks: tuple[int, ...] | None = None
    strict: bool = False
    lease: timedelta = timedelta(minutes=10)
    holder: str = attrs.field(factory=_holder)


@attrs.define
class PassReport:
    """What a pass did (or, for a dry run, would do)."""

    kind: str
    chats: int = 0
    created: int = 0
    verified: int = 0
    added: int = 0
    removed: int = 0
    failed: int = 0
    requests: int = 0
    paused_until: datetime | None = None
    preview: dict[int, MembershipDiff] = attrs.field(factory=dict)
    note: str | None = None
    workers: int = 1
    """Live workers sharing the request rate during the pass (set by the job runner)."""
    failures: FailureCounts = attrs.field(factory=FailureCounts)
    """The pass's failed attempts by kind, retries included (the client's tally over the pass)."""

    @property
    def unreachable(self) -> bool:
        """The pass's last attempt got no reply from Sferum."""
        return self.failures.reached is False


@attrs.frozen
class _Scope:
    """What a pass took on: the chats it works on, and the queued requests and profile events it answers.

    ``paused_until`` is set instead when the service is paused (a quota pause): such a pass does nothing.
    """

    org_user_id: int | None = None
    taken: dict[str, datetime] = attrs.field(factory=dict)
    events: list[int] = attrs.field(factory=list)
    pks: list[int] = attrs.field(factory=list)
    paused_until: datetime | None = None
    flood_strikes: int = 0


def as_membership(api: ChatMembership | ChatsApi) -> ChatMembership:
    """``api`` as the sync's port: an adapter as it is, a VK client wrapped in the VK adapter."""
    return api if isinstance(api, ChatMembership) else VkMembership(api)


def run_pass(
    db: Database,
    directory: Directory,
    api: ChatMembership | ChatsApi | None,
    *,
    account: Account,
    now: datetime,
    options: PassOptions | None = None,
) -> PassReport:
    """Run one pass; ``api`` (the platform's adapter, or a VK client) may be ``None`` for a dry run (which never
    calls the platform)."""
    options = options or PassOptions()
    kind = "dry-run" if options.dry_run else "full" if options.full else "queue"
    report = PassReport(kind=kind)
    membership = as_membership(api) if api is not None else None
    scope = _take_scope(db, directory, membership, account=account, now=now, options=options)
    if scope.paused_until is not None:
        report.paused_until = scope.paused_until
        return report
    if options.dry_run:
        _preview(db, directory, scope, account=account, now=now, options=options, report=report)
        return report
    assert membership is not None, "a pass that is not a dry run needs the platform"
    before = membership.failures.snapshot()
    try:
        if scope.pks:
            try:
                _work(db, directory, membership, account=account, pks=scope.pks, org_user_id=scope.org_user_id,
                      options=options, now=now, report=report)  # fmt: skip
            except SferumError as error:
                # A read the pass depends on failed (users.get, say): leave the requests queued, try next time.
                report.failures = membership.failures.snapshot().since(before)
                _stopped(db, membership, scope, error, account=account, now=now, report=report)
                return report
        report.failures = membership.failures.snapshot().since(before)
        if scope.flood_strikes and report.requests and report.paused_until is None:
            with db.session() as session:
                end_flood_strikes(session, account)
        _finish(db, scope, account, options=options, now=now, report=report)
    finally:
        # Even a pass that stopped half-way lets its chats go, so the next one need not wait for the lease to lapse.
        with db.session() as session:
            release_chats(session, scope.pks, options.holder)
    if report.added or report.removed or report.created or report.failed:
        logger.info("sync pass (%s): %s", kind, report)
    return report


def _stopped(
    db: Database,
    membership: ChatMembership,
    scope: _Scope,
    error: SferumError,
    *,
    account: Account,
    now: datetime,
    report: PassReport,
) -> None:
    """Record a pass that stopped on ``error``: its history row, and the service's pause when the platform refused
    the credentials (MAX 401)."""
    logger.warning("sync pass (%s) stopped: %s", report.kind, error)
    report.note = reason_of(error)
    with db.session() as session:
        if verdict_of(error) is Verdict.STOP:
            report.paused_until = pause_for_credentials(
                session, account, now=now, reason=report.note, credential=membership.credential
            )
        session.add(_history_row(report, scope, account, now))  # what it met, though it answered nothing


def _take_scope(
    db: Database,
    directory: Directory,
    membership: ChatMembership | None,
    *,
    account: Account,
    now: datetime,
    options: PassOptions,
) -> _Scope:
    """Take the queued requests and unprocessed profile events, and lease the chats they put in scope.

    A dry run takes nothing and leases nothing: it only looks at every active chat (or ``options.chat_pks``).
    All of it happens in one transaction, so two workers never take the same request or chat.  Where the sync
    creates no chat (MAX), only active chats are taken.
    """
    states = CLAIMABLE_STATES if membership is None or membership.creates_chats else SYNCED_STATES
    with db.session() as session:
        service = service_row(session, account)
        if membership is not None:
            lift_credentials_pause(service, membership.credential)  # the token was changed meanwhile
        if service.paused_until is not None and service.paused_until > now and not options.dry_run:
            return _Scope(paused_until=service.paused_until)
        taken = {} if options.dry_run else pending_requests(session)
        events = (
            []
            if options.dry_run
            else list(session.scalars(select(ProfileEvent.id).where(ProfileEvent.processed_at.is_(None))))
        )
        scope = chats_in_scope(session, directory, account, taken=taken, profile_events=bool(events), now=now,
                               chat_pks=options.chat_pks, everything=options.full or options.dry_run,
                               states=states)  # fmt: skip
        if options.dry_run:
            pks = active_chats(session, account, scope)
        else:
            pks = claim_chats(session, account=account, holder=options.holder, now=now, until=now + options.lease,
                              pks=scope, states=states)  # fmt: skip
            requeue_missed(session, account, scope, pks, now, states=states)
        return _Scope(org_user_id=service.org_user_id, taken=taken, events=events, pks=pks,
                      flood_strikes=service.flood_strikes or 0)  # fmt: skip


def _preview(
    db: Database,
    directory: Directory,
    scope: _Scope,
    *,
    account: Account,
    now: datetime,
    options: PassOptions,
    report: PassReport,
) -> None:
    """A dry run's answer: plan the chats against the known state and keep the non-empty differences."""
    with db.session() as session:
        plan = make_plan(session, directory, account=account, chat_pks=scope.pks, org_user_id=scope.org_user_id,
                         strict=options.strict, now=now)  # fmt: skip
    report.chats = len(plan.chats)
    report.preview = {pk: chat.needed for pk, chat in plan.chats.items() if not chat.needed.empty}


def _finish(
    db: Database, scope: _Scope, account: Account, *, options: PassOptions, now: datetime, report: PassReport
) -> None:
    """Answer the requests and profile events the pass took, stamp its chats, and keep a row of its history."""
    with db.session() as session:
        finish_requests(session, scope.taken)
        if scope.events and report.paused_until is None:
            # A paused pass did not reach every chat the events touch: they stay for the pass after the pause.
            session.execute(update(ProfileEvent).where(ProfileEvent.id.in_(scope.events)).values(processed_at=now))
        if scope.pks:
            session.execute(update(SferumChat).where(SferumChat.id.in_(scope.pks)).values(last_synced_at=now))
        if options.full or scope.pks or scope.taken or scope.events:
            # The queue job runs every few seconds; an idle run is not history worth a row.
            session.add(_history_row(report, scope, account, now))


def _history_row(report: PassReport, scope: _Scope, account: Account, now: datetime) -> SferumSyncPass:
    """The pass's row of the history: what it did, and the failed attempts it met on the way."""
    return SferumSyncPass(
        platform=account.platform, kind=report.kind, started_at=now, finished_at=now, chats=len(scope.pks),
        added=report.added, removed=report.removed, failed=report.failed, created=report.created,
        requests=report.requests, note=report.note[:500] if report.note else None,
        connection_errors=report.failures.connection, rate_limited=report.failures.rate_limited,
        quota_errors=report.failures.quota, unreachable=report.unreachable,
    )  # fmt: skip


def _work(
    db: Database,
    directory: Directory,
    membership: ChatMembership,
    *,
    account: Account,
    pks: list[int],
    org_user_id: int | None,
    options: PassOptions,
    now: datetime,
    report: PassReport,
) -> None:
    """Sync the leased chats: learn the organisation account, create the missing chats, verify, plan, apply."""
    report.chats = len(pks)
    if org_user_id is None:
        org_user_id = membership.organisation_id()
        report.requests += 1
        with db.session() as session:
            service_row(session, account).org_user_id = org_user_id
    if membership.creates_chats and not _create(
        db,
        directory,
        membership,
        account=account,
        pks=pks,
        org_user_id=org_user_id,
        options=options,
        now=now,
        report=report,
    ):
        return  # fmt: skip
    skip = _verify(db, membership, pks, full=options.full, now=now, report=report)
    with db.session() as session:
        plan = make_plan(session, directory, account=account, chat_pks=[pk for pk in pks if pk not in skip],
                         org_user_id=org_user_id, strict=options.strict, now=now)  # fmt: skip
    applied = apply_plan(db, membership, plan, account=account, now=now)
    report.added += applied.added
    report.removed += applied.removed
    report.failed += applied.failed
    report.requests += applied.requests
    if applied.quota is not None or applied.stop is not None:
        report.paused_until = applied.resume_at
    if applied.stop is not None:
        report.note = reason_of(applied.stop)


def _create(
    db: Database,
    directory: Directory,
    membership: ChatMembership,
    *,
    account: Account,
    pks: list[int],
    org_user_id: int,
    options: PassOptions,
    now: datetime,
    report: PassReport,
) -> bool:
    """Create the leased chats that do not exist yet; returns ``False`` when a quota error paused the service."""
    with db.session() as session:
        states = dict(session.execute(select(SferumChat.id, SferumChat.state).where(SferumChat.id.in_(pks))).all())
    to_create = [pk for pk in pks if states.get(pk) in ("creating", "unknown")]
    if not to_create:
        return True
    with db.session() as session:
        creating = make_plan(session, directory, account=account, chat_pks=to_create, org_user_id=org_user_id,
                             strict=options.strict, now=now)  # fmt: skip
    realized = membership.create_missing(
        db, {pk: creating.chats[pk].desired.members for pk in to_create}, org_user_id=org_user_id, now=now,
        lease=Lease(holder=options.holder, length=options.lease, chat_pks=tuple(pks)),
    )  # fmt: skip
    report.requests += realized.requests
    report.created += realized.created
    report.failed += realized.failed  # chats Sferum refused: shown with their reason, not retried
    if realized.quota is not None:
        _pause(db, account, realized.quota, now, report)
        return False
    return True


def _pause(db: Database, account: Account, quota: QuotaExceededError, now: datetime, report: PassReport) -> None:
    """Pause the whole service after Sferum's quota error and say until when in the report."""
    with db.session() as session:
        report.paused_until = pause_service(session, account, quota, now=now, reason=reason_of(quota))


def _verify(
    db: Database, membership: ChatMembership, pks: list[int], *, full: bool, now: datetime, report: PassReport
) -> set[int]:
    """Read the real member lists the pass needs; returns chats to leave alone this pass (could not be read, gone,
    or no longer the bot's to manage)."""

    with db.session() as session:
        sending = set(
            session.scalars(
                select(SferumSyncOperation.chat_pk)
                .where(SferumSyncOperation.chat_pk.in_(pks), SferumSyncOperation.state == "sending")
                .distinct()
            )
        )
        rows = session.execute(
            select(SferumChat.id, SferumChat.chat_id, SferumChat.needs_verify).where(
                SferumChat.id.in_(pks), SferumChat.state == "active"
            )
        ).all()
    wanted = {
        row.id: row.chat_id
        for row in rows
        if row.chat_id is not None and (full or row.needs_verify or row.id in sending)
    }
    if not wanted:
        return set()
    lists = membership.read_members(wanted)
    report.requests += lists.requests
    report.verified += len(lists.members)
    with db.session() as session:
        verified = sorted(lists.members)
        if verified:
            session.execute(delete(SferumChatMember).where(SferumChatMember.chat_pk.in_(verified)))
            add_known(session, [(pk, user) for pk in verified for user in sorted(lists.members[pk])])
            session.execute(
                update(SferumChat).where(SferumChat.id.in_(verified)).values(needs_verify=False, last_verified_at=now)
            )
            _settle_sending(session, lists.members, now)
        lost = {pk: ("vanished", reason) for pk, reason in lists.vanished.items()}
        lost.update((pk, (NOT_MANAGEABLE, reason)) for pk, reason in lists.denied.items())
        mark_lost_chats(session, lost)
    return set(lists.unreadable) | set(lost)


def _settle_sending(session: Session, members: Mapping[int, set[int]], now: datetime) -> None:
    """Operations a crashed worker sent: the real list says whether they took effect."""
    ops = session.scalars(
        select(SferumSyncOperation).where(
            SferumSyncOperation.chat_pk.in_(sorted(members)), SferumSyncOperation.state == "sending"
        )
    ).all()
    for op in ops:
        present = op.sferum_user_id in members[op.chat_pk]
        took_effect = present if op.action == "add" else not present
        op.state = "done" if took_effect else "pending"
        op.attempts += 1
        op.updated_at = now
