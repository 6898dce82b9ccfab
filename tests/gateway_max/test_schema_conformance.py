"""Both directions of the contract: every request the MAX client can send, and every reply these tests feed it,
validate against MAX's vendored OpenAPI document (``tests/max_schema.py``; the fake checks each exchange)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest

from sferum_plugin.gateway.max import ChatButton, LinkButton, MaxClient
from tests.gateway_max import fakes
from tests.gateway_max.conftest import TOKEN
from tests.gateway_max.fakes import FakeMaxApi, reply

CHAT = -70_000_000_123


def _updates(_: Any) -> dict[str, Any]:
    return {
        "updates": [
            {"update_type": "bot_started", "timestamp": 1, "chat_id": 5, "user": fakes.user(7), "payload": "p"},
            {"update_type": "bot_added", "timestamp": 2, "chat_id": CHAT, "user": fakes.user(7), "is_channel": False},
        ],
        "marker": 42,
    }


# name of the MaxClient method -> (the scripts it needs, how to call it)
SCENARIOS: dict[str, tuple[list[tuple[str, str, dict[str, Any]]], Callable[[MaxClient], object]]] = {
    "get_me": ([("GET", "/me", fakes.bot_info())], lambda c: c.get_me()),
    "list_chats": (
        [("GET", "/chats", {"chats": [fakes.chat(CHAT)], "marker": None})],
        lambda c: c.list_chats(),
    ),
    "get_chat": ([("GET", "/chats/{chatId}", fakes.chat(CHAT))], lambda c: c.get_chat(CHAT)),
    "edit_chat_title": (
        [("PATCH", "/chats/{chatId}", fakes.chat(CHAT, "Group 102"))],
        lambda c: c.edit_chat_title(CHAT, "Group 102"),
    ),
    "chat_members_page": (
        [("GET", "/chats/{chatId}/members", fakes.members_page([1, 2], marker=None))],
        lambda c: c.chat_members_page(CHAT, marker=17),
    ),
    "chat_members": (
        [("GET", "/chats/{chatId}/members", fakes.members_page([1, 2]))],
        lambda c: c.chat_members(CHAT),
    ),
    "chat_members_by_ids": (
        [("GET", "/chats/{chatId}/members", fakes.members_page([1]))],
        lambda c: c.chat_members_by_ids(CHAT, [1, 2, 3]),
    ),
    "my_membership": (
        [("GET", "/chats/{chatId}/members/me", fakes.member(900, is_admin=True, permissions=["add_remove_members"]))],
        lambda c: c.my_membership(CHAT),
    ),
    "add_members": (
        [("POST", "/chats/{chatId}/members", fakes.modify_result({"add.participant.privacy": [2]}))],
        lambda c: c.add_members(CHAT, [1, 2]),
    ),
    "remove_member": (
        [("DELETE", "/chats/{chatId}/members", fakes.success())],
        lambda c: c.remove_member(CHAT, 2),
    ),
    "send_message": (
        [("POST", "/messages", fakes.sent_message(user_id=7))],
        lambda c: c.send_message(
            "Tap to create the chat of group 101",
            user_id=7,
            buttons=[
                [ChatButton("Create the chat", "Group 101", "Study group", start_payload="chat:41", uuid=1)],
                [LinkButton("Join the call", "https://call.max.ru/abc")],
            ],
        ),
    ),
    "subscribe": (
        [("POST", "/subscriptions", fakes.success())],
        lambda c: c.subscribe("https://lms.example/sferum/max/webhook", "whsec-0123456789"),
    ),
    "unsubscribe": (
        [("DELETE", "/subscriptions", fakes.success())],
        lambda c: c.unsubscribe("https://lms.example/sferum/max/webhook"),
    ),
    "subscriptions": (
        [("GET", "/subscriptions", {"subscriptions": [{"url": "https://x.test/h", "time": 1, "update_types": None}]})],
        lambda c: c.subscriptions(),
    ),
    "get_updates": ([("GET", "/updates", _updates(None))], lambda c: c.get_updates(41)),
}


def test_every_public_method_of_the_client_is_driven_here() -> None:
    public = {name for name, _ in inspect.getmembers(MaxClient, inspect.isfunction) if not name.startswith("_")}
    assert public == set(SCENARIOS)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_each_call_sends_a_request_the_document_accepts(name: str, api: FakeMaxApi, client: MaxClient) -> None:
    scripts, call = SCENARIOS[name]
    for verb, template, body in scripts:
        api.on(verb, template, reply(200, body))

    call(client)  # the fake validates the request and the reply against the document

    assert api.served, "the call sent nothing"
    for served in api.served:
        assert served.request.headers["Authorization"] == TOKEN
        assert TOKEN not in str(served.request.url)
        assert "access_token" not in served.request.url.params


def test_the_calls_cover_what_the_issue_lists(api: FakeMaxApi, client: MaxClient) -> None:
    for scripts, call in SCENARIOS.values():
        for verb, template, body in scripts:
            api.on(verb, template, reply(200, body))
        call(client)

    assert {(s.request.method, s.template) for s in api.served} == {
        ("GET", "/me"),
        ("GET", "/chats"),
        ("GET", "/chats/{chatId}"),
        ("PATCH", "/chats/{chatId}"),
        ("GET", "/chats/{chatId}/members"),
        ("GET", "/chats/{chatId}/members/me"),
        ("POST", "/chats/{chatId}/members"),
        ("DELETE", "/chats/{chatId}/members"),
        ("POST", "/messages"),
        ("POST", "/subscriptions"),
        ("DELETE", "/subscriptions"),
        ("GET", "/subscriptions"),
        ("GET", "/updates"),
    }


@pytest.mark.parametrize(
    ("status", "code"),
    [(400, "proto.payload"), (401, "verify.token"), (403, "chat.denied"), (404, "chat.not.found"), (405, "x")],
)
def test_error_replies_the_tests_feed_follow_the_document(
    status: int, code: str, api: FakeMaxApi, client: MaxClient
) -> None:
    api.on("GET", "/chats/{chatId}", fakes.error(status, code))

    with pytest.raises(Exception, match=f"MAX HTTP {status}"):
        client.get_chat(CHAT)
