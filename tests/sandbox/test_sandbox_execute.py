"""``execute``: VKScript batches of up to 25 calls, failures as false plus execute_errors."""

from __future__ import annotations

import json

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sferum_sandbox import DEFAULT_APP_TOKEN, Sandbox
from sferum_sandbox.vk._vkscript import parse_script

from tests import vk_schema

ANNA, BORIS, VIKA = 1001, 1002, 1003


def call_js(method, params):
    return f"API.{method}({json.dumps(params, ensure_ascii=False)})"


def batch(*calls):
    return "return [" + ", ".join(call_js(m, p) for m, p in calls) + "];"


def test_batch_mixes_successes_and_failures(api, sandbox):
    chat_id = api.ok("messages.createChat", user_ids=str(ANNA), title="ИВТ-21")["chat_id"]
    code = batch(
        ("messages.addChatUser", {"chat_id": chat_id, "user_id": BORIS}),
        ("messages.addChatUser", {"chat_id": 999, "user_id": VIKA}),
        ("messages.removeChatUser", {"chat_id": chat_id, "user_id": VIKA}),
        ("users.get", {"user_ids": [ANNA, BORIS]}),
    )

    body = api.raw("execute", code=code)

    assert body["response"][:3] == [1, False, False]
    vk_schema.validate_response("users.get", {"response": body["response"][3]})
    assert [(e["method"], e["error_code"]) for e in body["execute_errors"]] == [
        ("messages.addChatUser", 927),
        ("messages.removeChatUser", 935),
    ]
    assert all(e["error_msg"] for e in body["execute_errors"])
    members = [m["member_id"] for m in sandbox.state()["chats"][0]["members"]]
    assert members == [1000, ANNA, BORIS]


def test_all_successful_batch_has_no_execute_errors(api):
    body = api.raw("execute", code=batch(("users.get", {}), ("users.get", {"user_ids": ANNA})))
    assert set(body) == {"response"}
    assert [users[0]["id"] for users in body["response"]] == [1000, ANNA]


def test_single_call_returns_its_value(api):
    body = api.raw("execute", code='return API.messages.createChat({"user_ids": "1001", "title": "x"});')
    vk_schema.validate_response("messages.createChat", body)
    assert body["response"]["chat_id"] == 1  # the value of the one call, not wrapped in a list
    assert "execute_errors" not in body


def test_single_failed_call_returns_false_with_error(api):
    body = api.raw("execute", code='return API.messages.addChatUser({"chat_id": 5, "user_id": 1001});')
    assert body["response"] is False
    assert body["execute_errors"][0]["error_code"] == 927


def test_inner_calls_are_checked_against_the_schema(api):
    body = api.raw("execute", code=batch(("messages.addChatUser", {"user_id": ANNA})))
    assert body["execute_errors"][0]["error_code"] == 100
    assert "chat_id" in body["execute_errors"][0]["error_msg"]


def test_unknown_inner_method_is_error_3_in_the_batch(api):
    body = api.raw("execute", code=batch(("wall.post", {})))
    assert body["execute_errors"][0]["error_code"] == 3


@pytest.mark.parametrize(
    "code",
    [
        "return 1;",
        "var a = API.users.get({}); return a;",
        'return [API.users.get({"user_ids": 1 + 2})];',
        'return [API.users.get({"user_ids": 1})]; return 2;',
        'return [API.users.get({"user_ids": 1})',
        'return API.users.get({"a": {"nested": 1}});',
        "return API;",
        "   ",
    ],
)
def test_anything_but_a_return_of_api_calls_is_error_12(api, code):
    error = api.error("execute", code=code)
    assert error["error_code"] == 12
    assert error["error_msg"].startswith("Unable to compile code")


def test_missing_code_is_error_100(api):
    assert api.error("execute")["error_code"] == 100


def test_more_than_25_calls_is_error_13_and_runs_nothing(api, sandbox):
    code = batch(*[("messages.createChat", {"user_ids": str(ANNA), "title": str(i)}) for i in range(26)])
    assert api.error("execute", code=code)["error_code"] == 13
    assert sandbox.state()["chats"] == []


def test_25_calls_are_fine(api):
    body = api.raw("execute", code=batch(*[("users.get", {})] * 25))
    assert len(body["response"]) == 25


def test_inner_calls_use_the_callers_token_type(api, service_api):
    body = api.raw("execute", code=batch(("secure.checkToken", {"token": DEFAULT_APP_TOKEN})))
    assert body["execute_errors"][0]["error_code"] == 15
    # execute itself is not open to service tokens (access_token_type: user, group).
    assert service_api.error("execute", code=batch(("users.get", {})))["error_code"] == 28


def test_execute_counts_once_for_rate_limit_and_request_counts(clock, wall_clock, sleeps):
    limited = Sandbox(rate_limit_per_second=2, clock=clock, wall_clock=wall_clock, sleep=sleeps)
    code = batch(*[("users.get", {})] * 10)
    with httpx.Client(transport=httpx.WSGITransport(app=limited.wsgi_app), base_url="http://sandbox") as client:
        replies = [
            client.post("/method/execute", data={"access_token": DEFAULT_APP_TOKEN, "v": "5.199", "code": code}).json()
            for _ in range(3)
        ]
    assert ["response" in reply for reply in replies] == [True, True, False]
    assert replies[2]["error"]["error_code"] == 6
    assert limited.request_counts() == {"execute": 3}


def test_single_quotes_bare_keys_booleans_and_arrays_become_form_values():
    script = parse_script(
        "return [API.messages.getConversationMembers({peer_id: 2000000001, 'extended': true, "
        "fields: ['photo_100', \"screen_name\"]}), API.users.get()];"
    )
    assert script.returns_list
    first, second = script.calls
    assert first.method == "messages.getConversationMembers"
    assert first.params == {"peer_id": "2000000001", "extended": "1", "fields": "photo_100,screen_name"}
    assert (second.method, second.params) == ("users.get", {})


_scalars = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.booleans(),
)
_values = st.one_of(_scalars, st.lists(st.one_of(st.integers(0, 10**9), st.text("abc,", max_size=5)), max_size=4))


def _form(value):
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, list):
        return ",".join(_form(item) for item in value)
    return str(value)


@given(
    calls=st.lists(
        st.tuples(
            st.sampled_from(["users.get", "messages.addChatUser", "calls.start"]),
            st.dictionaries(st.from_regex(r"[a-z_]{1,10}", fullmatch=True), _values, max_size=4),
        ),
        max_size=5,
    )
)
def test_any_json_argument_object_parses_to_the_same_form_values(calls):
    script = parse_script(batch(*calls))
    assert [(c.method, c.params) for c in script.calls] == [
        (method, {key: _form(value) for key, value in params.items()}) for method, params in calls
    ]
