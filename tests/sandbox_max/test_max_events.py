"""How the bot hears of events: long polling by ``marker`` (nothing lost, each update once per marker advance, a
short bounded wait), or a webhook (POSTs with ``X-Max-Bot-Api-Secret``, redelivery after failures, unsubscribing
when they run out) — never both at once. Webhook timing runs on a fake clock: no test sleeps for it."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import httpx
import pytest
from sferum_sandbox.max import SECRET_HEADER, MaxSandbox, serve

from tests.sandbox_max.maxbot import (
    FakeClock,
    WebhookReceiver,
    bot_client,
    check_update,
    poll,
    update_types,
)

SECRET = "webhook-Secret_0123"


def _subscribe(api: httpx.Client, url: str, secret: str | None = SECRET, **extra: object) -> None:
    body: dict[str, object] = {"url": url, **extra}
    if secret is not None:
        body["secret"] = secret
    assert api.post("/subscriptions", json=body).json() == {"success": True}


# ---------------------------------------------------------------- long polling


def test_nothing_is_lost_and_each_update_comes_once_per_marker_advance(
    api: httpx.Client, sandbox: MaxSandbox, people: list[int]
) -> None:
    for person in people[:3]:
        sandbox.press_start(person)
    first = poll(api)
    assert [u["user"]["user_id"] for u in first["updates"]] == people[:3]
    for update in first["updates"]:
        check_update(update)
    assert poll(api)["updates"] == first["updates"]  # not read until the marker is passed on
    assert poll(api, marker=first["marker"]) == {"updates": [], "marker": first["marker"]}
    sandbox.press_start(people[3])
    second = poll(api, marker=first["marker"])
    assert [u["user"]["user_id"] for u in second["updates"]] == [people[3]]
    assert second["marker"] > first["marker"]
    assert poll(api)["updates"] == second["updates"]  # without a marker: from the last one passed on


def test_limit_pages_through_the_queue(api: httpx.Client, sandbox: MaxSandbox, people: list[int]) -> None:
    for person in people[:5]:
        sandbox.press_start(person)
    seen: list[int] = []
    marker = None
    for expected in (2, 2, 1, 0):
        body = poll(api, limit=2, **({} if marker is None else {"marker": marker}))
        assert len(body["updates"]) == expected
        seen.extend(u["user"]["user_id"] for u in body["updates"])
        marker = body["marker"]
    assert seen == people[:5]


def test_types_filter_the_updates_and_the_marker_passes_the_others(
    api: httpx.Client, sandbox: MaxSandbox, people: list[int]
) -> None:
    sandbox.press_start(people[0])
    chat_id = sandbox.seed_chat("ИВТ-21", owner_id=people[0])
    sandbox.add_member(chat_id, people[1], by_user_id=people[0])
    sandbox.press_start(people[2])
    body = poll(api, types="user_added,user_removed")
    assert update_types(body) == ["user_added"]
    started = poll(api, types="bot_started")  # nothing is read before a marker is passed on
    assert [u["user"]["user_id"] for u in started["updates"]] == [people[0], people[2]]
    assert started["marker"] == body["marker"]
    assert poll(api, marker=body["marker"])["updates"] == []  # the bot asked not to get the others


def test_a_waiting_long_poll_wakes_up_for_a_new_update(people: list[int]) -> None:
    sandbox = MaxSandbox(rate_limit_per_second=None, long_poll_max_wait=10.0)
    with serve(sandbox, deliver_webhooks=False) as running, bot_client(running.url) as api:
        marker = poll(api)["marker"]
        result: dict[str, object] = {}

        def wait() -> None:
            started = time.monotonic()
            result["body"] = poll(api, marker=marker, timeout=30)
            result["seconds"] = time.monotonic() - started

        waiter = threading.Thread(target=wait)
        waiter.start()
        time.sleep(0.3)
        sandbox.press_start(people[0], "hello")
        waiter.join(timeout=10)
    body = result["body"]
    assert isinstance(body, dict)
    assert update_types(body) == ["bot_started"]
    assert 0.25 <= float(str(result["seconds"])) < 5


def test_the_wait_is_short_and_bounded_whatever_timeout_asks(api: httpx.Client) -> None:
    started = time.monotonic()
    body = poll(api, timeout=90)
    assert body["updates"] == []
    assert isinstance(body["marker"], int)
    assert 0.15 <= time.monotonic() - started < 3  # long_poll_max_wait is 0.2 s in these tests


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 1001}, {"timeout": 91}, {"timeout": -1}, {"marker": "x"}])
def test_long_polling_parameters_out_of_range_are_400(api: httpx.Client, params: dict[str, Any]) -> None:
    reply = api.get("/updates", params=params)
    assert (reply.status_code, reply.json()["code"]) == (400, "proto.payload")


def test_markers_keep_counting_across_a_reset(api: httpx.Client, sandbox: MaxSandbox, people: list[int]) -> None:
    sandbox.press_start(people[0])
    marker = poll(api)["marker"]
    sandbox.reset()
    sandbox.press_start(people[0], "after reset")
    (update,) = poll(api, marker=marker)["updates"]
    assert update["payload"] == "after reset"


def test_with_a_webhook_long_polling_answers_405(api: httpx.Client, sandbox: MaxSandbox, people: list[int]) -> None:
    sandbox.press_start(people[0])  # queued for long polling before the subscription
    _subscribe(api, "https://lk.example.edu/max/webhook")
    reply = api.get("/updates")
    assert (reply.status_code, reply.json()["code"]) == (405, "method.not.allowed")
    api.delete("/subscriptions", params={"url": "https://lk.example.edu/max/webhook"})
    assert update_types(poll(api)) == ["bot_started"]


def test_a_subscription_ends_a_waiting_long_poll(people: list[int]) -> None:
    sandbox = MaxSandbox(rate_limit_per_second=None, long_poll_max_wait=10.0)
    with serve(sandbox, deliver_webhooks=False) as running, bot_client(running.url) as api:
        replies: list[httpx.Response] = []
        waiter = threading.Thread(target=lambda: replies.append(api.get("/updates", params={"timeout": 30})))
        started = time.monotonic()
        waiter.start()
        time.sleep(0.2)
        _subscribe(api, "https://lk.example.edu/max/webhook")
        waiter.join(timeout=10)
    assert time.monotonic() - started < 5
    assert replies[0].json()["updates"] == []


def test_stopping_the_server_ends_waiting_long_polls() -> None:
    sandbox = MaxSandbox(rate_limit_per_second=None, long_poll_max_wait=30.0)
    running = serve(sandbox, deliver_webhooks=False)
    replies: list[httpx.Response] = []
    api = bot_client(running.url)
    waiter = threading.Thread(target=lambda: replies.append(api.get("/updates", params={"timeout": 30})))
    waiter.start()
    time.sleep(0.2)
    started = time.monotonic()
    running.stop()
    waiter.join(timeout=10)
    api.close()
    assert time.monotonic() - started < 5
    (reply,) = replies
    assert reply.json()["updates"] == []


# ---------------------------------------------------------------- webhooks


def test_each_update_is_posted_with_the_secret_header(
    api: httpx.Client, sandbox: MaxSandbox, webhook: WebhookReceiver, people: list[int]
) -> None:
    _subscribe(api, webhook.url)
    sandbox.press_start(people[0], "lk-abc")
    sandbox.press_start(people[1], "lk-def")
    assert sandbox.deliver_pending() == 2
    (headers, first), (_, second) = webhook.received
    assert headers[SECRET_HEADER] == SECRET
    assert headers["Content-Type"].startswith("application/json")
    check_update(first)
    assert (first["update_type"], first["payload"], second["payload"]) == ("bot_started", "lk-abc", "lk-def")
    assert sandbox.deliver_pending() == 0  # delivered once
    assert len(webhook.received) == 2


def test_without_a_secret_there_is_no_secret_header(
    api: httpx.Client, sandbox: MaxSandbox, webhook: WebhookReceiver, people: list[int]
) -> None:
    _subscribe(api, webhook.url, secret=None)
    sandbox.press_start(people[0])
    assert sandbox.deliver_pending() == 1
    assert SECRET_HEADER not in webhook.received[0][0]


def test_only_the_subscribed_update_types_are_sent(
    api: httpx.Client, sandbox: MaxSandbox, webhook: WebhookReceiver, people: list[int]
) -> None:
    _subscribe(api, webhook.url, update_types=["user_added", "message_chat_created"])
    chat_id = sandbox.seed_chat("ИВТ-21", owner_id=people[0], notify=True)  # bot_added: not wanted
    sandbox.press_start(people[1])  # not wanted
    sandbox.add_member(chat_id, people[1])
    assert sandbox.deliver_pending() == 1
    assert [body["update_type"] for body in webhook.updates] == ["user_added"]


def test_a_500_is_redelivered_after_60_seconds(
    api: httpx.Client, sandbox: MaxSandbox, webhook: WebhookReceiver, clock: FakeClock, people: list[int]
) -> None:
    _subscribe(api, webhook.url)
    webhook.statuses.extend([500])
    sandbox.press_start(people[0], "retry-me")
    assert sandbox.deliver_pending() == 0
    clock.advance(59)
    assert sandbox.deliver_pending() == 0  # not due yet
    assert len(webhook.received) == 1
    clock.advance(1)
    assert sandbox.deliver_pending() == 1
    assert [body["payload"] for body in webhook.updates] == ["retry-me", "retry-me"]
    assert webhook.received[1][0][SECRET_HEADER] == SECRET
    log = sandbox.state()["webhook"]["log"]
    assert [(entry["attempt"], entry["status"]) for entry in log] == [(1, 500), (2, 200)]
    assert sandbox.state()["webhook"]["pending"] == []


def test_any_answer_but_200_fails_and_a_failure_holds_back_nothing_else(
    api: httpx.Client, sandbox: MaxSandbox, webhook: WebhookReceiver, clock: FakeClock, people: list[int]
) -> None:
    _subscribe(api, webhook.url)
    webhook.statuses.extend([204])
    sandbox.press_start(people[0], "first")
    sandbox.press_start(people[1], "second")
    assert sandbox.deliver_pending() == 1  # the second went through
    clock.advance(60)
    assert sandbox.deliver_pending() == 1
    assert [body["payload"] for body in webhook.updates] == ["first", "second", "first"]


def test_the_bot_is_unsubscribed_when_the_redeliveries_run_out(
    clock: FakeClock, webhook: WebhookReceiver, people: list[int]
) -> None:
    sandbox = MaxSandbox(clock=clock, rate_limit_per_second=None, webhook_retry_delays=[1, 2, 3])
    with serve(sandbox, deliver_webhooks=False) as running, bot_client(running.url) as api:
        _subscribe(api, webhook.url)
        webhook.statuses.extend([500] * 10)
        sandbox.press_start(people[0], "lost")
        for delay in (1, 2, 3):
            assert sandbox.deliver_pending() == 0
            clock.advance(delay)
        assert sandbox.deliver_pending() == 0
        assert len(webhook.received) == 4  # the first try and three redeliveries
        assert api.get("/subscriptions").json() == {"subscriptions": []}
        assert sandbox.state()["webhook"]["log"][-1]["event"] == "unsubscribed"
        clock.advance(100)
        assert sandbox.deliver_pending() == 0
        assert len(webhook.received) == 4
        sandbox.press_start(people[1], "polled")  # long polling works again
        assert [u["payload"] for u in poll(api)["updates"]] == ["polled"]


def test_maxs_own_schedule_gives_up_within_8_hours(
    api: httpx.Client, sandbox: MaxSandbox, webhook: WebhookReceiver, clock: FakeClock, people: list[int]
) -> None:
    _subscribe(api, webhook.url)
    webhook.statuses.extend([503] * 20)
    start = clock()
    sandbox.press_start(people[0])
    delays = [60 * 2.5**n for n in range(10)]
    attempts = 0
    while api.get("/subscriptions").json()["subscriptions"]:
        sandbox.deliver_pending()
        attempts += 1
        clock.advance(delays[attempts - 1])
    assert attempts == len(webhook.received) == 8  # 7 redeliveries fit in 8 hours, at 60, 150, 375 ... seconds
    assert clock() - start - delays[7] < 8 * 3600


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_an_unreachable_webhook_is_a_failed_delivery(
    api: httpx.Client, sandbox: MaxSandbox, clock: FakeClock, closed_port: int, people: list[int]
) -> None:
    _subscribe(api, f"http://127.0.0.1:{closed_port}/hook")
    sandbox.press_start(people[0])
    assert sandbox.deliver_pending() == 0
    (attempt,) = sandbox.state()["webhook"]["log"]
    assert (attempt["attempt"], attempt["status"]) == (1, None)
    assert sandbox.state()["webhook"]["pending"] == [{"update_type": "bot_started", "attempts": 1}]


def test_a_served_sandbox_delivers_in_the_background(webhook: WebhookReceiver, people: list[int]) -> None:
    sandbox = MaxSandbox(rate_limit_per_second=None)
    with serve(sandbox) as running, bot_client(running.url) as api:
        _subscribe(api, webhook.url)
        sandbox.press_start(people[0], "pushed")
        assert webhook.arrived.wait(5)
    assert webhook.updates[0]["payload"] == "pushed"
    assert webhook.received[0][0][SECRET_HEADER] == SECRET
