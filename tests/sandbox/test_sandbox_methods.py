"""Every emulated method's happy path over real HTTP, each reply validated against VK's schema."""

from __future__ import annotations

import re

from sferum_sandbox import DEFAULT_APP_ID, DEFAULT_APP_TOKEN

CHAT_PEER = 2_000_000_000
ORG = 1000
ANNA, BORIS, VIKA, GLEB = 1001, 1002, 1003, 1004


def test_create_chat_makes_the_token_owner_owner_and_admin(api, sandbox):
    created = api.ok("messages.createChat", user_ids=f"{ANNA},{BORIS}", title="ИВТ-21")

    assert created == {"chat_id": 1, "peer_ids": [ANNA, BORIS]}
    (chat,) = sandbox.state()["chats"]
    assert chat["owner_id"] == ORG
    assert chat["admin_ids"] == [ORG]
    assert [m["member_id"] for m in chat["members"]] == [ORG, ANNA, BORIS]


def test_chat_ids_increase(api):
    first = api.ok("messages.createChat", user_ids=str(ANNA), title="one")
    second = api.ok("messages.createChat", user_ids=str(ANNA), title="two")
    assert (first["chat_id"], second["chat_id"]) == (1, 2)


def test_added_member_appears_with_inviter_and_join_date(api, wall_clock):
    chat_id = api.ok("messages.createChat", user_ids=str(ANNA), title="ИВТ-21")["chat_id"]
    wall_clock.advance(60)

    assert api.ok("messages.addChatUser", chat_id=chat_id, user_id=VIKA) == 1

    members = api.ok("messages.getConversationMembers", peer_id=CHAT_PEER + chat_id)
    assert members["count"] == 3
    vika = members["items"][-1]
    assert vika["member_id"] == VIKA
    assert vika["invited_by"] == ORG
    assert vika["join_date"] == int(wall_clock.now)
    assert vika["is_admin"] is False
    assert members["items"][0]["is_owner"] is True


def test_removed_member_leaves_the_chat(api, sandbox):
    chat_id = api.ok("messages.createChat", user_ids=f"{ANNA},{BORIS}", title="ИВТ-21")["chat_id"]

    assert api.ok("messages.removeChatUser", chat_id=chat_id, user_id=ANNA) == 1
    assert api.ok("messages.removeChatUser", chat_id=chat_id, member_id=BORIS) == 1

    members = api.ok("messages.getConversationMembers", peer_id=CHAT_PEER + chat_id)
    assert [m["member_id"] for m in members["items"]] == [ORG]


def test_members_are_paged_with_offset_and_count(api):
    people = [1001 + index for index in range(10)]
    chat_id = api.ok("messages.createChat", user_ids=",".join(map(str, people)), title="big")["chat_id"]

    first = api.ok("messages.getConversationMembers", peer_id=CHAT_PEER + chat_id, count=4)
    rest = api.ok("messages.getConversationMembers", peer_id=CHAT_PEER + chat_id, offset=4, count=200)

    assert first["count"] == rest["count"] == 11
    ids = [m["member_id"] for m in first["items"] + rest["items"]]
    assert ids == [ORG, *people]


def test_extended_members_carry_profiles(api):
    chat_id = api.ok("messages.createChat", user_ids=str(ANNA), title="ИВТ-21")["chat_id"]

    members = api.ok(
        "messages.getConversationMembers", peer_id=CHAT_PEER + chat_id, extended=1, fields="photo_100,screen_name"
    )

    anna = next(p for p in members["profiles"] if p["id"] == ANNA)
    assert (anna["first_name"], anna["last_name"], anna["screen_name"]) == ("Анна", "Иванова", f"id{ANNA}")
    assert anna["photo_100"].startswith("http://127.0.0.1:")


def test_members_can_be_filtered_by_member_ids(api):
    chat_id = api.ok("messages.createChat", user_ids=f"{ANNA},{BORIS}", title="ИВТ-21")["chat_id"]
    members = api.ok("messages.getConversationMembers", peer_id=CHAT_PEER + chat_id, member_ids=str(BORIS))
    assert [m["member_id"] for m in members["items"]] == [BORIS]


def test_conversations_by_id_describe_chats_and_skip_unknown_peers(api):
    chat_id = api.ok("messages.createChat", user_ids=str(ANNA), title="ИВТ-21")["chat_id"]

    found = api.ok("messages.getConversationsById", peer_ids=f"{CHAT_PEER + chat_id},{CHAT_PEER + 99}")

    assert found["count"] == 1
    settings = found["items"][0]["chat_settings"]
    assert found["items"][0]["peer"] == {"id": CHAT_PEER + chat_id, "type": "chat", "local_id": chat_id}
    assert (settings["title"], settings["owner_id"], settings["members_count"]) == ("ИВТ-21", ORG, 2)


def test_extended_conversations_carry_owner_profiles(api):
    chat_id = api.ok("messages.createChat", user_ids=str(ANNA), title="ИВТ-21")["chat_id"]
    found = api.ok("messages.getConversationsById", peer_ids=CHAT_PEER + chat_id, extended=1)
    assert [p["id"] for p in found["profiles"]] == [ORG]


def test_search_matches_title_substring_ignoring_case(api):
    api.ok("messages.createChat", user_ids=str(ANNA), title="Группа ИВТ-21")
    api.ok("messages.createChat", user_ids=str(ANNA), title="Кафедра физики")
    api.ok("messages.createChat", user_ids=str(ANNA), title="группа ПМ-22")

    found = api.ok("messages.searchConversations", q="ГРУППА")

    assert found["count"] == 2
    assert [item["chat_settings"]["title"] for item in found["items"]] == ["группа ПМ-22", "Группа ИВТ-21"]
    assert api.ok("messages.searchConversations", q="группа", count=1)["count"] == 2
    assert len(api.ok("messages.searchConversations", q="группа", count=1)["items"]) == 1


def test_search_shows_only_the_callers_chats(api, sandbox):
    api.ok("messages.createChat", user_ids=str(ANNA), title="Группа ИВТ-21")
    boris_token = sandbox.issue_user_token(BORIS)
    assert api.ok("messages.searchConversations", access_token=boris_token, q="Группа")["count"] == 0
    anna_token = sandbox.issue_user_token(ANNA)
    assert api.ok("messages.searchConversations", access_token=anna_token, q="Группа")["count"] == 1


def test_edit_chat_renames(api, sandbox):
    chat_id = api.ok("messages.createChat", user_ids=str(ANNA), title="old")["chat_id"]
    assert api.ok("messages.editChat", chat_id=chat_id, title="new") == 1
    assert sandbox.state()["chats"][0]["title"] == "new"


def test_invite_link_is_stable_until_reset_and_opens_a_page(api, http):
    chat_id = api.ok("messages.createChat", user_ids=str(ANNA), title="ИВТ-21")["chat_id"]

    link = api.ok("messages.getInviteLink", peer_id=CHAT_PEER + chat_id)["link"]
    again = api.ok("messages.getInviteLink", peer_id=CHAT_PEER + chat_id)["link"]
    renewed = api.ok("messages.getInviteLink", peer_id=CHAT_PEER + chat_id, reset=1)["link"]

    assert link == again != renewed
    assert "ИВТ-21" in http.get(renewed).text
    assert http.get(link).status_code == 404


def test_call_start_and_force_finish(api, sandbox, http):
    call = api.ok("calls.start")

    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", call["call_id"])
    assert call["join_link"] != call["ok_join_link"]
    assert "in progress" in http.get(call["join_link"]).text
    assert sandbox.state()["calls"][0]["state"] == "active"

    assert api.ok("calls.forceFinish", call_id=call["call_id"]) == 1
    assert sandbox.state()["calls"][0]["state"] == "finished"
    assert "ended" in http.get(call["join_link"]).text


def test_users_get_defaults_to_the_token_owner(api):
    (me,) = api.ok("users.get")
    assert me["id"] == ORG


def test_users_get_by_ids_and_screen_names(service_api):
    users = service_api.ok("users.get", user_ids=f"{ANNA},id{BORIS}", fields="screen_name")
    assert [(u["id"], u["first_name"], u["screen_name"]) for u in users] == [
        (ANNA, "Анна", f"id{ANNA}"),
        (BORIS, "Борис", f"id{BORIS}"),
    ]


def test_users_get_with_service_token_and_no_ids_is_empty(service_api):
    assert service_api.ok("users.get") == []


def test_secure_check_token_confirms_a_user_token(service_api, sandbox, wall_clock):
    token = sandbox.issue_user_token(ANNA, lifetime_seconds=600)
    checked = service_api.ok("secure.checkToken", token=token)
    assert checked == {
        "success": 1,
        "user_id": ANNA,
        "date": int(wall_clock.now),
        "expire": int(wall_clock.now) + 600,
    }


def test_secure_check_token_of_the_app_token_names_the_organisation(service_api):
    assert service_api.ok("secure.checkToken", token=DEFAULT_APP_TOKEN)["user_id"] == ORG


def test_apps_get_describes_the_application(service_api):
    apps = service_api.ok("apps.get", app_id=DEFAULT_APP_ID)
    assert apps["count"] == 1
    assert apps["items"][0]["id"] == DEFAULT_APP_ID
    assert service_api.ok("apps.get", app_id=1) == {"count": 0, "items": []}


def test_apps_get_without_app_id_answers_the_tokens_app(service_api):
    assert service_api.ok("apps.get")["items"][0]["id"] == DEFAULT_APP_ID


def test_added_user_can_be_put_in_a_chat(api, sandbox):
    new_id = sandbox.add_user("Олег", "Сидоров")
    chat_id = api.ok("messages.createChat", user_ids=str(new_id), title="t")["chat_id"]
    assert new_id in [
        m["member_id"] for m in api.ok("messages.getConversationMembers", peer_id=CHAT_PEER + chat_id)["items"]
    ]
