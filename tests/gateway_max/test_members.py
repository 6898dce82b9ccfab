"""Members on MAX: pages of 100 by marker, adds of up to 100 a request with per-person refusals, one removal a
request."""

from __future__ import annotations

import pytest

from sferum_plugin.gateway import MalformedResponseError
from sferum_plugin.gateway.max import (
    ADD_PARTICIPANT_NOT_FOUND,
    ADD_PARTICIPANT_PRIVACY,
    MaxClient,
    MaxOperationFailedError,
    ModifyMembersResult,
)
from tests.gateway_max import fakes
from tests.gateway_max.fakes import FakeMaxApi, reply

CHAT = -70_000_000_123


def test_all_members_are_read_page_by_page_following_the_marker(api: FakeMaxApi, client: MaxClient) -> None:
    api.on(
        "GET",
        "/chats/{chatId}/members",
        reply(200, fakes.members_page(range(1, 101), marker=5001)),
        reply(200, fakes.members_page(range(101, 201), marker=5002)),
        reply(200, fakes.members_page(range(201, 231), marker=None)),
    )

    members = client.chat_members(CHAT)

    assert [m.user_id for m in members] == list(range(1, 231))
    calls = api.calls("GET", "/chats/{chatId}/members")
    assert [c.query.get("marker") for c in calls] == [None, "5001", "5002"]
    assert {c.query["count"] for c in calls} == {"100"}


def test_a_marker_that_comes_back_twice_stops_the_reading(api: FakeMaxApi, client: MaxClient) -> None:
    api.on("GET", "/chats/{chatId}/members", reply(200, fakes.members_page([1], marker=7)))

    with pytest.raises(MalformedResponseError, match="marker 7 came back twice"):
        client.chat_members(CHAT)
    assert len(api.served) == 2


def test_the_chats_list_follows_its_marker_too(api: FakeMaxApi, client: MaxClient) -> None:
    api.on(
        "GET",
        "/chats",
        reply(200, {"chats": [fakes.chat(-1)], "marker": 9}),
        reply(200, {"chats": [fakes.chat(-2, status="removed")], "marker": None}),
    )

    chats = client.list_chats()

    assert [(c.chat_id, c.bot_is_member) for c in chats] == [(-1, True), (-2, False)]
    assert [c.query.get("marker") for c in api.served] == [None, "9"]


def test_adding_250_people_takes_three_requests_and_merges_who_was_refused_and_why(
    api: FakeMaxApi, client: MaxClient
) -> None:
    api.on(
        "POST",
        "/chats/{chatId}/members",
        reply(200, fakes.modify_result({ADD_PARTICIPANT_PRIVACY: [7, 42]})),
        reply(200, fakes.modify_result()),
        reply(200, fakes.modify_result({ADD_PARTICIPANT_PRIVACY: [230], ADD_PARTICIPANT_NOT_FOUND: [249]})),
    )
    people = list(range(1, 251))

    result = client.add_members(CHAT, people)

    sent = [call.json["user_ids"] for call in api.calls("POST", "/chats/{chatId}/members")]
    assert [len(ids) for ids in sent] == [100, 100, 50]
    assert [user_id for ids in sent for user_id in ids] == people
    assert result.failed_user_ids == (7, 42, 230, 249)
    assert result.reasons() == {
        7: ADD_PARTICIPANT_PRIVACY,
        42: ADD_PARTICIPANT_PRIVACY,
        230: ADD_PARTICIPANT_PRIVACY,
        249: ADD_PARTICIPANT_NOT_FOUND,
    }


def test_nobody_to_add_sends_nothing_and_duplicates_are_sent_once(api: FakeMaxApi, client: MaxClient) -> None:
    assert client.add_members(CHAT, []) == ModifyMembersResult()
    assert api.served == []

    api.on("POST", "/chats/{chatId}/members", reply(200, fakes.modify_result()))
    client.add_members(CHAT, [5, 5, 6])
    assert api.served[0].json == {"user_ids": [5, 6]}


def test_a_refusal_without_names_is_an_error(api: FakeMaxApi, client: MaxClient) -> None:
    api.on("POST", "/chats/{chatId}/members", reply(200, fakes.modify_result(success=False)))

    with pytest.raises(MaxOperationFailedError) as caught:
        client.add_members(CHAT, [5])
    assert not caught.value.may_have_been_applied


def test_removal_is_one_person_per_request_in_the_query(api: FakeMaxApi, client: MaxClient) -> None:
    api.on("DELETE", "/chats/{chatId}/members", reply(200, fakes.success()))

    for user_id in (7, 8):
        client.remove_member(CHAT, user_id)

    assert [(c.request.url.path, c.query) for c in api.served] == [
        (f"/chats/{CHAT}/members", {"user_id": "7"}),
        (f"/chats/{CHAT}/members", {"user_id": "8"}),
    ]
    assert all(not c.request.content for c in api.served)


def test_a_removal_max_refuses_with_success_false_says_so(api: FakeMaxApi, client: MaxClient) -> None:
    api.on("DELETE", "/chats/{chatId}/members", reply(200, fakes.success(False, "user is not a member")))

    with pytest.raises(MaxOperationFailedError, match="user is not a member"):
        client.remove_member(CHAT, 7)


def test_members_asked_by_id_go_100_a_request(api: FakeMaxApi, client: MaxClient) -> None:
    api.on("GET", "/chats/{chatId}/members", reply(200, fakes.members_page([3])))

    found = client.chat_members_by_ids(CHAT, list(range(1, 151)))

    assert [len(c.query["user_ids"].split(",")) for c in api.served] == [100, 50]
    assert [m.user_id for m in found] == [3, 3]


def test_the_bot_sees_whether_it_may_manage_members(api: FakeMaxApi, client: MaxClient) -> None:
    api.on(
        "GET",
        "/chats/{chatId}/members/me",
        reply(200, fakes.member(900, is_bot=True, is_admin=True, permissions=["write", "add_remove_members"])),
        reply(200, fakes.member(900, is_bot=True, is_admin=False, permissions=None)),
    )

    assert client.my_membership(CHAT).can_add_remove_members
    assert not client.my_membership(CHAT).can_add_remove_members
