"""The bot's token (``Authorization`` only), the rate limit per rolling second (HTTP 429), and injected faults: MAX
error statuses, a proxy's 5xx, dropped connections before and after the change, delays."""

from __future__ import annotations

import httpx
import pytest
from sferum_sandbox.max import DEFAULT_BOT_TOKEN, ConnectionDropped, MaxSandbox, RunningMaxSandbox, serve

from tests.sandbox_max.maxbot import FakeClock, SleepRecorder, bot_client, in_process_client, poll, send

# ---------------------------------------------------------------- the token


@pytest.mark.parametrize("token", [None, "", "wrong-token", f"Bearer {DEFAULT_BOT_TOKEN}", DEFAULT_BOT_TOKEN + "x"])
def test_a_missing_or_wrong_token_is_401_verify_token(running: RunningMaxSandbox, token: str | None) -> None:
    with bot_client(running.url, token=None) as client:
        headers = {} if token is None else {"Authorization": token}
        reply = client.get("/me", headers=headers)
    assert reply.status_code == 401
    assert reply.json()["code"] == "verify.token"


def test_the_token_in_the_query_only_is_not_accepted(running: RunningMaxSandbox) -> None:
    with bot_client(running.url, token=None) as client:
        reply = client.get("/me", params={"access_token": DEFAULT_BOT_TOKEN})
    assert (reply.status_code, reply.json()["code"]) == (401, "verify.token")


def test_a_sandbox_told_another_token_accepts_only_that_one() -> None:
    sandbox = MaxSandbox(bot_token="bot-token-from-the-environment", rate_limit_per_second=None)
    with serve(sandbox, deliver_webhooks=False) as running:
        with bot_client(running.url, token="bot-token-from-the-environment") as client:
            assert client.get("/me").status_code == 200
        with bot_client(running.url) as client:
            assert client.get("/me").status_code == 401
    assert "bot-token-from-the-environment" not in repr(sandbox)


def test_an_unauthorised_request_changes_nothing(
    running: RunningMaxSandbox, sandbox: MaxSandbox, people: list[int]
) -> None:
    sandbox.press_start(people[0])
    with bot_client(running.url, token="nope") as client:
        assert send(client, user_id=people[0]).status_code == 401
    assert sandbox.messages_to(people[0]) == []
    assert sandbox.request_counts() == {"POST /messages": 1}


# ---------------------------------------------------------------- the rate limit


def test_the_rate_limit_counts_requests_in_any_rolling_second(clock: FakeClock) -> None:
    sandbox = MaxSandbox(rate_limit_per_second=3, clock=clock)
    with serve(sandbox, deliver_webhooks=False) as running, bot_client(running.url) as api:
        assert [api.get("/me").status_code for _ in range(3)] == [200, 200, 200]
        refused = api.get("/me")
        assert (refused.status_code, refused.json()["code"]) == (429, "too.many.requests")
        clock.advance(0.5)
        assert api.get("/me").status_code == 429
        clock.advance(0.5)  # a second after the first three: their window has passed
        assert [api.get("/me").status_code for _ in range(4)] == [200, 200, 200, 429]


def test_maxs_default_is_30_requests_a_second(clock: FakeClock) -> None:
    sandbox = MaxSandbox(clock=clock)
    with serve(sandbox, deliver_webhooks=False) as running, bot_client(running.url) as api:
        statuses = [api.get("/me").status_code for _ in range(31)]
        assert statuses.count(200) == 30
        assert statuses[-1] == 429
        clock.advance(1 / 30)
        assert api.get("/me").status_code == 429  # the first 30 were all in the last second
        clock.advance(1)
        assert api.get("/me").status_code == 200


def test_a_refused_request_changes_nothing_and_unauthorised_ones_do_not_count(
    clock: FakeClock, people: list[int]
) -> None:
    sandbox = MaxSandbox(rate_limit_per_second=1, clock=clock)
    with serve(sandbox, deliver_webhooks=False) as running, bot_client(running.url) as api:
        with bot_client(running.url, token="nope") as stranger:
            assert stranger.get("/me").status_code == 401
        chat_id = sandbox.seed_chat("ИВТ-21", owner_id=people[0])
        assert api.patch(f"/chats/{chat_id}", json={"title": "Первое"}).status_code == 200
        assert api.patch(f"/chats/{chat_id}", json={"title": "Второе"}).status_code == 429
        assert sandbox.state()["chats"][0]["title"] == "Первое"


def test_no_rate_limit(running: RunningMaxSandbox, api: httpx.Client) -> None:
    assert {api.get("/me").status_code for _ in range(50)} == {200}


# ---------------------------------------------------------------- faults


def test_a_maxs_error_status_for_the_next_calls_of_one_operation(
    api: httpx.Client, sandbox: MaxSandbox, people: list[int]
) -> None:
    chat_id = sandbox.seed_chat("ИВТ-21", owner_id=people[0])
    sandbox.faults.inject("POST /chats/{chatId}/members", status=503, times=2)
    for _ in range(2):
        reply = api.post(f"/chats/{chat_id}/members", json={"user_ids": [people[1]]})
        assert (reply.status_code, reply.json()["code"]) == (503, "service.unavailable")
    assert api.get(f"/chats/{chat_id}/members").status_code == 200  # other operations untouched
    assert sandbox.chat_member_ids(chat_id)[2:] == []  # the refused calls changed nothing
    assert api.post(f"/chats/{chat_id}/members", json={"user_ids": [people[1]]}).json() == {"success": True}


def test_429_with_retry_after_and_a_custom_code(api: httpx.Client, sandbox: MaxSandbox) -> None:
    rule = sandbox.faults.inject("*", status=429, retry_after=7)
    assert rule.remaining == 1
    reply = api.get("/me")
    assert reply.status_code == 429
    assert reply.headers["Retry-After"] == "7"
    assert reply.json()["code"] == "too.many.requests"
    sandbox.faults.inject("/chats/{chatId}", status=404, code="chat.not.found", message="Чат удалён")
    reply = api.get("/chats/-5")
    assert reply.json() == {"code": "chat.not.found", "message": "Чат удалён"}


def test_a_proxys_5xx_has_an_html_body(running: RunningMaxSandbox, sandbox: MaxSandbox) -> None:
    sandbox.faults.inject("GET /me", http_status=502)
    with httpx.Client(base_url=running.url, headers={"Authorization": DEFAULT_BOT_TOKEN}) as client:
        reply = client.get("/me")
        assert reply.status_code == 502
        assert reply.headers["Content-Type"].startswith("text/html")
        assert client.get("/me").status_code == 200


def test_a_dropped_connection_changes_nothing(api: httpx.Client, sandbox: MaxSandbox, people: list[int]) -> None:
    sandbox.press_start(people[0])
    sandbox.faults.inject("POST /messages", drop=True)
    with pytest.raises(httpx.RemoteProtocolError):
        send(api, user_id=people[0])
    assert sandbox.messages_to(people[0]) == []


def test_drop_after_apply_sends_the_message_but_no_answer(
    api: httpx.Client, sandbox: MaxSandbox, people: list[int]
) -> None:
    sandbox.press_start(people[0])
    sandbox.faults.inject("POST /messages", drop_after_apply=True)
    with pytest.raises(httpx.RemoteProtocolError):
        send(api, user_id=people[0], text="Доставлено, но ответа нет")
    (message,) = sandbox.messages_to(people[0])
    assert message["text"] == "Доставлено, но ответа нет"


def test_delays_wait_without_holding_the_sandbox(api: httpx.Client, sandbox: MaxSandbox, sleeps: SleepRecorder) -> None:
    sandbox.faults.inject("GET /me", delay=2.5, times=2)
    assert api.get("/me").status_code == 200
    assert api.get("/me").status_code == 200
    assert api.get("/me").status_code == 200
    assert sleeps.delays == [2.5, 2.5]


def test_probabilistic_faults_repeat_for_a_seed() -> None:
    def run() -> list[int]:
        sandbox = MaxSandbox(seed=3, rate_limit_per_second=None)
        sandbox.faults.inject("*", status=503, probability=0.5)
        with in_process_client(sandbox) as client:
            return [client.get("/me").status_code for _ in range(20)]

    first = run()
    assert first == run()
    assert set(first) == {200, 503}


def test_in_process_a_dropped_connection_raises_connection_dropped(people: list[int]) -> None:
    sandbox = MaxSandbox(rate_limit_per_second=None)
    sandbox.faults.inject("GET /me", drop=True)
    client = httpx.Client(
        transport=httpx.WSGITransport(app=sandbox.wsgi_app),
        base_url="http://max.test",
        headers={"Authorization": DEFAULT_BOT_TOKEN},
    )
    with client, pytest.raises(ConnectionDropped):
        client.get("/me")


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"status": 200},
        {"status": 503, "drop": True},
        {"http_status": 502, "code": "x"},
        {"delay": -1},
        {"status": 503, "times": 0},
        {"status": 503, "probability": 2},
        {"operation": "messages", "status": 503},
    ],
)
def test_faults_refuse_nonsense(sandbox: MaxSandbox, kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"\w+"):
        sandbox.faults.inject(**kwargs)  # type: ignore[arg-type]


def test_faults_over_http(running: RunningMaxSandbox, api: httpx.Client, sandbox: MaxSandbox) -> None:
    with httpx.Client(base_url=running.url) as control:
        reply = control.post("/_sandbox/faults", json={"operation": "GET /updates", "status": 503, "times": 3})
        assert reply.json()["faults"][0]["remaining"] == 3
        assert control.post("/_sandbox/faults", json={"kind": "nonsense"}).status_code == 400
        assert control.post("/_sandbox/faults", data={"status": "503"}).status_code == 415
        assert api.get("/updates", params={"timeout": 0}).status_code == 503
        assert control.delete("/_sandbox/faults").json() == {"faults": []}
    assert poll(api)["updates"] == []
