"""Chat members: pages of at most 100 by ``marker``, adding up to 100 a request with per-person refusals, removing
one a request, and what the member calls answer once the bot is removed or is no longer an administrator."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sferum_sandbox.max import BOT_USER_ID, MaxSandbox

from tests.sandbox_max.maxbot import poll, update_types


@pytest.fixture
def crowd(sandbox: MaxSandbox) -> list[int]:
    return [sandbox.add_user(f"Студент{n}", "Тестов") for n in range(250)]


@pytest.fixture
def chat_id(sandbox: MaxSandbox, people: list[int]) -> int:
    return sandbox.seed_chat("ИВТ-21", owner_id=people[0])


def _members(api: httpx.Client, chat_id: int, **params: Any) -> tuple[list[int], int | None]:
    body = api.get(f"/chats/{chat_id}/members", params=params).json()
    return [member["user_id"] for member in body["members"]], body.get("marker")


def test_members_page_by_marker_in_join_order(api: httpx.Client, sandbox: MaxSandbox, crowd: list[int]) -> None:
    owner = crowd[0]
    chat_id = sandbox.seed_chat("Поток", owner_id=owner, member_ids=crowd[1:])
    seen: list[int] = []
    marker = None
    pages = 0
    while True:
        ids, marker = _members(api, chat_id, count=100, **({} if marker is None else {"marker": marker}))
        seen.extend(ids)
        pages += 1
        assert len(ids) <= 100
        if marker is None:
            break
    assert pages == 3  # 251 members: the owner, the bot and 249 more
    assert seen == sandbox.chat_member_ids(chat_id)
    assert seen[:2] == [owner, BOT_USER_ID]
    assert len(seen) == len(set(seen)) == 251


def test_default_page_is_20_and_a_page_is_not_shifted_by_people_leaving(
    api: httpx.Client, sandbox: MaxSandbox, crowd: list[int]
) -> None:
    chat_id = sandbox.seed_chat("Поток", owner_id=crowd[0], member_ids=crowd[1:30])
    first, marker = _members(api, chat_id)
    assert len(first) == 20
    sandbox.leave_chat(chat_id, first[5])  # someone on the page already read leaves
    second, marker = _members(api, chat_id, marker=marker)
    assert second == sandbox.chat_member_ids(chat_id)[19:]  # nobody skipped
    assert marker is None


def test_members_by_user_ids_ignore_marker_and_count(api: httpx.Client, sandbox: MaxSandbox, crowd: list[int]) -> None:
    chat_id = sandbox.seed_chat("Поток", owner_id=crowd[0], member_ids=crowd[1:150])
    wanted = [crowd[120], crowd[3], crowd[200], 42]  # the last two are not in the chat
    ids, marker = _members(api, chat_id, user_ids=",".join(map(str, wanted)), count=1, marker=999)
    assert sorted(ids) == sorted([crowd[120], crowd[3]])
    assert marker is None


@pytest.mark.parametrize("params", [{"count": 0}, {"count": 101}, {"marker": "x"}, {"user_ids": "1,two"}])
def test_member_paging_out_of_the_schemas_range_is_400(api: httpx.Client, chat_id: int, params: dict[str, Any]) -> None:
    reply = api.get(f"/chats/{chat_id}/members", params=params)
    assert reply.status_code == 400
    assert reply.json()["code"] == "proto.payload"


def test_adding_up_to_100_people_at_once(
    api: httpx.Client, sandbox: MaxSandbox, chat_id: int, crowd: list[int]
) -> None:
    reply = api.post(f"/chats/{chat_id}/members", json={"user_ids": crowd[:100]})
    assert reply.json() == {"success": True}
    assert sandbox.chat_member_ids(chat_id)[2:] == crowd[:100]
    too_many = api.post(f"/chats/{chat_id}/members", json={"user_ids": crowd[100:201]})
    assert too_many.status_code == 400
    assert "100" in too_many.json()["message"]
    assert len(sandbox.chat_member_ids(chat_id)) == 102  # nothing of the refused request was applied
    again = api.post(f"/chats/{chat_id}/members", json={"user_ids": crowd[:3]})
    assert again.json() == {"success": True}  # already in: nothing to do


@pytest.mark.parametrize("user_ids", [None, "1,2", [1, 1], [1, "2"], [True]])
def test_a_malformed_user_ids_list_is_400(api: httpx.Client, chat_id: int, user_ids: object) -> None:
    reply = api.post(f"/chats/{chat_id}/members", json={"user_ids": user_ids})
    assert reply.status_code == 400


def test_privacy_refusals_and_unknown_people_are_named_per_person(
    api: httpx.Client, sandbox: MaxSandbox, chat_id: int, people: list[int]
) -> None:
    boris, vika, gleb = people[1:4]
    sandbox.set_privacy(vika)
    shy = sandbox.add_user("Скромный", "Человек", refuses_adds=True)
    result = api.post(f"/chats/{chat_id}/members", json={"user_ids": [boris, vika, 777, gleb, shy]}).json()
    assert result["success"] is False
    assert result["failed_user_ids"] == [vika, 777, shy]
    assert sorted((d["error_code"], d["user_ids"]) for d in result["failed_user_details"]) == [
        ("add.participant.not.found", [777]),
        ("add.participant.privacy", [vika, shy]),
    ]
    assert sandbox.chat_member_ids(chat_id) == [people[0], BOT_USER_ID, boris, gleb]
    sandbox.set_privacy(vika, refuses_adds=False)
    assert api.post(f"/chats/{chat_id}/members", json={"user_ids": [vika]}).json() == {"success": True}


def test_adds_and_removals_are_events_for_the_bot(api: httpx.Client, chat_id: int, people: list[int]) -> None:
    boris = people[1]
    api.post(f"/chats/{chat_id}/members", json={"user_ids": [boris]})
    api.delete(f"/chats/{chat_id}/members", params={"user_id": boris})
    added, removed = poll(api)["updates"]
    assert (added["update_type"], added["user"]["user_id"], added["inviter_id"]) == ("user_added", boris, BOT_USER_ID)
    assert (removed["update_type"], removed["user"]["user_id"], removed["admin_id"]) == (
        "user_removed",
        boris,
        BOT_USER_ID,
    )


def test_removing_one_person_a_request(api: httpx.Client, sandbox: MaxSandbox, people: list[int]) -> None:
    anna, boris, vika = people[:3]
    chat_id = sandbox.seed_chat("ИВТ-21", owner_id=anna, member_ids=[boris, vika])
    assert api.delete(f"/chats/{chat_id}/members", params={"user_id": boris}).json() == {"success": True}
    assert sandbox.chat_member_ids(chat_id) == [anna, BOT_USER_ID, vika]
    gone = api.delete(f"/chats/{chat_id}/members", params={"user_id": boris}).json()
    assert gone["success"] is False
    assert "not a member" in gone["message"]
    assert api.delete(f"/chats/{chat_id}/members").status_code == 400  # user_id is required
    owner = api.delete(f"/chats/{chat_id}/members", params={"user_id": anna})
    assert (owner.status_code, owner.json()["code"]) == (403, "chat.denied")
    assert api.delete(f"/chats/{chat_id}/members", params={"user_id": BOT_USER_ID}).status_code == 400


def test_the_bots_membership(api: httpx.Client, sandbox: MaxSandbox, chat_id: int) -> None:
    me = api.get(f"/chats/{chat_id}/members/me").json()
    assert (me["user_id"], me["is_bot"], me["is_admin"], me["is_owner"]) == (BOT_USER_ID, True, True, False)
    assert "add_remove_members" in me["permissions"]
    sandbox.set_bot_admin(chat_id, False)
    me = api.get(f"/chats/{chat_id}/members/me").json()
    assert (me["is_admin"], me["permissions"]) == (False, None)


def test_a_bot_that_is_not_an_administrator_is_refused_member_calls(
    api: httpx.Client, sandbox: MaxSandbox, chat_id: int, people: list[int]
) -> None:
    sandbox.set_bot_admin(chat_id, False)
    for reply in (
        api.get(f"/chats/{chat_id}/members"),
        api.post(f"/chats/{chat_id}/members", json={"user_ids": [people[1]]}),
        api.delete(f"/chats/{chat_id}/members", params={"user_id": people[0]}),
    ):
        assert (reply.status_code, reply.json()["code"]) == (403, "chat.denied")
    sandbox.set_bot_admin(chat_id, True, permissions=["read_all_messages"])  # an administrator without the right
    reply = api.post(f"/chats/{chat_id}/members", json={"user_ids": [people[1]]})
    assert reply.status_code == 403
    assert "add_remove_members" in reply.json()["message"]
    assert api.get(f"/chats/{chat_id}/members").status_code == 200


def test_a_removed_bot_sees_the_chat_as_removed_and_is_refused_member_calls(
    api: httpx.Client, sandbox: MaxSandbox, chat_id: int, people: list[int]
) -> None:
    sandbox.remove_bot(chat_id)
    page = poll(api)
    (removed,) = page["updates"]
    assert (removed["update_type"], removed["chat_id"], removed["user"]["user_id"]) == (
        "bot_removed",
        chat_id,
        people[0],
    )
    chat = api.get(f"/chats/{chat_id}").json()
    assert (chat["status"], chat["participants_count"]) == ("removed", 1)
    assert api.get("/chats").json()["chats"][0]["status"] == "removed"
    for reply in (
        api.get(f"/chats/{chat_id}/members"),
        api.get(f"/chats/{chat_id}/members/me"),
        api.post(f"/chats/{chat_id}/members", json={"user_ids": [people[1]]}),
        api.delete(f"/chats/{chat_id}/members", params={"user_id": people[0]}),
        api.patch(f"/chats/{chat_id}", json={"title": "x"}),
    ):
        assert (reply.status_code, reply.json()["code"]) == (403, "chat.denied")
    sandbox.leave_chat(chat_id, people[0])
    assert poll(api, marker=page["marker"])["updates"] == []  # no news from a chat the bot is not in
    with pytest.raises(ValueError, match="not in chat"):
        sandbox.remove_bot(chat_id)


def test_people_joining_leaving_and_renaming_in_max(api: httpx.Client, sandbox: MaxSandbox, people: list[int]) -> None:
    anna, boris, vika = people[:3]
    chat_id = sandbox.seed_chat("ИВТ-21", owner_id=anna, notify=True)
    sandbox.add_member(chat_id, boris, by_user_id=anna)
    sandbox.add_member(chat_id, vika)  # by the chat's link
    sandbox.leave_chat(chat_id, boris)
    sandbox.remove_member(chat_id, vika, by_user_id=anna)
    sandbox.change_title(chat_id, "ИВТ-21 (осень)", by_user_id=anna)
    updates = poll(api)["updates"]
    assert update_types({"updates": updates}) == [
        "bot_added",
        "user_added",
        "user_added",
        "user_removed",
        "user_removed",
        "chat_title_changed",
    ]
    assert updates[1]["inviter_id"] == anna
    assert updates[2]["inviter_id"] is None
    assert "admin_id" not in updates[3]  # left by themselves
    assert updates[4]["admin_id"] == anna
    assert updates[5]["title"] == "ИВТ-21 (осень)"
    with pytest.raises(KeyError):
        sandbox.leave_chat(chat_id, boris)
    with pytest.raises(ValueError, match="already"):
        sandbox.add_member(chat_id, anna)
