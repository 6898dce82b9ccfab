"""The inbox job: MAX's events from the sandbox (by long polling over real HTTP) become sync requests of the chats
the module manages within one run; a failing event is retried later and never holds back the events after it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sferum_sandbox.max import MaxSandbox
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from sferum_plugin.models import SferumInbox
from sferum_plugin.services import inbox, max_updates
from sferum_plugin.services.connection import SferumAccess
from sferum_plugin.services.events import EventContext
from tests.inbox.conftest import MAX_ACCOUNT, add_chat, inbox_rows, job, sync_scopes
from tests.plugin.fakes import FakeHost


def _people(box: MaxSandbox) -> list[int]:
    return [user["user_id"] for user in box.state()["users"]]


def _store(host: FakeHost, *bodies: dict[str, object]) -> None:
    with host.db.session() as session:
        for body in bodies:
            inbox.store_update(session, "max", body, host.clock.now())


def _removed(chat_id: int, user_id: int, timestamp: int = 1) -> dict[str, object]:
    return {
        "update_type": "user_removed",
        "timestamp": timestamp,
        "chat_id": chat_id,
        "user": {"user_id": user_id, "first_name": "Анна", "is_bot": False, "last_activity_time": 0},
        "is_channel": False,
    }


def test_a_person_leaving_a_managed_chat_queues_its_sync_within_one_run(
    host: FakeHost, engine: Engine, max_box: MaxSandbox, sferum: SferumAccess
) -> None:
    people = _people(max_box)
    managed = max_box.seed_chat("ИВТ-21", owner_id=people[0], member_ids=people[1:4])
    other = max_box.seed_chat("Чужой чат", owner_id=people[0], member_ids=people[1:3])
    pk = add_chat(engine, managed)
    max_box.leave_chat(other, people[1])  # a chat the module does not manage
    max_box.leave_chat(managed, people[2])
    max_updates.poll_updates(job(host), sferum=sferum)
    assert [row.update_type for row in inbox_rows(engine)] == ["user_removed", "user_removed"]
    assert sync_scopes(engine) == set()

    inbox.handle_inbox(job(host))
    assert sync_scopes(engine) == {f"chat:{pk}"}
    with engine.connect() as connection:  # the pass reads the real list: the known one may be wrong now
        assert connection.execute(text("SELECT needs_verify FROM sferum_chats WHERE id = :pk"), {"pk": pk}).scalar()
    rows = inbox_rows(engine)
    assert all(row.processed_at is not None for row in rows)
    assert [(row.attempts, row.error) for row in rows] == [(1, None), (1, None)]
    inbox.handle_inbox(job(host, after=timedelta(hours=5)))  # processed rows are never handled again
    assert [row.attempts for row in inbox_rows(engine)] == [1, 1]


@pytest.mark.parametrize("event", ["user_added", "chat_title_changed", "bot_added"])
def test_joins_renames_and_the_bot_added_queue_the_chat_too(
    event: str, host: FakeHost, engine: Engine, max_box: MaxSandbox, sferum: SferumAccess
) -> None:
    people = _people(max_box)
    chat_id = max_box.seed_chat("ИВТ-22", owner_id=people[0], member_ids=people[1:2], notify=event == "bot_added")
    pk = add_chat(engine, chat_id)
    if event == "user_added":
        max_box.add_member(chat_id, people[3], by_user_id=people[0])
    elif event == "chat_title_changed":
        max_box.change_title(chat_id, "ИВТ-22 (новый)", by_user_id=people[0])
    max_updates.poll_updates(job(host), sferum=sferum)
    assert [row.update_type for row in inbox_rows(engine)] == [event]
    inbox.handle_inbox(job(host))
    assert sync_scopes(engine) == {f"chat:{pk}"}


def test_events_of_another_accounts_chat_are_ignored(host: FakeHost, engine: Engine) -> None:
    from sferum_plugin.account import Account

    add_chat(engine, 777, account=Account("vk", 51234567))  # VK's chat with the same number
    _store(host, _removed(777, 5))
    inbox.handle_inbox(job(host))
    assert sync_scopes(engine) == set()
    assert inbox_rows(engine)[0].processed_at is not None


def test_a_failing_handler_does_not_block_later_rows_and_is_retried_with_backoff(
    host: FakeHost, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = add_chat(engine, 200)
    real = inbox.HANDLERS["user_removed"]

    def broken_for_chat_100(context: EventContext, update: object) -> None:
        real(context, update)  # its writes must be rolled back with the failure
        if getattr(update, "chat_id", None) == 100:
            raise RuntimeError("cannot handle chat 100")

    add_chat(engine, 100)
    monkeypatch.setitem(inbox.HANDLERS, "user_removed", broken_for_chat_100)
    _store(host, _removed(100, 5), _removed(200, 6))

    inbox.handle_inbox(job(host))
    bad, later = inbox_rows(engine)
    assert later.processed_at is not None
    assert sync_scopes(engine) == {f"chat:{good}"}  # the failing row's sync request went with its transaction
    assert bad.processed_at is None
    assert bad.attempts == 1
    assert bad.error == "RuntimeError: cannot handle chat 100"

    inbox.handle_inbox(job(host, after=timedelta(seconds=29)))  # not due yet
    assert inbox_rows(engine)[0].attempts == 1
    inbox.handle_inbox(job(host, after=timedelta(seconds=30)))
    assert inbox_rows(engine)[0].attempts == 2
    inbox.handle_inbox(job(host, after=timedelta(seconds=30 + 59)))  # the second delay is a minute
    assert inbox_rows(engine)[0].attempts == 2

    monkeypatch.setitem(inbox.HANDLERS, "user_removed", real)  # the cause is fixed: the next try succeeds
    inbox.handle_inbox(job(host, after=timedelta(seconds=90)))
    bad = inbox_rows(engine)[0]
    assert bad.processed_at is not None
    assert (bad.attempts, bad.error) == (3, None)


def test_a_row_that_always_fails_is_set_aside_after_the_last_attempt(
    host: FakeHost, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def always_fails(context: EventContext, update: object) -> None:
        raise RuntimeError("never")

    monkeypatch.setitem(inbox.HANDLERS, "user_removed", always_fails)
    _store(host, _removed(100, 5))
    for hours in range(inbox.MAX_ATTEMPTS + 2):
        inbox.handle_inbox(job(host, after=timedelta(hours=hours)))
    (row,) = inbox_rows(engine)
    assert row.attempts == inbox.MAX_ATTEMPTS
    assert row.processed_at is not None
    assert row.error == "RuntimeError: never"


def test_unknown_types_are_processed_without_action_and_unreadable_ones_are_set_aside(
    host: FakeHost, engine: Engine
) -> None:
    add_chat(engine, 100)
    _store(
        host,
        {"update_type": "message_created", "timestamp": 1, "message": {}},
        {"update_type": "user_removed", "timestamp": 2, "chat_id": "not a number"},
        _removed(100, 5, timestamp=3),
    )
    inbox.handle_inbox(job(host))
    unknown, unreadable, handled = inbox_rows(engine)
    assert unknown.processed_at is not None
    assert unknown.error is None
    assert unreadable.processed_at is not None
    assert unreadable.error is not None
    assert unreadable.error.startswith("MalformedResponseError")
    assert handled.processed_at is not None
    assert len(sync_scopes(engine)) == 1


def test_the_job_waits_while_max_is_not_the_chosen_platform(host: FakeHost, engine: Engine) -> None:
    add_chat(engine, 100)
    _store(host, _removed(100, 5))
    host.settings.stored["sferum"] = host.settings.stored["sferum"] | {"platform": "vk"}
    inbox.handle_inbox(job(host))
    assert inbox_rows(engine)[0].processed_at is None
    assert sync_scopes(engine) == set()


def test_retry_delays_grow_and_stop_growing_at_an_hour() -> None:
    delays = [inbox.retry_delay(n) for n in range(1, 10)]
    assert delays[:4] == [timedelta(seconds=s) for s in (30, 60, 120, 240)]
    assert delays[-1] == timedelta(hours=1)
    assert delays == sorted(delays)


def test_a_duplicate_is_not_stored_twice_and_the_key_ignores_key_order(host: FakeHost, engine: Engine) -> None:
    body = _removed(100, 5)
    with Session(engine) as session, session.begin():
        assert inbox.store_update(session, "max", body, host.clock.now()) is True
        assert inbox.store_update(session, "max", dict(reversed(list(body.items()))), host.clock.now()) is False
        assert inbox.store_update(session, "max", _removed(100, 5, timestamp=2), host.clock.now()) is True
    assert inbox.update_key(body) == inbox.update_key(dict(reversed(list(body.items()))))
    assert len(inbox_rows(engine)) == 2
    assert {row.platform for row in inbox_rows(engine)} == {MAX_ACCOUNT.platform}
    assert all(isinstance(row, SferumInbox) for row in inbox_rows(engine))
