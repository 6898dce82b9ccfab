"""Long polling against the MAX sandbox over real HTTP: the page and the next ``marker`` are stored in one
transaction, so a crash neither loses nor repeats an update; while webhook delivery is chosen the job does nothing."""

from __future__ import annotations

import pytest
from sferum_sandbox.max import MaxSandbox, RunningMaxSandbox
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from sferum_plugin import MODULE_NAME
from sferum_plugin.gateway.max import MaxClient
from sferum_plugin.services import max_updates
from sferum_plugin.services.connection import SferumAccess
from sferum_plugin.services.sync.queue import service_row
from sferum_plugin.settings import MaxSettings
from tests.inbox.conftest import MAX_ACCOUNT, inbox_rows, job, max_settings
from tests.plugin.fakes import FakeHost


def _marker(engine: Engine) -> int | None:
    with Session(engine) as session, session.begin():
        return service_row(session, MAX_ACCOUNT).updates_marker


def _people(box: MaxSandbox, count: int) -> list[int]:
    return [user["user_id"] for user in box.state()["users"][:count]]


class Crash(Exception):
    """The process dies in the middle of storing a page."""


def test_polling_stores_each_update_once_across_a_crash(
    host: FakeHost, engine: Engine, max_box: MaxSandbox, sferum: SferumAccess, monkeypatch: pytest.MonkeyPatch
) -> None:
    for person in _people(max_box, 3):
        max_box.press_start(person)
    real_store = max_updates.store_update
    calls: list[int] = []

    def crash_on_the_third(*args: object, **kwargs: object) -> bool:
        calls.append(1)
        if len(calls) == 3:
            raise Crash
        return real_store(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(max_updates, "store_update", crash_on_the_third)
    with pytest.raises(Crash):
        max_updates.poll_updates(job(host), sferum=sferum)
    assert inbox_rows(engine) == []  # the two stored before the crash went with the transaction
    assert _marker(engine) is None  # and the marker did not move: MAX serves the same page again
    monkeypatch.setattr(max_updates, "store_update", real_store)

    max_updates.poll_updates(job(host), sferum=sferum)
    rows = inbox_rows(engine)
    assert [row.update_type for row in rows] == ["bot_started"] * 3
    marker = _marker(engine)
    assert marker is not None
    max_updates.poll_updates(job(host), sferum=sferum)  # nothing new: nothing repeated
    assert len(inbox_rows(engine)) == 3
    assert _marker(engine) == marker

    max_box.press_start(_people(max_box, 4)[3])
    max_updates.poll_updates(job(host), sferum=sferum)
    assert len(inbox_rows(engine)) == 4
    assert _marker(engine) != marker


def test_a_page_stored_twice_is_one_set_of_rows_and_the_marker_moves_once(
    host: FakeHost, engine: Engine, max_box: MaxSandbox, sferum: SferumAccess
) -> None:
    """Two pollers read the same page from the same marker (a crash after the commit looks the same to MAX)."""
    for person in _people(max_box, 2):
        max_box.press_start(person)
    settings = MaxSettings.from_stored(host.settings.get(MODULE_NAME))
    assert settings is not None
    with sferum.bot(settings) as client:
        page = client.get_updates(None, timeout=0)
    assert len(page.bodies) == 2
    with host.db.session() as session:
        assert max_updates.save_page(session, MAX_ACCOUNT, None, page, host.clock.now()) == 2
    with host.db.session() as session:
        assert max_updates.save_page(session, MAX_ACCOUNT, None, page, host.clock.now()) == 0
    assert len(inbox_rows(engine)) == 2
    assert _marker(engine) == page.marker


def test_the_polling_job_does_nothing_while_webhook_delivery_is_chosen(
    host: FakeHost, engine: Engine, max_box: MaxSandbox, max_running: RunningMaxSandbox, sferum: SferumAccess
) -> None:
    host.settings.stored[MODULE_NAME] = max_settings(max_running.url, "webhook", webhook_url="https://lk.test/hook")
    max_box.press_start(_people(max_box, 1)[0])
    before = max_box.request_counts()
    max_updates.poll_updates(job(host), sferum=sferum)
    assert max_box.request_counts() == before  # not even one request
    assert inbox_rows(engine) == []
    host.settings.stored[MODULE_NAME] = max_settings(max_running.url) | {"platform": "vk"}
    max_updates.poll_updates(job(host), sferum=sferum)
    assert max_box.request_counts() == before


def test_a_leftover_webhook_subscription_is_removed_when_polling_is_chosen(
    host: FakeHost, engine: Engine, max_box: MaxSandbox, max_running: RunningMaxSandbox, sferum: SferumAccess
) -> None:
    settings = MaxSettings.from_stored(max_settings(max_running.url, "webhook", webhook_url="https://lk.test/hook"))
    assert settings is not None
    with sferum.bot(settings) as client:
        state = max_updates.ensure_subscription(client, settings, host.clock.now())
    assert state.subscribed
    assert max_box.state()["subscription"]["url"] == "https://lk.test/hook"
    max_box.press_start(_people(max_box, 1)[0])  # queued for the webhook, not for polling
    max_updates.keep_subscription(job(host), sferum=sferum)  # the host's settings choose long polling
    assert max_box.state()["subscription"] is None
    max_box.press_start(_people(max_box, 2)[1])
    max_updates.poll_updates(job(host), sferum=sferum)
    assert [row.update_type for row in inbox_rows(engine)] == ["bot_started"]


def test_the_client_hands_over_each_update_as_max_sent_it(max_box: MaxSandbox, max_running: RunningMaxSandbox) -> None:
    max_box.press_start(_people(max_box, 1)[0], payload="abc")
    settings = MaxSettings.from_stored(max_settings(max_running.url))
    assert settings is not None
    with SferumAccess().bot(settings) as client:
        assert isinstance(client, MaxClient)
        page = client.get_updates(None, timeout=0)
    (body,) = page.bodies
    assert isinstance(body, dict)
    assert body["update_type"] == "bot_started"
    assert body["payload"] == "abc"


def test_polling_refused_for_a_leftover_subscription_removes_it_and_polls_next_time(
    host: FakeHost, engine: Engine, max_box: MaxSandbox, max_running: RunningMaxSandbox, sferum: SferumAccess
) -> None:
    settings = MaxSettings.from_stored(max_settings(max_running.url, "webhook", webhook_url="https://lk.test/hook"))
    assert settings is not None
    with sferum.bot(settings) as client:
        max_updates.ensure_subscription(client, settings, host.clock.now())
    max_updates.poll_updates(job(host), sferum=sferum)  # 405 from MAX: the module unsubscribes
    assert max_box.state()["subscription"] is None
    max_box.press_start(_people(max_box, 1)[0])
    max_updates.poll_updates(job(host), sferum=sferum)
    assert [row.update_type for row in inbox_rows(engine)] == ["bot_started"]
