"""VK errors the sandbox answers: codes and messages from errors.json, request_params without secrets."""

from __future__ import annotations

import pytest
from sferum_sandbox import DEFAULT_APP_TOKEN, DEFAULT_SERVICE_TOKEN, Sandbox

from tests import vk_schema

CHAT_PEER = 2_000_000_000
ANNA, BORIS, VIKA = 1001, 1002, 1003
DESCRIPTIONS = vk_schema.error_codes()


def assert_vk_error(error, code):
    assert error["error_code"] == code
    assert error["error_msg"].startswith(DESCRIPTIONS[code])


def test_unknown_token_is_error_5(api):
    assert_vk_error(api.error("users.get", access_token="not-a-token"), 5)


def test_missing_token_is_error_5(http):
    body = http.post("/method/users.get", data={"v": "5.199"}).json()
    assert_vk_error(body["error"], 5)


def test_missing_version_is_error_8(http):
    body = http.post("/method/users.get", data={"access_token": DEFAULT_APP_TOKEN}).json()
    assert_vk_error(body["error"], 8)


def test_unknown_method_is_error_3(api):
    assert_vk_error(api.error("wall.post"), 3)


def test_request_params_echo_the_call_but_never_the_tokens(api, service_api):
    error = api.error("messages.addChatUser", chat_id=77, user_id=ANNA)
    params = {item["key"]: item["value"] for item in error["request_params"]}
    assert params == {
        "method": "messages.addChatUser",
        "oauth": "1",
        "v": "5.199",
        "chat_id": "77",
        "user_id": str(ANNA),
    }

    checked = service_api.error("secure.checkToken", token=DEFAULT_APP_TOKEN + "x")
    assert DEFAULT_APP_TOKEN not in str(checked)
    assert DEFAULT_SERVICE_TOKEN not in str(checked)


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({}, "chat_id"),
        ({"chat_id": "abc", "user_id": ANNA}, "chat_id"),
        ({"chat_id": "-1", "user_id": ANNA}, "chat_id"),
        ({"chat_id": "1", "user_id": "1.5"}, "user_id"),
    ],
)
def test_missing_or_malformed_parameter_is_error_100_naming_it(api, params, named):
    error = api.error("messages.addChatUser", **params)
    assert_vk_error(error, 100)
    assert named in error["error_msg"]


def test_malformed_array_item_is_error_100(api):
    error = api.error("messages.createChat", user_ids=f"{ANNA},x", title="t")
    assert_vk_error(error, 100)
    assert "user_ids" in error["error_msg"]


def test_boolean_must_be_0_or_1(api):
    chat_id = api.ok("messages.createChat", user_ids=str(ANNA), title="t")["chat_id"]
    error = api.error("messages.getConversationMembers", peer_id=CHAT_PEER + chat_id, extended="yes")
    assert_vk_error(error, 100)


def test_count_above_the_schema_maximum_is_error_100(api):
    chat_id = api.ok("messages.createChat", user_ids=str(ANNA), title="t")["chat_id"]
    assert_vk_error(api.error("messages.getConversationMembers", peer_id=CHAT_PEER + chat_id, count=1001), 100)


def test_service_token_on_a_user_method_is_error_28(service_api):
    assert_vk_error(service_api.error("messages.createChat", user_ids=str(ANNA), title="t"), 28)
    assert_vk_error(service_api.error("calls.start"), 28)


def test_user_token_on_a_service_method_is_error_15(api):
    assert_vk_error(api.error("secure.checkToken", token=DEFAULT_APP_TOKEN), 15)


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("messages.addChatUser", {"chat_id": 42, "user_id": ANNA}),
        ("messages.removeChatUser", {"chat_id": 42, "user_id": ANNA}),
        ("messages.editChat", {"chat_id": 42, "title": "x"}),
        ("messages.getConversationMembers", {"peer_id": CHAT_PEER + 42}),
        ("messages.getInviteLink", {"peer_id": CHAT_PEER + 42}),
    ],
)
def test_missing_chat_is_error_927(api, method, params):
    assert_vk_error(api.error(method, **params), 927)


def test_removing_a_non_member_is_error_935(api):
    chat_id = api.ok("messages.createChat", user_ids=str(ANNA), title="t")["chat_id"]
    assert_vk_error(api.error("messages.removeChatUser", chat_id=chat_id, user_id=BORIS), 935)


def test_unknown_user_is_error_936_contact_not_found(api):
    assert_vk_error(api.error("messages.createChat", user_ids="999999", title="t"), 936)
    chat_id = api.ok("messages.createChat", user_ids=str(ANNA), title="t")["chat_id"]
    assert_vk_error(api.error("messages.addChatUser", chat_id=chat_id, user_id=999999), 936)


def test_failed_create_chat_creates_nothing(api, sandbox):
    api.error("messages.createChat", user_ids=f"{ANNA},999999", title="t")
    assert sandbox.state()["chats"] == []


def test_removing_the_owner_is_error_15(api):
    chat_id = api.ok("messages.createChat", user_ids=str(ANNA), title="t")["chat_id"]
    assert_vk_error(api.error("messages.removeChatUser", chat_id=chat_id, user_id=1000), 15)


def test_non_member_has_no_access_917(api, sandbox):
    chat_id = api.ok("messages.createChat", user_ids=str(ANNA), title="t")["chat_id"]
    outsider = sandbox.issue_user_token(BORIS)
    assert_vk_error(
        api.error("messages.getConversationMembers", access_token=outsider, peer_id=CHAT_PEER + chat_id), 917
    )


def test_plain_member_cannot_edit_kick_or_see_the_link(api, sandbox):
    chat_id = api.ok("messages.createChat", user_ids=f"{ANNA},{BORIS}", title="t")["chat_id"]
    anna = sandbox.issue_user_token(ANNA)

    assert_vk_error(api.error("messages.editChat", access_token=anna, chat_id=chat_id, title="x"), 925)
    assert_vk_error(api.error("messages.removeChatUser", access_token=anna, chat_id=chat_id, user_id=BORIS), 925)
    assert_vk_error(api.error("messages.getInviteLink", access_token=anna, peer_id=CHAT_PEER + chat_id), 919)
    # Any member may invite (VK's default) and leave.
    assert api.ok("messages.addChatUser", access_token=anna, chat_id=chat_id, user_id=VIKA) == 1
    assert api.ok("messages.removeChatUser", access_token=anna, chat_id=chat_id, user_id=ANNA) == 1


def test_finishing_an_unknown_or_finished_call_is_error_104_not_found(api):
    unknown = api.error("calls.forceFinish", call_id="00000000-0000-4000-8000-000000000000")
    assert_vk_error(unknown, 104)
    call_id = api.ok("calls.start")["call_id"]
    api.ok("calls.forceFinish", call_id=call_id)
    error = api.error("calls.forceFinish", call_id=call_id)
    assert_vk_error(error, 104)
    assert "already finished" in error["error_msg"]


def test_call_id_of_wrong_length_is_error_100(api):
    assert_vk_error(api.error("calls.forceFinish", call_id="short"), 100)


def test_finishing_someone_elses_call_is_error_15(api, sandbox):
    call_id = api.ok("calls.start")["call_id"]
    assert_vk_error(api.error("calls.forceFinish", access_token=sandbox.issue_user_token(ANNA), call_id=call_id), 15)


def test_unknown_user_in_users_get_is_error_113(service_api):
    assert_vk_error(service_api.error("users.get", user_ids="999999"), 113)
    assert_vk_error(service_api.error("users.get", user_ids="durov"), 113)


def test_checking_an_unknown_token_is_error_15(service_api):
    assert_vk_error(service_api.error("secure.checkToken", token="forged"), 15)


def test_expired_user_token_is_error_5(api, sandbox, clock):
    token = sandbox.issue_user_token(ANNA, lifetime_seconds=60)
    api.ok("users.get", access_token=token)
    clock.advance(61)
    assert_vk_error(api.error("users.get", access_token=token), 5)


def test_rate_limit_per_token_is_error_6_and_refills(clock, wall_clock, sleeps):
    import httpx

    limited = Sandbox(rate_limit_per_second=3, clock=clock, wall_clock=wall_clock, sleep=sleeps)
    with httpx.Client(transport=httpx.WSGITransport(app=limited.wsgi_app), base_url="http://sandbox") as client:

        def call(token):
            data = {"access_token": token, "v": "5.199"}
            return client.post("/method/users.get", data=data).json()

        assert all("response" in call(DEFAULT_APP_TOKEN) for _ in range(3))
        assert_vk_error(call(DEFAULT_APP_TOKEN)["error"], 6)
        # Another token has its own bucket.
        assert "response" in call(DEFAULT_SERVICE_TOKEN)
        clock.advance(1 / 3)
        assert "response" in call(DEFAULT_APP_TOKEN)
        assert_vk_error(call(DEFAULT_APP_TOKEN)["error"], 6)


# VK's method pages (dev.vk.com) document codes the schema's errors.json lacks; the sandbox answers with their texts.
METHOD_PAGE_TEXTS = {
    967: "This user can't be added to the work chat, as they aren't an employee.",
    984: "You has spam restriction",
    1017: "Chat was deleted",
    1019: "Chat can not be joined because user who want to join not organization member",
}


@pytest.mark.parametrize(("code", "text"), sorted(METHOD_PAGE_TEXTS.items()))
def test_codes_only_vk_method_pages_document_carry_their_text(api, sandbox, code, text):
    sandbox.faults.inject("users.get", error_code=code)
    assert api.error("users.get")["error_msg"].startswith(text)


def test_removing_someone_from_a_chat_deleted_in_sferum_is_error_1017(api, sandbox):
    chat_id = api.ok("messages.createChat", user_ids=f"{ANNA},{BORIS}", title="t")["chat_id"]
    sandbox.delete_chat(chat_id)
    error = api.error("messages.removeChatUser", chat_id=chat_id, user_id=ANNA)
    assert error["error_code"] == 1017
    assert error["error_msg"].startswith("Chat was deleted")
    # Methods whose pages do not list 1017 answer 927, as for a chat that never existed.
    assert_vk_error(api.error("messages.getConversationMembers", peer_id=CHAT_PEER + chat_id), 927)
    assert_vk_error(api.error("messages.addChatUser", chat_id=chat_id, user_id=VIKA), 927)
    assert_vk_error(api.error("messages.removeChatUser", chat_id=chat_id + 1, user_id=ANNA), 927)  # never existed


def test_adding_someone_already_in_the_chat_is_error_15_and_changes_nothing(api, sandbox):
    chat_id = api.ok("messages.createChat", user_ids=str(ANNA), title="t")["chat_id"]
    before = sandbox.state()
    assert_vk_error(api.error("messages.addChatUser", chat_id=chat_id, user_id=ANNA), 15)
    assert sandbox.state() == before


def test_a_person_outside_the_organisation_is_refused_967_and_left_out_of_a_new_chat(api, sandbox):
    outsider = sandbox.add_user("Внешний", "Гость")
    sandbox.set_in_organisation(outsider, False)

    created = api.ok("messages.createChat", user_ids=f"{ANNA},{outsider}", title="t")
    assert created["peer_ids"] == [ANNA]  # createChat answers with the people it actually added
    assert sandbox.chat_member_ids(created["chat_id"]) == [1000, ANNA]
    error = api.error("messages.addChatUser", chat_id=created["chat_id"], user_id=outsider)
    assert error["error_code"] == 967
    assert error["error_msg"].startswith(METHOD_PAGE_TEXTS[967])

    sandbox.set_in_organisation(outsider, True)
    assert api.ok("messages.addChatUser", chat_id=created["chat_id"], user_id=outsider) == 1
    with pytest.raises(KeyError):
        sandbox.set_in_organisation(999999, False)
