"""Fault injection: VK errors, HTTP 5xx, dropped connections (before and after the change), delays."""

from __future__ import annotations

import httpx
import pytest
from sferum_sandbox import DEFAULT_APP_TOKEN, ConnectionDropped, Sandbox, serve

ANNA, BORIS = 1001, 1002
FORM = {"access_token": DEFAULT_APP_TOKEN, "v": "5.199", "user_ids": str(ANNA), "title": "ИВТ-21"}


def test_vk_error_for_the_next_n_calls_of_a_method(api, sandbox):
    sandbox.faults.inject("messages.createChat", error_code=10, times=2)

    assert api.error("messages.createChat", user_ids=str(ANNA), title="t")["error_code"] == 10
    assert api.ok("users.get")  # other methods are untouched
    assert api.error("messages.createChat", user_ids=str(ANNA), title="t")["error_code"] == 10
    assert api.ok("messages.createChat", user_ids=str(ANNA), title="t")["chat_id"] == 1
    error = sandbox.faults.inject("*", error_code=9)
    assert error.remaining == 1
    assert api.error("users.get")["error_msg"].startswith("Flood control")


def test_injected_error_changes_nothing(api, sandbox):
    sandbox.faults.inject("messages.createChat", error_code=1)
    api.error("messages.createChat", user_ids=str(ANNA), title="t")
    assert sandbox.state()["chats"] == []


def test_http_503(http, sandbox):
    sandbox.faults.inject("*", http_status=503)
    reply = http.post("/method/messages.createChat", data=FORM)
    assert reply.status_code == 503
    assert sandbox.state()["chats"] == []
    assert http.post("/method/messages.createChat", data=FORM).status_code == 200


def test_dropped_connection_is_a_protocol_error_and_changes_nothing(http, sandbox):
    sandbox.faults.inject("messages.createChat", drop=True)
    with pytest.raises(httpx.RemoteProtocolError):
        http.post("/method/messages.createChat", data=FORM)
    assert sandbox.state()["chats"] == []
    assert http.post("/method/messages.createChat", data=FORM).json()["response"]["chat_id"] == 1


def test_drop_after_apply_really_applies_the_change(http, sandbox):
    sandbox.faults.inject("messages.createChat", drop_after_apply=True)
    with pytest.raises(httpx.RemoteProtocolError):
        http.post("/method/messages.createChat", data=FORM)
    (chat,) = sandbox.state()["chats"]
    assert chat["title"] == "ИВТ-21"
    assert [m["member_id"] for m in chat["members"]] == [1000, ANNA]


def test_http_status_after_apply_applies_the_change_then_answers_the_status(http, sandbox):
    sandbox.faults.inject("messages.createChat", http_status_after_apply=500)
    reply = http.post("/method/messages.createChat", data=FORM)
    assert reply.status_code == 500
    assert "response" not in reply.text
    (chat,) = sandbox.state()["chats"]
    assert [m["member_id"] for m in chat["members"]] == [1000, ANNA]
    assert http.post("/method/messages.createChat", data=FORM).json()["response"]["chat_id"] == 2


def test_http_status_after_apply_inside_execute_keeps_the_batchs_effects(http, sandbox):
    chat_id = http.post("/method/messages.createChat", data=FORM).json()["response"]["chat_id"]
    sandbox.faults.inject("messages.addChatUser", http_status_after_apply=502)
    code = (
        f'return [API.messages.addChatUser({{"chat_id": {chat_id}, "user_id": {BORIS}}}), '
        f'API.messages.addChatUser({{"chat_id": {chat_id}, "user_id": 1003}})];'
    )
    reply = http.post("/method/execute", data={"access_token": DEFAULT_APP_TOKEN, "v": "5.199", "code": code})
    assert reply.status_code == 502
    assert sandbox.chat_member_ids(chat_id) == [1000, ANNA, BORIS, 1003]  # the whole batch ran
    assert sandbox.faults.rules() == []


def test_delay_holds_the_reply_then_proceeds(api, sandbox, sleeps):
    sandbox.faults.inject("users.get", delay=2.5)
    assert api.ok("users.get")[0]["id"] == 1000
    assert sleeps.delays == [2.5]


def test_real_delay_makes_the_client_time_out():
    sandbox = Sandbox(rate_limit_per_second=None)
    sandbox.faults.inject("users.get", delay=0.3)
    with (
        serve(sandbox) as slow,
        httpx.Client(base_url=slow.url, timeout=0.05, verify=False) as client,
        pytest.raises(httpx.ReadTimeout),
    ):
        client.post("/method/users.get", data={"access_token": DEFAULT_APP_TOKEN, "v": "5.199"})


def test_probability_faults_repeat_for_the_same_seed():
    def pattern(seed):
        sandbox = Sandbox(seed=seed, rate_limit_per_second=None)
        sandbox.faults.inject("users.get", error_code=10, probability=0.5)
        with httpx.Client(transport=httpx.WSGITransport(app=sandbox.wsgi_app), base_url="http://s") as client:
            data = {"access_token": DEFAULT_APP_TOKEN, "v": "5.199"}
            return ["error" in client.post("/method/users.get", data=data).json() for _ in range(40)]

    first = pattern(3)
    assert first == pattern(3)
    assert 5 < sum(first) < 35


def test_probability_with_times_fires_at_most_times():
    sandbox = Sandbox(rate_limit_per_second=None)
    sandbox.faults.inject("users.get", error_code=10, probability=1.0, times=2)
    with httpx.Client(transport=httpx.WSGITransport(app=sandbox.wsgi_app), base_url="http://s") as client:
        data = {"access_token": DEFAULT_APP_TOKEN, "v": "5.199"}
        replies = ["error" in client.post("/method/users.get", data=data).json() for _ in range(4)]
    assert replies == [True, True, False, False]


def test_inner_execute_call_can_be_failed_alone(api, sandbox):
    chat_id = api.ok("messages.createChat", user_ids=str(ANNA), title="t")["chat_id"]
    sandbox.faults.inject("messages.addChatUser", error_code=10)
    code = (
        f'return [API.messages.addChatUser({{"chat_id": {chat_id}, "user_id": {BORIS}}}), '
        f'API.messages.addChatUser({{"chat_id": {chat_id}, "user_id": 1003}})];'
    )
    body = api.raw("execute", code=code)
    assert body["response"] == [False, 1]
    assert body["execute_errors"][0]["error_code"] == 10


def test_drop_after_apply_inside_execute_keeps_the_batchs_effects(http, sandbox):
    sandbox.faults.inject("messages.createChat", drop_after_apply=True)
    code = 'return [API.messages.createChat({"user_ids": "1001", "title": "a"}), API.users.get()];'
    with pytest.raises(httpx.RemoteProtocolError):
        http.post("/method/execute", data={"access_token": DEFAULT_APP_TOKEN, "v": "5.199", "code": code})
    assert [chat["title"] for chat in sandbox.state()["chats"]] == ["a"]


def test_faults_over_http_for_other_processes(http, sandbox):
    created = http.post("/_sandbox/faults", json={"method": "users.get", "error_code": 6, "times": 2})
    assert created.status_code == 200
    assert created.json()["faults"] == [
        {"method": "users.get", "kind": "error_code", "value": 6, "remaining": 2, "probability": None}
    ]
    assert http.get("/_sandbox/faults").json()["faults"][0]["remaining"] == 2
    assert http.post("/_sandbox/faults", json={"method": "x", "nonsense": 1}).status_code == 400
    assert http.post("/_sandbox/faults", json={"method": "x"}).status_code == 400
    assert http.post("/_sandbox/faults", data={"method": "x", "drop": "1"}).status_code == 415
    after_apply = http.post("/_sandbox/faults", json={"method": "execute", "http_status_after_apply": 500})
    assert after_apply.json()["faults"][-1]["kind"] == "http_status_after_apply"
    assert http.delete("/_sandbox/faults").json() == {"faults": []}


def test_clear_removes_all_rules(api, sandbox):
    sandbox.faults.inject("*", error_code=10, times=5)
    sandbox.faults.clear()
    assert api.ok("users.get")


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"error_code": 10, "drop": True},
        {"http_status": 200},
        {"http_status_after_apply": 302},
        {"http_status_after_apply": 500, "drop_after_apply": True},
        {"delay": -1},
        {"error_code": 1, "probability": 2},
    ],
)
def test_invalid_rules_are_refused(sandbox, kwargs):
    with pytest.raises(ValueError, match=r"\w"):
        sandbox.faults.inject("users.get", **kwargs)


def test_in_process_drop_raises_connection_dropped(sandbox):
    sandbox.faults.inject("messages.createChat", drop=True)
    with (
        httpx.Client(transport=httpx.WSGITransport(app=sandbox.wsgi_app), base_url="http://s") as client,
        pytest.raises(ConnectionDropped),
    ):
        client.post("/method/messages.createChat", data=FORM)
