"""What the mailing pages show and do: the form's audience and preview, confirming, a mailing's report, the list.

Each page asks one function here and renders what it returns; the database and the directory are read only here.
Rows are returned detached from their session, fully loaded, so a page can render them after it has closed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import attrs

from hookspecs.services import Host
from hookspecs.types import Viewer
from sferum_plugin.models import SferumMailing
from sferum_plugin.numbers import parse_int
from sferum_plugin.services.mailing.audience import check_choice, describe_choice, resolve_audience
from sferum_plugin.services.mailing.compose import header_text, substitute
from sferum_plugin.services.mailing.store import (
    MailingDraft,
    create_pending_mailing,
    get_mailing,
    list_mailings,
    problem_recipients,
    recipient_plan,
)

__all__ = [
    "MailingForm",
    "MailingReport",
    "ProblemRecipient",
    "confirm_mailing",
    "mailing_form",
    "mailing_report",
    "recent_mailings",
]


@attrs.frozen
class MailingForm:
    """What the form shows about its audience: the counts, the people it carries on, and the preview."""

    ids: tuple[str, ...]
    """The ticked people, carried from post to post (empty when the audience is the list's filter)."""
    selected: bool
    total: int
    sendable: int
    without_email: int
    invalid: int
    """People with an address that cannot be used (malformed, or a duplicate of an earlier one)."""
    preview: Mapping[str, str] | None
    """``from``, ``to``, ``subject`` and ``body`` of the first sendable person's message, when asked for."""


@attrs.frozen
class ProblemRecipient:
    """A line of a mailing's final report: someone who was not sent the message, and why."""

    full_name: str
    email: str
    state: str
    reason: str | None


@attrs.frozen
class MailingReport:
    """A mailing's progress page: the mailing and its failed and skipped recipients (failed first)."""

    mailing: SferumMailing
    problems: tuple[ProblemRecipient, ...]

    @property
    def done(self) -> int:
        """Recipients dealt with so far, whatever the outcome."""
        return self.mailing.sent + self.mailing.failed + self.mailing.skipped


def mailing_form(
    host: Host,
    section: str,
    ids: Sequence[str],
    filters: Mapping[str, str],
    *,
    subject: str,
    body: str,
    link_url: str,
    preview: bool,
) -> MailingForm:
    """The form's audience from a «Действия» POST to ``section`` (one of ``SECTIONS``), and the preview if asked.

    The preview is addressed to the first person who will be sent the message, or to the first person at all
    when nobody will (so the text can still be checked); there is none for an empty audience.

    :raises ChoiceRefused: a filter or the selection cannot be applied exactly.
    """
    audience = resolve_audience(host, section, ids, filters)
    assert audience is not None, "the section is one of SECTIONS"
    plan = recipient_plan(audience.people)
    sendable = [person for person, reason in plan if reason is None]
    sample = sendable[0] if sendable else (audience.people[0] if audience.people else None)
    message = None
    if preview and sample is not None:
        values = {"full_name": sample.full_name, "email": sample.email, "link": link_url}
        message = {
            "from": host.mailer.sender,
            "to": f"{sample.full_name} <{sample.email}>",
            "subject": header_text(substitute(subject, **values)),
            "body": substitute(body, **values),
        }
    return MailingForm(
        ids=tuple(str(person.id) for person in audience.people) if audience.selected else (),
        selected=audience.selected,
        total=len(plan),
        sendable=len(sendable),
        without_email=sum(1 for person, _ in plan if not person.email.strip()),
        invalid=sum(1 for person, reason in plan if reason is not None and person.email.strip()),
        preview=message,
    )


def confirm_mailing(
    host: Host,
    *,
    author: Viewer,
    section: str,
    ids: Sequence[str],
    filters: Mapping[str, str],
    subject: str,
    body: str,
    link_url: str,
    locale: str,
    now: datetime,
) -> int:
    """Store the confirmed mailing for the ``sferum.mailing`` job; returns its id.

    Only the choice of audience is stored: the job expands it, so this request does not grow with it.

    :raises ChoiceRefused: a filter or the selection cannot be applied exactly; nothing is stored.
    """
    check_choice(host, section, ids, filters)
    selected = [n for n in map(parse_int, ids) if n is not None]
    draft = MailingDraft(
        subject=subject,
        body=body,
        link_url=link_url,
        audience_text=describe_choice(section, len(selected) if selected else None, filters, locale),
    )
    return create_pending_mailing(
        host, author=author, section=section, selected_ids=selected, filters=filters, draft=draft, now=now
    )


def mailing_report(host: Host, mailing_id: int) -> MailingReport | None:
    """A mailing and its failed and skipped recipients; ``None`` when there is no such mailing."""
    with host.db.session() as session:
        row = get_mailing(session, mailing_id)
        if row is None:
            return None
        problems = tuple(
            ProblemRecipient(r.full_name, r.email, r.state, r.reason) for r in problem_recipients(session, row.id)
        )
        session.expunge(row)
    return MailingReport(mailing=row, problems=problems)


def recent_mailings(host: Host) -> list[SferumMailing]:
    """The newest mailings first (as many as :func:`~.store.list_mailings` shows)."""
    with host.db.session() as session:
        rows = list_mailings(session)
        for row in rows:
            session.expunge(row)
    return rows
