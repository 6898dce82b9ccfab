"""Creating a mailing: the audience from a selection or a filter, the profile filter, and the bulk insert."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, event, select

from hookspecs.types import Person, PersonKind, PersonStatus
from sferum_plugin.models import ProfileLink, SferumMailingRecipient
from sferum_plugin.services.mailing import (
    MailingDraft,
    create_mailing,
    describe,
    filter_by_profile,
    profile_filter,
    resolve_audience,
)
from tests.mailing.conftest import AUTHOR, make_host, students

DRAFT = MailingDraft(subject="Тема", body="Текст", link_url="http://lms.test/x", audience_text="тест")


def _link(host: Any, user_id: int) -> None:
    with host.db.session() as session:
        session.add(
            ProfileLink(
                platform="vk",
                app_id=51234567,
                user_id=user_id,
                sferum_user_id=9000 + user_id,
                linked_at=datetime.now(UTC),
            )
        )


def test_the_profile_filter_splits_people_by_linked_profile(engine: Engine) -> None:
    people = [*students(4), Person(id=9, kind=PersonKind.STUDENT, user_id=None, full_name="Без аккаунта")]
    host = make_host(engine, 1, people)
    _link(host, 101)
    _link(host, 103)
    assert filter_by_profile(host, "none", people) == [2, 4, 9]
    assert filter_by_profile(host, "linked", people) == [1, 3]
    assert filter_by_profile(host, "other", people) is None
    assert [value for value, _ in profile_filter("ru").choices] == ["none", "linked"]
    assert profile_filter("en").label == "Sferum educational profile"


def test_the_audience_is_the_selection_or_the_whole_filtered_list(engine: Engine) -> None:
    people = [
        *students(3),
        Person(id=7, kind=PersonKind.STUDENT, user_id=None, full_name="Я", status=PersonStatus.EXPELLED),
    ]
    host = make_host(engine, 1, people)
    _link(host, 101)
    selected = resolve_audience(host, "students", ["3", "1", "x"], {"sferum_profile": "none"})
    assert selected is not None
    assert selected.selected
    assert [p.id for p in selected.people] == [1, 3]
    filtered = resolve_audience(host, "students", [], {"status": "active", "sferum_profile": "none"})
    assert filtered is not None
    assert not filtered.selected
    assert [p.id for p in filtered.people] == [2, 3]
    everyone = resolve_audience(host, "students", [], {})
    assert everyone is not None
    assert len(everyone.people) == 4
    assert resolve_audience(host, "chats", [], {}) is None
    assert describe(filtered, "ru") == (
        "Обучающиеся: фильтр списка (Учебный профиль Сферум: Без учебного профиля Сферум, status=active)"
    )
    assert describe(selected, "en") == "Students: selected in the list (2)"


def test_recipients_are_stored_with_one_executemany_whatever_the_audience(engine: Engine) -> None:
    statements: list[tuple[str, bool]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        statements.append((statement.split()[0].upper(), executemany))

    host = make_host(engine, 1, students(2000))
    audience = resolve_audience(host, "students", [], {})
    assert audience is not None
    event.listen(engine, "before_cursor_execute", record)
    try:
        mailing_id = create_mailing(host, author=AUTHOR, audience=audience, draft=DRAFT, now=host.clock.now())
    finally:
        event.remove(engine, "before_cursor_execute", record)
    inserts = [entry for entry in statements if entry[0] == "INSERT"]
    assert inserts == [("INSERT", False), ("INSERT", True)]  # the mailing, then all recipients at once
    with host.db.session() as session:
        count = len(
            session.scalars(
                select(SferumMailingRecipient.id).where(SferumMailingRecipient.mailing_id == mailing_id)
            ).all()
        )
    assert count == 2000


def test_a_stored_choice_that_cannot_be_applied_any_more_is_sent_to_nobody(engine: Engine, smtp: Any) -> None:
    from hookspecs.types import JobContext
    from sferum_plugin.models import SferumMailing
    from sferum_plugin.services.mailing import create_pending_mailing, run_mailings
    from tests.mailing.conftest import policy

    host = make_host(engine, smtp.port, students(3))
    host.directory.group_titles[1] = "ИВТ-21"
    now = host.clock.now()
    # Stored before choices were checked, or the group was deleted since: the job must not widen it to everyone.
    mailing_id = create_pending_mailing(host, author=AUTHOR, section="students", selected_ids=[],
                                        filters={"group": "-1"}, draft=DRAFT, now=now)  # fmt: skip
    run_mailings(JobContext(host=host, now=now), policy())
    with host.db.session() as session:
        mailing = session.get(SferumMailing, mailing_id)
        assert mailing is not None
        assert (mailing.state, mailing.total, mailing.sent) == ("finished", 0, 0)
    assert smtp.handler.messages == []
