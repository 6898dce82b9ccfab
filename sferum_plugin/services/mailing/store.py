"""Mailings in the database: creating one with its recipients in bulk, pausing, resuming, cancelling, reading.

Creating a mailing is the only thing the web request does: one ``INSERT`` of the mailing and one executemany
``INSERT`` of its recipients, whatever the audience's size.  Sending is the background job's (:mod:`.sender`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

import attrs
from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.orm import Session

from hookspecs.services import Host
from hookspecs.types import Person, Viewer
from sferum_plugin.i18n import N_
from sferum_plugin.models import SferumMailing, SferumMailingRecipient
from sferum_plugin.services.mailing.audience import Audience
from sferum_plugin.services.mailing.compose import address_problem

__all__ = [
    "ACTIVE_STATES",
    "CANCELLED_REASON",
    "DUPLICATE_REASON",
    "Control",
    "MailingDraft",
    "control",
    "create_mailing",
    "get_mailing",
    "list_mailings",
    "problem_recipients",
    "recipient_plan",
    "state_counts",
]

ACTIVE_STATES = ("sending", "paused")
"""States in which a mailing still has work to do."""

DUPLICATE_REASON = N_("тот же адрес уже есть в рассылке")
CANCELLED_REASON = N_("рассылка отменена")

Control = Literal["pause", "resume", "cancel"]

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
    """Store a confirmed mailing and its recipients (queued or skipped) in one transaction; returns its id.

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
        rows = [
            {
                "mailing_id": mailing.id,
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
            # One executemany, so that the request's time is one round trip per batch, not one per person.
            session.execute(insert(RECIPIENTS), rows)  # the Core table: no ORM bookkeeping per row
        return mailing.id


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
