"""Replies become typed values; a reply of the wrong shape becomes MalformedResponseError naming the method."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from sferum_plugin.gateway import (
    ChatInfo,
    ChatMember,
    CreatedChat,
    MalformedResponseError,
    OutcomeUnknownError,
    SferumClient,
    SferumUser,
    StartedCall,
    chat_id_from_peer_id,
    chat_peer_id,
)
from tests.gateway.fakes import FakeVkApi, conversation, member, ok, user_conversation
from tests.vk_schema import method, validate_response


def test_create_chat_accepts_the_5_199_reply_with_peer_ids(client: SferumClient, fake_api: FakeVkApi) -> None:
    reply = ok({"chat_id": 7, "peer_ids": [10, 11]})
    validate_response("messages.createChat", reply)
    fake_api.on("messages.createChat", reply)

    created = client.create_chat("Group 101", [10, 11, 12])

    assert created == CreatedChat(chat_id=7, member_ids=(10, 11))
    assert created.peer_id == 2_000_000_007


def test_create_chat_accepts_the_older_bare_chat_id(client: SferumClient, fake_api: FakeVkApi) -> None:
    fake_api.on("messages.createChat", ok(7))

    assert client.create_chat("Group 101", [10]) == CreatedChat(chat_id=7, member_ids=None)


def test_chat_peer_ids_are_offset_by_two_billion() -> None:
    peer_ids_doc = next(
        p["description"] for p in method("messages.getConversationsById")["parameters"] if p["name"] == "peer_ids"
    )
    assert "'2000000000' + 'chat_id'" in peer_ids_doc
    assert chat_peer_id(1) == 2_000_000_001
    assert chat_id_from_peer_id(2_000_000_042) == 42
    with pytest.raises(ValueError, match="not a chat"):
        chat_id_from_peer_id(12345)


def test_members_are_read_from_every_page(client: SferumClient, fake_api: FakeVkApi) -> None:
    def page(request: httpx.Request) -> dict[str, Any]:
        form = dict(httpx.QueryParams(request.content.decode()))
        offset, count = int(form["offset"]), int(form["count"])
        ids = range(offset + 1, min(offset + count, 2500) + 1)
        return ok({"count": 2500, "items": [member(i) for i in ids]})

    fake_api.on("messages.getConversationMembers", page)

    members = client.list_chat_members(7)

    assert [m.member_id for m in members] == list(range(1, 2501))
    offsets = [(r.form["offset"], r.form["count"]) for r in fake_api.requests]
    assert offsets == [("0", "1000"), ("1000", "1000"), ("2000", "1000")]


def test_member_flags_are_typed(client: SferumClient, fake_api: FakeVkApi) -> None:
    fake_api.on(
        "messages.getConversationMembers",
        ok({"count": 2, "items": [member(1, is_owner=True, is_admin=True, can_kick=False), member(-5)]}),
    )

    owner, community = client.list_chat_members(7)

    assert owner == ChatMember(1, is_admin=True, is_owner=True, invited_by=1, join_date=1_700_000_000)
    assert community.member_id == -5
    assert not community.is_admin


def test_chat_info_is_read_from_conversations_and_batches_of_100(client: SferumClient, fake_api: FakeVkApi) -> None:
    fake_api.on("messages.getConversationsById", ok({"count": 1, "items": [conversation(7, "Group 101", owner_id=3)]}))

    chats = client.get_chats(list(range(1, 151)))

    assert chats[0] == ChatInfo(chat_id=7, title="Group 101", owner_id=3, members_count=2, admin_ids=(3,), state="in")
    assert [len(r.form["peer_ids"].split(",")) for r in fake_api.requests] == [100, 50]


def test_get_chat_is_none_when_the_token_cannot_see_it(client: SferumClient, fake_api: FakeVkApi) -> None:
    fake_api.on("messages.getConversationsById", ok({"count": 0, "items": []}))

    assert client.get_chat(7) is None


def test_search_keeps_chats_only_and_can_require_the_exact_title(client: SferumClient, fake_api: FakeVkApi) -> None:
    reply = ok(
        {
            "count": 3,
            "items": [conversation(7, "Group 101"), user_conversation(10), conversation(8, "Group 101 (old)")],
        }
    )
    validate_response("messages.searchConversations", reply)
    fake_api.on("messages.searchConversations", reply)

    assert [c.chat_id for c in client.search_chats("Group 101")] == [7, 8]
    assert [c.chat_id for c in client.search_chats("Group 101", exact_title=True)] == [7]
    assert fake_api.requests[0].form["count"] == "255"


def test_calls_and_users_are_typed(client: SferumClient, fake_api: FakeVkApi) -> None:
    fake_api.on("calls.start", ok({"call_id": "c" * 36, "join_link": "https://j", "ok_join_link": "https://o"}))
    fake_api.on("users.get", ok([{"id": 10, "first_name": "Анна", "last_name": "Петрова", "deactivated": "banned"}]))

    assert client.start_call() == StartedCall(join_link="https://j", call_id="c" * 36, ok_join_link="https://o")
    (user,) = client.get_users([10])
    assert user == SferumUser(10, "Анна", "Петрова", deactivated="banned")
    assert user.full_name == "Анна Петрова"


MALFORMED: list[tuple[str, Any, Callable[[SferumClient], object]]] = [
    ("messages.createChat", ok({"peer_ids": [1]}), lambda c: c.create_chat("t", [1])),
    ("messages.createChat", ok("7"), lambda c: c.create_chat("t", [1])),
    ("messages.createChat", ok(True), lambda c: c.create_chat("t", [1])),
    ("messages.addChatUser", ok(0), lambda c: c.add_chat_member(7, 1)),
    ("messages.removeChatUser", ok(True), lambda c: c.remove_chat_member(7, 1)),
    ("messages.editChat", ok(None), lambda c: c.rename_chat(7, "t")),
    ("messages.getConversationMembers", ok({"items": [member(1)]}), lambda c: c.list_chat_members(7)),
    (
        "messages.getConversationMembers",
        ok({"count": 1, "items": [{"is_admin": True}]}),
        lambda c: c.list_chat_members(7),
    ),
    ("messages.getConversationMembers", ok({"count": 1, "items": {"1": {}}}), lambda c: c.list_chat_members(7)),
    (
        "messages.getConversationMembers",
        ok({"count": 1, "items": [member(1, is_admin="yes")]}),
        lambda c: c.list_chat_members(7),
    ),
    ("messages.getConversationsById", ok({"count": 1, "items": [{"peer": {"id": 1}}]}), lambda c: c.get_chats([7])),
    (
        "messages.getConversationsById",
        ok({"count": 1, "items": [{"peer": {"id": 2000000007, "type": "chat"}}]}),
        lambda c: c.get_chats([7]),
    ),
    ("messages.searchConversations", ok([]), lambda c: c.search_chats("x")),
    ("messages.getInviteLink", ok({"url": "x"}), lambda c: c.get_invite_link(7)),
    ("calls.start", ok({"call_id": "x"}), lambda c: c.start_call()),
    ("calls.forceFinish", ok({}), lambda c: c.finish_call("c" * 36)),
    ("users.get", ok([{"first_name": "A"}]), lambda c: c.get_users([1])),
    ("users.get", ok([{"id": "1"}]), lambda c: c.get_users([1])),
    ("users.get", ok([]), lambda c: c.get_token_owner()),
    ("users.get", {"result": []}, lambda c: c.get_users([1])),
    ("users.get", [1, 2], lambda c: c.get_users([1])),
    ("users.get", {"error": "boom"}, lambda c: c.get_users([1])),
    ("users.get", {"error": {"error_msg": "no code"}}, lambda c: c.get_users([1])),
    ("users.get", httpx.Response(200, text="<html>maintenance</html>"), lambda c: c.get_users([1])),
    ("users.get", httpx.Response(404, text="not found"), lambda c: c.get_users([1])),
]


@pytest.mark.parametrize(
    ("vk_method", "reply", "action"), MALFORMED, ids=[f"{m[0]}-{i}" for i, m in enumerate(MALFORMED)]
)
def test_a_reply_of_the_wrong_shape_is_a_malformed_response_naming_the_method(
    client: SferumClient, fake_api: FakeVkApi, vk_method: str, reply: Any, action: Callable[[SferumClient], object]
) -> None:
    fake_api.on(vk_method, reply)

    with pytest.raises((MalformedResponseError, OutcomeUnknownError)) as caught:
        action(client)

    error = caught.value
    if isinstance(error, OutcomeUnknownError):  # a call that creates something: its outcome is unknown
        assert vk_method in ("messages.createChat", "calls.start")
        assert isinstance(error.__cause__, MalformedResponseError)
    assert error.method == vk_method
    assert vk_method in str(error)
    assert len(fake_api.requests) == 1, "a malformed reply is not retried"
