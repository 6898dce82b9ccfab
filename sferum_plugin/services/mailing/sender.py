"""The sending job: one SMTP connection reused for many messages, per-recipient state committed around each send.

For each recipient the job commits ``sending`` *before* the SMTP transaction and ``sent``/``failed`` right after
it (in the same transaction as the next recipient's ``sending`` mark: one commit per message), so a restarted
process knows exactly where the previous one stopped.  A recipient found in ``sending`` was in
flight when a process died: it is sent again with the same ``Message-ID`` (the one crash window, documented in
``docs/mailing.md``: a crash after the server accepted the message and before ``sent`` was committed).

Failures:

* a 5xx reply to the recipient or to the message is permanent: the recipient is ``failed`` with the reply;
* a 4xx reply or a dropped connection is temporary: the connection is re-opened and the message retried after a
  growing wait, up to :attr:`SendPolicy.max_attempts` times, then the recipient is ``failed``;
* a server that cannot be reached (or refuses the sender or the login) stops the run with the recipient still
  queued and ``last_error`` shown on the progress page; the next run of the job tries again.

A mailing is held through a lease (``lease_owner``/``lease_until``) renewed with every message, so two processes
never send the same mailing; a dead process's lease expires and another one resumes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import smtplib
import socket
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Literal

import attrs
from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from hookspecs.services import Host, MailConnection
from hookspecs.types import JobContext
from sferum_plugin.models import SferumMailing, SferumMailingRecipient
from sferum_plugin.services.mailing.compose import MessageParts, build_message, message_id, substitute
from sferum_plugin.services.mailing.store import prepare_mailing

__all__ = ["DEFAULT_POLICY", "SendPolicy", "run_mailings", "send_mailing"]

logger = logging.getLogger(__name__)


def _backoff(attempt: int) -> float:
    return float(min(2 ** (attempt - 1), 60))


@attrs.frozen
class SendPolicy:
    """How the job retries and how long it runs; tests inject zero waits and fake clocks.

    :param max_attempts: tries of one message on temporary failures before the recipient is ``failed``.
    :param backoff: seconds to wait before try ``n + 1`` after ``n`` failed tries.
    :param sleep: how to wait.
    :param monotonic: a monotonic clock, for ``budget``.
    :param budget: how long one run of the job may send before it lets the host run other jobs.
    :param lease: how long a mailing stays held without a sign of life from its worker.
    :param now: the wall clock (timezone-aware), for leases and timestamps.
    """

    max_attempts: int = 5
    backoff: Callable[[int], float] = _backoff
    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic
    budget: float = 50.0
    lease: timedelta = timedelta(minutes=2)
    now: Callable[[], datetime] | None = None


DEFAULT_POLICY = SendPolicy()

Outcome = tuple[Literal["sent", "failed", "stop"], str]


class _Connection:
    """The host's mail connection, opened on first use and re-opened after a failure."""

    def __init__(self, host: Host) -> None:
        self._host = host
        self._stack: ExitStack | None = None
        self._connection: MailConnection | None = None
        self.opened = 0

    def get(self) -> MailConnection:
        if self._connection is None:
            stack = ExitStack()
            self._connection = stack.enter_context(self._host.mailer.connect())
            self._stack = stack
            self.opened += 1
        return self._connection

    def drop(self) -> None:
        stack, self._stack, self._connection = self._stack, None, None
        if stack is not None:
            # The server may be gone already; closing our socket is all that is left to do.
            with contextlib.suppress(smtplib.SMTPException, OSError):
                stack.close()


def _text(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _reply(error: BaseException) -> tuple[int | None, str]:
    """The SMTP code and text of a failure (``None`` for a dropped or refused connection)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(error.recipients.values()))
        return code, _text(text)
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code, _text(error.smtp_error)
    return None, f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _deliver(connection: _Connection, message: EmailMessage, policy: SendPolicy) -> tuple[Outcome, int]:
    """Send one message with retries; returns the outcome and how many tries were made."""
    attempt = 0
    while True:
        try:
            mail = connection.get()
        except (smtplib.SMTPException, OSError) as error:
            connection.drop()
            code, text = _reply(error)
            # Not this recipient's fault: keep it queued and let a later run try again.
            return ("stop", f"{code} {text}" if code else text), attempt
        attempt += 1
        try:
            mail.send(message)
            return ("sent", ""), attempt
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError) as error:
            code, text = _reply(error)
            reason = f"{code} {text}".strip()
            if code is not None and code >= 500:
                return ("failed", reason), attempt
        except (smtplib.SMTPSenderRefused, smtplib.SMTPAuthenticationError) as error:
            connection.drop()
            code, text = _reply(error)
            if code is not None and code >= 500:
                return ("stop", f"{code} {text}"), attempt - 1
            reason = f"{code} {text}"
        except (smtplib.SMTPException, OSError) as error:
            code, text = _reply(error)
            reason = f"{code} {text}" if code else text
        # A temporary failure: start again on a fresh connection after a growing wait.
        connection.drop()
        if attempt >= policy.max_attempts:
            return ("failed", reason), attempt
        logger.info("temporary SMTP failure (try %d): %s", attempt, reason)
        policy.sleep(policy.backoff(attempt))


def _owner() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{threading.get_ident()}"[:64]


CLAIMABLE = ("preparing", "sending")
"""States of a mailing the job takes: ``preparing`` ones are expanded into recipients first."""


def _claim(host: Host, owner: str, now: datetime, lease: timedelta) -> int | None:
    """Take the oldest preparing or sending mailing nobody holds; ``None`` when there is none."""
    with host.db.session() as session:
        candidates = session.scalars(
            select(SferumMailing.id)
            .where(
                SferumMailing.state.in_(CLAIMABLE),
                or_(SferumMailing.lease_until.is_(None), SferumMailing.lease_until < now),
            )
            .order_by(SferumMailing.id)
            .limit(5)
        ).all()
    for mailing_id in candidates:
        with host.db.session() as session:
            taken = session.execute(
                update(SferumMailing)
                .where(
                    SferumMailing.id == mailing_id,
                    SferumMailing.state.in_(CLAIMABLE),
                    or_(SferumMailing.lease_until.is_(None), SferumMailing.lease_until < now),
                )
                .values(lease_owner=owner, lease_until=now + lease)
                .execution_options(synchronize_session=False)
            ).rowcount  # type: ignore[attr-defined]
            if taken == 1:
                session.execute(
                    update(SferumMailing)
                    .where(SferumMailing.id == mailing_id, SferumMailing.started_at.is_(None))
                    .values(started_at=now)
                    .execution_options(synchronize_session=False)
                )
                return mailing_id
    return None


def _release(host: Host, mailing_id: int, owner: str, error: str | None = None) -> None:
    values: dict[str, object] = {"lease_owner": None, "lease_until": None}
    if error is not None:
        values["last_error"] = error[:500]
    with host.db.session() as session:
        session.execute(
            update(SferumMailing)
            .where(SferumMailing.id == mailing_id, SferumMailing.lease_owner == owner)
            .values(**values)
            .execution_options(synchronize_session=False)
        )


@attrs.frozen
class _Done:
    """A message's outcome, committed together with the next recipient's ``sending`` mark (one commit each)."""

    recipient_id: int
    mailing_id: int
    outcome: Outcome
    attempts: int
    at: datetime


def _write_outcome(session: Session, done: _Done, lease_values: dict[str, object] | None = None) -> bool | None:
    """Store one outcome; with ``lease_values`` also renew our lease in the same ``UPDATE`` of the mailing.

    Returns whether the lease was renewed (``None`` when nothing was asked of the mailing row).
    """
    state, reason = done.outcome
    values: dict[str, object] = {"attempts": SferumMailingRecipient.attempts + done.attempts}
    if state == "stop":
        values["state"] = "queued"
    else:
        values.update(state=state, reason=reason[:500] or None, sent_at=done.at if state == "sent" else None)
    session.execute(
        update(SferumMailingRecipient)
        .where(SferumMailingRecipient.id == done.recipient_id)
        .values(values)
        .execution_options(synchronize_session=False)
    )
    if state == "stop":
        return None
    counter = SferumMailing.sent if state == "sent" else SferumMailing.failed
    counted: dict[object, object] = {counter: counter + 1, SferumMailing.last_error: None}
    if lease_values is not None:
        renewed = session.execute(
            update(SferumMailing)
            .where(*_held(done.mailing_id, str(lease_values["owner"])))
            .values({**counted, SferumMailing.lease_until: lease_values["until"]})
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        if renewed == 1:
            return True
    session.execute(
        update(SferumMailing)
        .where(SferumMailing.id == done.mailing_id)
        .values(counted)
        .execution_options(synchronize_session=False)
    )
    return False if lease_values is not None else None


def _held(mailing_id: int, owner: str) -> tuple[ColumnElement[bool], ...]:
    """The mailing is still ours to send: ``sending`` and leased to ``owner``."""
    return (
        SferumMailing.id == mailing_id,
        SferumMailing.lease_owner == owner,
        SferumMailing.state == "sending",
    )


def _record(host: Host, done: _Done) -> None:
    with host.db.session() as session:
        _write_outcome(session, done)


def _first(session: Session, mailing_id: int, state: str) -> SferumMailingRecipient | None:
    # One seek of the (mailing, state, id) index; an IN over two states would sort every queued row.
    return session.scalars(
        select(SferumMailingRecipient)
        .where(SferumMailingRecipient.mailing_id == mailing_id, SferumMailingRecipient.state == state)
        .order_by(SferumMailingRecipient.id)
        .limit(1)
    ).first()


def _advance(
    host: Host, mailing_id: int, owner: str, now: datetime, lease: timedelta, done: _Done | None
) -> SferumMailingRecipient | None:
    """Commit the last outcome, renew the lease and mark the next recipient ``sending``, in one transaction.

    Returns ``None`` when the run must stop (paused, cancelled, lease lost) or the mailing is done.
    """
    with host.db.session() as session:
        renewed = None
        if done is not None:
            renewed = _write_outcome(session, done, {"owner": owner, "until": now + lease})
        if renewed is None:
            renewed = (
                session.execute(
                    update(SferumMailing)
                    .where(*_held(mailing_id, owner))
                    .values(lease_until=now + lease)
                    .execution_options(synchronize_session=False)
                ).rowcount  # type: ignore[attr-defined]
                == 1
            )
        if not renewed:
            return None  # paused, cancelled, or taken over after our lease expired
        # A row left ``sending`` by a dead worker can only exist before this run's first message.
        recipient = (_first(session, mailing_id, "sending") if done is None else None) or _first(
            session, mailing_id, "queued"
        )
        if recipient is None:
            session.execute(
                update(SferumMailing)
                .where(SferumMailing.id == mailing_id)
                .values(state="finished", finished_at=now, lease_owner=None, lease_until=None, last_error=None)
                .execution_options(synchronize_session=False)
            )
            return None
        recipient.state = "sending"
        session.flush()
        session.expunge(recipient)
        return recipient


def send_mailing(host: Host, mailing_id: int, owner: str, policy: SendPolicy, deadline: float) -> int:
    """Send a claimed mailing until it is done, paused, cancelled or the run's time is up; returns messages sent."""
    clock = policy.now or host.clock.now
    with host.db.session() as session:
        mailing = session.get(SferumMailing, mailing_id)
        assert mailing is not None
        subject, body, link = mailing.subject, mailing.body, mailing.link_url
    sender = host.mailer.sender
    connection = _Connection(host)
    sent = 0
    error: str | None = None
    done: _Done | None = None
    try:
        while policy.monotonic() < deadline:
            recipient = _advance(host, mailing_id, owner, clock(), policy.lease, done)
            done = None
            if recipient is None:
                break
            values = {"full_name": recipient.full_name, "email": recipient.email, "link": link}
            message = build_message(
                MessageParts(
                    sender=sender,
                    recipient_name=recipient.full_name,
                    recipient_email=recipient.email,
                    subject=substitute(subject, **values),
                    body=substitute(body, **values),
                    message_id=message_id(mailing_id, recipient.id, sender),
                    date=clock(),
                )
            )
            outcome, attempts = _deliver(connection, message, policy)
            done = _Done(recipient.id, mailing_id, outcome, attempts, clock())
            if outcome[0] == "stop":
                error = outcome[1]
                logger.warning("mailing %d stopped: %s", mailing_id, error)
                break
            sent += outcome[0] == "sent"
    finally:
        if done is not None:
            _record(host, done)
        connection.drop()
        _release(host, mailing_id, owner, error)
    return sent


def run_mailings(context: JobContext, policy: SendPolicy = DEFAULT_POLICY) -> None:
    """The ``sferum.mailing`` background job: send the waiting mailings, oldest first, for one time budget."""
    host = context.host
    clock = policy.now or host.clock.now
    owner = _owner()
    deadline = policy.monotonic() + policy.budget
    tried: set[int] = set()
    while policy.monotonic() < deadline:
        mailing_id = _claim(host, owner, clock(), policy.lease)
        if mailing_id is None or mailing_id in tried:
            if mailing_id is not None:
                _release(host, mailing_id, owner)
            return
        tried.add(mailing_id)
        prepare_mailing(host, mailing_id, now=clock())  # a no-op unless it is still ``preparing``
        send_mailing(host, mailing_id, owner, policy, deadline)
