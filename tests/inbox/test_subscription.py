"""MAX's webhook subscription, kept by a job against the MAX sandbox over real HTTP: subscribed when missing, again
after MAX dropped it (failed redeliveries over 8 hours) or when it is an hour old, none with long polling; and
«Проверить подключение» reports it in words."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from lms_host import Cabinet
from sferum_sandbox.max import MaxSandbox, RunningMaxSandbox

from sferum_plugin import MODULE_NAME
from sferum_plugin.services import max_updates
from sferum_plugin.services.connection import SferumAccess
from tests.host.conftest import admin_client, app_factory, clock, fake_plugin, migrated_template, post  # noqa: F401
from tests.host.people import seed_people
from tests.inbox.conftest import job, max_settings
from tests.plugin.fakes import FakeHost
from tests.sandbox_max.maxbot import WALL_START, FakeClock

HOOK = "https://lk.university.test/m/sferum/max/updates"


def _webhook(host: FakeHost, url: str) -> None:
    host.settings.stored[MODULE_NAME] = max_settings(url, "webhook", webhook_url=HOOK)
    # The host's clock agrees with the sandbox's wall clock (MAX's subscription time is its own).
    host.clock.current = datetime.fromtimestamp(WALL_START, UTC)


def _subscription_posts(box: MaxSandbox) -> int:
    return box.request_counts().get("POST /subscriptions", 0)


def test_the_job_subscribes_when_missing_and_leaves_a_fresh_subscription_alone(
    host: FakeHost, max_box: MaxSandbox, max_running: RunningMaxSandbox, sferum: SferumAccess
) -> None:
    _webhook(host, max_running.url)
    assert max_box.state()["subscription"] is None
    max_updates.keep_subscription(job(host), sferum=sferum)
    subscription = max_box.state()["subscription"]
    assert subscription["url"] == HOOK
    assert _subscription_posts(max_box) == 1
    max_updates.keep_subscription(job(host, after=timedelta(minutes=5)), sferum=sferum)
    assert _subscription_posts(max_box) == 1  # one GET, no POST
    max_updates.keep_subscription(job(host, after=timedelta(hours=1)), sferum=sferum)
    assert _subscription_posts(max_box) == 2  # an hour old: subscribed again (a changed secret reaches MAX)


def test_the_job_subscribes_again_after_max_dropped_the_bot(
    host: FakeHost, max_box: MaxSandbox, max_running: RunningMaxSandbox, max_clock: FakeClock, sferum: SferumAccess
) -> None:
    _webhook(host, max_running.url)
    closed = "http://127.0.0.1:9/m/sferum/max/updates"  # nobody listens: every delivery fails at once
    host.settings.stored[MODULE_NAME] |= {"max_webhook_url": closed}
    max_updates.keep_subscription(job(host), sferum=sferum)
    max_box.press_start(max_box.state()["users"][0]["user_id"])
    for _ in range(12):  # MAX retries, then unsubscribes the bot
        max_box.deliver_pending()
        max_clock.advance(4 * 3600)
    assert max_box.state()["subscription"] is None
    assert "unsubscribe" in str(max_box.state())
    max_updates.keep_subscription(job(host, after=timedelta(minutes=5)), sferum=sferum)
    assert max_box.state()["subscription"]["url"] == closed


def test_an_old_address_is_unsubscribed_and_long_polling_removes_every_subscription(
    host: FakeHost, max_box: MaxSandbox, max_running: RunningMaxSandbox, sferum: SferumAccess
) -> None:
    _webhook(host, max_running.url)
    host.settings.stored[MODULE_NAME] |= {"max_webhook_url": "https://old.university.test/hook"}
    max_updates.keep_subscription(job(host), sferum=sferum)
    assert max_box.state()["subscription"]["url"] == "https://old.university.test/hook"
    host.settings.stored[MODULE_NAME] |= {"max_webhook_url": HOOK}
    max_updates.keep_subscription(job(host), sferum=sferum)
    assert max_box.state()["subscription"]["url"] == HOOK
    host.settings.stored[MODULE_NAME] |= {"max_updates": "polling"}
    max_updates.keep_subscription(job(host), sferum=sferum)
    assert max_box.state()["subscription"] is None


def test_the_job_does_nothing_while_another_platform_is_chosen(
    host: FakeHost, max_box: MaxSandbox, max_running: RunningMaxSandbox, sferum: SferumAccess
) -> None:
    _webhook(host, max_running.url)
    host.settings.stored[MODULE_NAME] |= {"platform": "vk"}
    before = max_box.request_counts()
    max_updates.keep_subscription(job(host), sferum=sferum)
    assert max_box.request_counts() == before


# -- «Проверить подключение» in the example host ----------------------------------------------------------------


@pytest.fixture
def lms(app_factory: Callable[..., Flask], max_running: RunningMaxSandbox) -> Flask:  # noqa: F811
    app = app_factory(LOAD_ENTRYPOINTS=True, PLUGINS=[])
    seed_people(Cabinet.of(app))
    admin = admin_client(app)
    assert "установлен" in post(admin, "/admin/modules/sferum/install", follow_redirects=True).get_data(as_text=True)
    settings = max_settings(max_running.url, "webhook", webhook_url=HOOK)
    Cabinet.of(app).settings.save("sferum", settings, secret={"max_bot_token", "max_webhook_secret"})
    return app


def test_check_connection_subscribes_and_says_where_events_go(lms: Flask, max_box: MaxSandbox) -> None:
    admin = admin_client(lms)
    page = post(admin, "/m/sferum/settings/check").get_data(as_text=True)
    assert "События бота" in page
    assert f"MAX присылает события бота на {HOOK}: подписка действует." in page
    assert max_box.state()["subscription"]["url"] == HOOK
    assert max_settings("", "webhook")["max_webhook_secret"] not in page

    Cabinet.of(lms).settings.save("sferum", {"max_updates": "polling"})
    page = post(admin, "/m/sferum/settings/check").get_data(as_text=True)
    assert "События бота модуль забирает сам (long polling)" in page
    assert max_box.state()["subscription"] is None


def test_check_connection_says_in_words_when_max_refuses_the_subscription(lms: Flask, max_box: MaxSandbox) -> None:
    max_box.faults.inject("POST /subscriptions", status=400, message="url is not reachable")
    page = post(admin_client(lms), "/m/sferum/settings/check").get_data(as_text=True)
    assert f"MAX не принял подписку на события по адресу {HOOK}" in page
    assert "url is not reachable" not in page  # MAX's English is not shown
    max_box.faults.inject("POST /subscriptions", status=503, times=1)
    page = post(admin_client(lms), "/m/sferum/settings/check").get_data(as_text=True)
    assert "У MAX временный сбой, подписка на события не проверена" in page
