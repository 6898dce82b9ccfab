"""Mailings in the database: creating one, expanding its audience into recipients, pausing, resuming, cancelling.

The web request that confirms a mailing only stores it with the *choice* of audience (:func:`create_pending_mailing`:
one ``INSERT``, whatever the audience's size). The background job expands that choice into recipients
(:func:`prepare_mailing`: one directory read and one executemany ``INSERT``, in the same transaction as the state
change) and then sends (:mod:`.sender`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Literal

import attrs
from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.orm import Session

from hookspecs.services import Host
from hookspecs.types import Person, Viewer
from sferum_plugin.i18n import N_
from sferum_plugin.models import SferumMailing, SferumMailingRecipient
from sferum_plugin.services.mailing.audience import Audience, ChoiceRefused, resolve_audience
from sferum_plugin.services.mailing.compose import address_problem

__all__ = [
    "ACTIVE_STATES",
    "CANCELLED_REASON",
    "DUPLICATE_REASON",
    "Control",
    "MailingDraft",
    "control",
    "create_mailing",
    "create_pending_mailing",
    "get_mailing",
    "list_mailings",
    "prepare_mailing",
    "problem_recipients",
    "recipient_plan",
    "state_counts",
]

ACTIVE_STATES = ("preparing", "sending", "paused")
"""States in which a mailing still has work to do."""

DUPLICATE_REASON = N_("тот же адрес уже есть в рассылке")
CANCELLED_REASON = N_("рассылка отменена")

Control = Literal["pause", "resume", "cancel"]

logger = logging.getLogger(__name__)

RECIPIENTS: Table = SferumMailingRecipient.__table__  # type: ignore[assignment]


@attrs.frozen
class MailingDraft:
    """What the responsible employee confirmed on the form."""

    subject: str
    body: str
    link_url: str
    audience_text: str


def recipient_plan(people: Sequence[Person]) -> list[tuple[Person, str | None]]:
    """Each person with the reason they will be skipped (no or invalid address, duplicate), or ``None``."""
    seen: set[str] = set()
    plan: list[tuple[Person, str | None]] = []
    for person in people:
        reason = address_problem(person.email)
        if reason is None:
            key = person.email.casefold()
            if key in seen:
                reason = DUPLICATE_REASON
            seen.add(key)
        plan.append((person, reason))
    return plan


def create_mailing(
    host: Host,
    *,
    author: Viewer,
    audience: Audience,
    draft: MailingDraft,
    now: datetime,
    plan: Sequence[tuple[Person, str | None]] | None = None,
) -> int:
    """Store a mailing and its recipients (queued or skipped) in one transaction; returns its id.

    For callers that hold the audience already (tests, scripts); the pages use :func:`create_pending_mailing`.
    ``plan`` is :func:`recipient_plan` of the audience when the caller has it already.
    """
    plan = recipient_plan(audience.people) if plan is None else plan
    skipped = sum(1 for _, reason in plan if reason is not None)
    total = len(plan)
    with host.db.session() as session:
        mailing = SferumMailing(
            author_user_id=author.user_id,
            author_name=author.full_name[:255],
            section=audience.section,
            audience=draft.audience_text[:1000],
            subject=draft.subject[:255],
            body=draft.body,
            link_url=draft.link_url[:1000],
            state="sending" if skipped < total else "finished",
            total=total,
            sent=0,
            failed=0,
            skipped=skipped,
            created_at=now,
            finished_at=None if skipped < total else now,
        )
        session.add(mailing)
        session.flush()
        _insert_recipients(session, mailing.id, plan)
        return mailing.id


def create_pending_mailing(
    host: Host,
    *,
    author: Viewer,
    section: str,
    selected_ids: Sequence[int],
    filters: Mapping[str, str],
    draft: MailingDraft,
    now: datetime,
) -> int:
    """Store a confirmed mailing with its choice of audience, for the job to expand; returns its id.

    This is all the confirming web request does, so its time does not grow with the audience.
    """
    spec = json.dumps({"ids": list(selected_ids), "filters": dict(filters)}, ensure_ascii=False)
    with host.db.session() as session:
        row = SferumMailing(
            author_user_id=author.user_id,
            author_name=author.full_name[:255],
            section=section,
            audience=draft.audience_text[:1000],
            audience_spec=spec,
            subject=draft.subject[:255],
            body=draft.body,
            link_url=draft.link_url[:1000],
            state="preparing",
            total=0,
            sent=0,
            failed=0,
            skipped=0,
            created_at=now,
        )
        session.add(row)
        session.flush()
        return row.id


def prepare_mailing(host: Host, mailing_id: int, *, now: datetime) -> bool:
    """Expand a ``preparing`` mailing's audience into recipients and let it be sent; ``False`` if it is not
    ``preparing`` any more (cancelled meanwhile, or prepared by another worker).

    Recipients, counts and the new state are committed together, so a crash leaves the mailing ``preparing``
    with no recipient and the next run starts it again.
    """
    with host.db.session() as session:
        row = session.get(SferumMailing, mailing_id)
        if row is None or row.state != "preparing":
            return False
        spec = json.loads(row.audience_spec or "{}")
        section = row.section
    try:
        audience = resolve_audience(host, section, [str(i) for i in spec.get("ids", [])], spec.get("filters", {}))
    except ChoiceRefused as refused:
        # Stored before the choice was checked, or the unit or group is gone since: never fall back to everyone.
        logger.warning("mailing %s: its audience cannot be applied (%s); nothing is sent", mailing_id, refused)
        audience = None
    plan = recipient_plan(audience.people if audience is not None else ())
    skipped = sum(1 for _, reason in plan if reason is not None)
    total = len(plan)
    with host.db.session() as session:
        moved = session.execute(
            update(SferumMailing)
            .where(SferumMailing.id == mailing_id, SferumMailing.state == "preparing")
            .values(
                state="sending" if skipped < total else "finished",
                total=total,
                skipped=skipped,
                finished_at=None if skipped < total else now,
            )
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        if moved != 1:
            return False
        _insert_recipients(session, mailing_id, plan)
    return True


def _insert_recipients(session: Session, mailing_id: int, plan: Sequence[tuple[Person, str | None]]) -> None:
    rows = [
        {
            "mailing_id": mailing_id,
            "person_id": person.id,
            "full_name": person.full_name[:255],
            "email": person.email[:320],
            "state": "queued" if reason is None else "skipped",
            "reason": reason,
            "attempts": 0,
        }
        for person, reason in plan
    ]
    if rows:
        # One executemany: one round trip per batch, not one per person; the Core table skips ORM bookkeeping.
        session.execute(insert(RECIPIENTS), rows)


def control(host: Host, mailing_id: int, action: Control, *, now: datetime) -> bool:
    """Pause, resume or cancel a mailing; ``False`` when its state does not allow it (e.g. already finished)."""
    allowed = {"pause": ("sending",), "resume": ("paused",), "cancel": ACTIVE_STATES}[action]
    target = {"pause": "paused", "resume": "sending", "cancel": "cancelled"}[action]
    with host.db.session() as session:
        changed = session.execute(
            update(SferumMailing)
            .where(SferumMailing.id == mailing_id, SferumMailing.state.in_(allowed))
            .values(state=target, finished_at=now if action == "cancel" else None)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        if changed != 1:
            return False
        if action == "cancel":
            # A message being sent right now is finished by the worker and counted there; the rest is skipped.
            dropped = session.execute(
                update(SferumMailingRecipient)
                .where(SferumMailingRecipient.mailing_id == mailing_id, SferumMailingRecipient.state == "queued")
                .values(state="skipped", reason=CANCELLED_REASON)
                .execution_options(synchronize_session=False)
            ).rowcount  # type: ignore[attr-defined]
            session.execute(
                update(SferumMailing)
                .where(SferumMailing.id == mailing_id)
                .values(skipped=SferumMailing.skipped + dropped)
                .execution_options(synchronize_session=False)
            )
    return True


def get_mailing(session: Session, mailing_id: int) -> SferumMailing | None:
    """One mailing."""
    return session.get(SferumMailing, mailing_id)


def list_mailings(session: Session, limit: int = 200) -> list[SferumMailing]:
    """The newest mailings first."""
    return list(session.scalars(select(SferumMailing).order_by(SferumMailing.id.desc()).limit(limit)))


def problem_recipients(session: Session, mailing_id: int, limit: int = 500) -> list[SferumMailingRecipient]:
    """The failed and skipped recipients of a mailing (the final report), failed first."""
    return list(
        session.scalars(
            select(SferumMailingRecipient)
            .where(
                SferumMailingRecipient.mailing_id == mailing_id,
                SferumMailingRecipient.state.in_(("failed", "skipped")),
            )
            .order_by(SferumMailingRecipient.state, SferumMailingRecipient.id)
            .limit(limit)
        )
    )


def state_counts(session: Session, mailing_id: int) -> dict[str, int]:
    """How many recipients are in each state (one grouped query)."""
    rows = session.execute(
        select(SferumMailingRecipient.state, func.count())
        .where(SferumMailingRecipient.mailing_id == mailing_id)
        .group_by(SferumMailingRecipient.state)
    ).all()
    return {state: count for state, count in rows}
