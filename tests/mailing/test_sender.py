"""The sending job against a real aiosmtpd server: reuse, reconnects, retries, permanent failures, restarts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from email import policy as email_policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest
from lms_host.demo.smtp_sink import MemorySink, free_port, start_smtp_server
from sqlalchemy import Engine, select, update

from hookspecs.types import JobContext, Person, PersonKind
from sferum_plugin.models import SferumMailing, SferumMailingRecipient
from sferum_plugin.services.mailing import MailingDraft, control, create_mailing, resolve_audience, run_mailings
from tests.mailing.conftest import AUTHOR, SENDER, Waits, make_host, policy, students
from tests.plugin.fakes import FakeHost

DRAFT = MailingDraft(
    subject="Учебный профиль Сферум для {name}",
    body="Здравствуйте, {first_name}!\n\nСоздайте учебный профиль: {link}\n",
    link_url="http://lms.test/m/sferum/online-lessons",
    audience_text="Обучающиеся: фильтр списка",
)


def _create(host: FakeHost, ids: list[int] | None = None) -> int:
    audience = resolve_audience(host, "students", [str(i) for i in ids or []], {})
    assert audience is not None
    return create_mailing(host, author=AUTHOR, audience=audience, draft=DRAFT, now=host.clock.now())


def _run(host: FakeHost, **overrides: Any) -> None:
    run_mailings(JobContext(host=host, now=host.clock.now()), policy(**overrides))


def _mailing(host: FakeHost, mailing_id: int) -> SferumMailing:
    with host.db.session() as session:
        mailing = session.get(SferumMailing, mailing_id)
        assert mailing is not None
        session.expunge(mailing)
        return mailing


def _states(host: FakeHost, mailing_id: int) -> dict[str, tuple[str, str | None]]:
    with host.db.session() as session:
        rows = session.scalars(
            select(SferumMailingRecipient).where(SferumMailingRecipient.mailing_id == mailing_id)
        ).all()
        return {row.email or row.full_name: (row.state, row.reason) for row in rows}


def _received(smtp: Any) -> list[str]:
    return [recipient for recipients, _ in smtp.handler.messages for recipient in recipients]


class CountingMailer:
    """The host's mailer, counting the connections it opens (and optionally failing a send)."""

    def __init__(self, inner: Any, fail_on: int | None = None, failure: BaseException | None = None) -> None:
        self.inner = inner
        self.connections = 0
        self.sends = 0
        self.fail_on = fail_on
        self.failure = failure

    @property
    def sender(self) -> str:
        return str(self.inner.sender)

    @contextmanager
    def connect(self) -> Iterator[Any]:
        self.connections += 1
        with self.inner.connect() as connection:
            yield self._Wrapped(self, connection)

    class _Wrapped:
        def __init__(self, mailer: CountingMailer, connection: Any) -> None:
            self.mailer = mailer
            self.connection = connection

        def send(self, message: EmailMessage) -> None:
            self.mailer.sends += 1
            if self.mailer.sends == self.mailer.fail_on and self.mailer.failure is not None:
                raise self.mailer.failure
            self.connection.send(message)


def test_the_whole_flow_sends_one_message_per_recipient_over_one_connection(host: FakeHost, smtp: Any) -> None:
    host.directory.persons += [
        Person(id=50, kind=PersonKind.STUDENT, user_id=None, full_name="Без Почты Студент", email=""),
        Person(id=51, kind=PersonKind.STUDENT, user_id=None, full_name="Кривой Адрес", email="not-an-address"),
        Person(id=52, kind=PersonKind.STUDENT, user_id=None, full_name="Яковлев Дубль", email="S1@example.org"),
    ]
    mailer = CountingMailer(host.mailer)
    host.mailer = mailer
    mailing_id = _create(host)
    assert _mailing(host, mailing_id).skipped == 3
    _run(host)

    mailing = _mailing(host, mailing_id)
    assert (mailing.state, mailing.total, mailing.sent, mailing.failed, mailing.skipped) == ("finished", 8, 5, 0, 3)
    assert mailing.finished_at is not None
    assert mailing.lease_owner is None
    assert sorted(_received(smtp)) == sorted(f"s{n}@example.org" for n in range(1, 6))
    assert mailer.connections == 1
    states = _states(host, mailing_id)
    assert states["Без Почты Студент"] == ("skipped", "нет адреса e-mail")
    assert states["not-an-address"] == ("skipped", "неверный адрес e-mail")
    assert states["S1@example.org"] == ("skipped", "тот же адрес уже есть в рассылке")

    parsed = BytesParser(policy=email_policy.default).parsebytes(smtp.handler.messages[0][1])
    assert parsed["Subject"] == "Учебный профиль Сферум для Иванов Пётр 0001"
    assert parsed["From"] == SENDER
    assert parsed["To"].addresses[0].display_name == "Иванов Пётр 0001"
    ids = {BytesParser(policy=email_policy.default).parsebytes(raw)["Message-ID"] for _, raw in smtp.handler.messages}
    assert len(ids) == 5
    assert all(i.startswith(f"<sferum-mailing-{mailing_id}-") for i in ids)
    assert parsed["Date"].datetime.tzinfo is not None
    body = parsed.get_body(preferencelist=("plain",)).get_content()
    assert body.startswith("Здравствуйте, Пётр!")
    assert DRAFT.link_url in body

    _run(host)  # nothing left: a second run sends nothing again
    assert len(smtp.handler.messages) == 5


class FlakyHandler(MemorySink):
    """Answers 421 (and closes) to one RCPT, and drops the connection in the middle of another DATA."""

    def __init__(self) -> None:
        super().__init__()
        self.rcpts = 0
        self.datas = 0

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        self.rcpts += 1
        if self.rcpts == 2:
            server.transport.close()
            return "421 4.3.2 Service shutting down"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.datas += 1
        if self.datas == 3:
            server.transport.close()  # dropped before the message was accepted
            return "451 4.3.0 Lost"
        return await super().handle_DATA(server, session, envelope)


def test_dropped_connections_are_reopened_and_retried_without_duplicates(engine: Engine) -> None:
    controller = start_smtp_server(FlakyHandler())
    try:
        host = make_host(engine, controller.port, students(5))
        mailer = CountingMailer(host.mailer)
        host.mailer = mailer
        mailing_id = _create(host)
        waits = Waits()
        _run(host, sleep=waits)
        received = _received(controller)
    finally:
        controller.stop()
    assert Counter(received) == Counter(f"s{n}@example.org" for n in range(1, 6))
    assert mailer.connections == 3  # the first, and one after each drop
    assert waits.seconds == [1.0, 1.0]  # one backoff per temporary failure, each the first of its message
    mailing = _mailing(host, mailing_id)
    assert (mailing.state, mailing.sent, mailing.failed) == ("finished", 5, 0)


class RefusingHandler(MemorySink):
    """550 for one address, 451 (temporary, every time) for another."""

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address == "s3@example.org":
            return "550 5.1.1 <s3@example.org>: no such user"
        if address == "s4@example.org":
            return "451 4.2.0 Mailbox busy"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_permanent_failures_are_recorded_and_temporary_ones_retried_with_backoff(engine: Engine) -> None:
    controller = start_smtp_server(RefusingHandler())
    try:
        host = make_host(engine, controller.port, students(5))
        mailing_id = _create(host)
        waits = Waits()
        _run(host, sleep=waits, max_attempts=3)
        received = _received(controller)
    finally:
        controller.stop()
    assert sorted(received) == ["s1@example.org", "s2@example.org", "s5@example.org"]
    states = _states(host, mailing_id)
    assert states["s3@example.org"][0] == "failed"
    assert "550 5.1.1" in (states["s3@example.org"][1] or "")
    assert states["s4@example.org"][0] == "failed"
    assert "451" in (states["s4@example.org"][1] or "")
    assert waits.seconds == [1.0, 2.0]  # 3 tries of s4, growing waits; none for the permanent 550
    mailing = _mailing(host, mailing_id)
    assert (mailing.state, mailing.sent, mailing.failed) == ("finished", 3, 2)


class Crash(BaseException):
    """The process dies (nothing in the sender catches it)."""


def test_a_restart_in_the_middle_resumes_with_no_loss_and_no_duplicate(host: FakeHost, smtp: Any) -> None:
    inner = host.mailer
    host.mailer = CountingMailer(inner, fail_on=3, failure=Crash())
    mailing_id = _create(host)
    with pytest.raises(Crash):
        _run(host)
    assert _states(host, mailing_id)["s3@example.org"] == ("sending", None)  # in flight when it died
    assert len(smtp.handler.messages) == 2

    host.mailer = inner  # "the process restarts"
    _run(host)
    assert Counter(_received(smtp)) == Counter(f"s{n}@example.org" for n in range(1, 6))
    assert _mailing(host, mailing_id).sent == 5


def test_a_dead_workers_lease_blocks_the_mailing_until_it_expires(host: FakeHost, smtp: Any) -> None:
    mailing_id = _create(host)
    now = host.clock.now()
    with host.db.session() as session:
        session.execute(
            update(SferumMailing)
            .where(SferumMailing.id == mailing_id)
            .values(lease_owner="dead:1:1", lease_until=now + timedelta(minutes=2))
        )
    _run(host)
    assert smtp.handler.messages == []
    _run(host, now=lambda: now + timedelta(minutes=3))
    assert len(smtp.handler.messages) == 5


def test_time_budget_stops_a_run_and_the_next_run_continues(host: FakeHost, smtp: Any) -> None:
    ticks = iter(range(1000))
    mailing_id = _create(host)
    # The clock ticks once per read: a budget of 4 ticks lets the run send two messages.
    _run(host, monotonic=lambda: float(next(ticks)), budget=4.0)
    first = len(smtp.handler.messages)
    assert first == 2
    assert _mailing(host, mailing_id).lease_owner is None
    _run(host)
    assert Counter(_received(smtp)) == Counter(f"s{n}@example.org" for n in range(1, 6))


def test_pause_resume_and_cancel(host: FakeHost, smtp: Any) -> None:
    now = host.clock.now()
    mailing_id = _create(host)
    assert control(host, mailing_id, "pause", now=now)
    assert not control(host, mailing_id, "pause", now=now)
    _run(host)
    assert smtp.handler.messages == []
    assert _mailing(host, mailing_id).state == "paused"
    assert control(host, mailing_id, "resume", now=now)
    host.mailer = CountingMailer(host.mailer, fail_on=3, failure=Crash())
    with pytest.raises(Crash):
        _run(host)
    assert control(host, mailing_id, "cancel", now=now)
    mailing = _mailing(host, mailing_id)
    assert (mailing.state, mailing.sent, mailing.skipped) == ("cancelled", 2, 2)  # s3 was in flight, s4, s5 dropped
    assert not control(host, mailing_id, "resume", now=now)
    _run(host)
    assert len(smtp.handler.messages) == 2
    assert _states(host, mailing_id)["s5@example.org"] == ("skipped", "рассылка отменена")


def test_an_unreachable_server_keeps_the_recipients_queued_for_the_next_run(engine: Engine) -> None:
    port = free_port()
    host = make_host(engine, port, students(3))
    mailing_id = _create(host)
    _run(host)
    mailing = _mailing(host, mailing_id)
    assert mailing.state == "sending"
    assert mailing.last_error
    assert mailing.sent == 0
    assert {state for state, _ in _states(host, mailing_id).values()} == {"queued"}

    controller = start_smtp_server(MemorySink(), port=port)
    try:
        _run(host)
        assert len(controller.handler.messages) == 3
    finally:
        controller.stop()
    assert _mailing(host, mailing_id).state == "finished"
