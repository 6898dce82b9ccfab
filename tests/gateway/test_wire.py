"""What the gateway puts on the wire: VK's format, and only methods and parameters the schema knows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from sferum_plugin.gateway import GatewayConfig, SferumClient, check_credentials, operations
from tests.gateway.conftest import TOKEN
from tests.gateway.fakes import FakeVkApi, conversation, member, ok
from tests.vk_schema import check_request, method, validate_response

CALL_ID = "3f2a4b7c-1d2e-4f5a-8b9c-0d1e2f3a4b5c"

# (method, reply, what the client does)
SCENARIOS: list[tuple[str, dict[str, Any], Callable[[SferumClient], object]]] = [
    (
        "messages.createChat",
        ok({"chat_id": 7, "peer_ids": [10, 11]}),
        lambda c: c.create_chat("Group 101", [10, 11]),
    ),
    ("messages.addChatUser", ok(1), lambda c: c.add_chat_member(7, 12)),
    ("messages.removeChatUser", ok(1), lambda c: c.remove_chat_member(7, 12)),
    (
        "messages.getConversationMembers",
        ok({"count": 2, "items": [member(1, is_owner=True, is_admin=True), member(10)]}),
        lambda c: c.list_chat_members(7),
    ),
    (
        "messages.getConversationsById",
        ok({"count": 1, "items": [conversation(7, "Group 101")]}),
        lambda c: c.get_chats([7, 8]),
    ),
    (
        "messages.searchConversations",
        ok({"count": 1, "items": [conversation(7, "Group 101")]}),
        lambda c: c.search_chats("Group 101"),
    ),
    ("messages.getInviteLink", ok({"link": "https://vk.me/join/abc"}), lambda c: c.get_invite_link(7, reset=True)),
    ("messages.editChat", ok(1), lambda c: c.rename_chat(7, "Group 101 (2026)")),
    (
        "calls.start",
        ok({"call_id": CALL_ID, "join_link": "https://vk.com/call/join/x", "ok_join_link": "https://ok.ru/x"}),
        lambda c: c.start_call(),
    ),
    ("calls.forceFinish", ok(1), lambda c: c.finish_call(CALL_ID)),
    (
        "users.get",
        ok([{"id": 10, "first_name": "Анна", "last_name": "Петрова"}]),
        lambda c: c.get_users([10, 11]),
    ),
    ("users.get", ok([{"id": 1, "first_name": "Org", "last_name": "Account"}]), lambda c: c.get_token_owner()),
    ("execute", ok([1, 1]), lambda c: c.execute_batch([operations.add_chat_member(7, u) for u in (12, 13)])),
]


@pytest.mark.parametrize(
    ("vk_method", "reply", "action"), SCENARIOS, ids=[f"{s[0]}-{i}" for i, s in enumerate(SCENARIOS)]
)
def test_every_request_follows_the_schema_and_the_wire_format(
    client: SferumClient,
    fake_api: FakeVkApi,
    vk_method: str,
    reply: dict[str, Any],
    action: Callable[[SferumClient], object],
) -> None:
    if vk_method != "execute":  # the schema declares execute's response as "undefined"
        validate_response(vk_method, reply)  # the scripted reply itself is realistic
    fake_api.on(vk_method, reply)

    action(client)

    assert fake_api.requests, "the client sent nothing"
    for request in fake_api.requests:
        assert request.http_method == "POST"
        assert request.url == f"https://api.sferum.test/method/{request.api_method}"
        assert request.query == "", "nothing may travel in the URL"
        assert request.headers["content-type"] == "application/x-www-form-urlencoded"
        assert request.form["v"] == "5.199"
        assert request.form["access_token"] == TOKEN
        assert TOKEN not in request.url
        assert check_request(request.api_method, request.form) == []


def test_arrays_are_comma_separated_and_booleans_are_0_or_1(client: SferumClient, fake_api: FakeVkApi) -> None:
    fake_api.on("messages.createChat", ok({"chat_id": 7, "peer_ids": [10, 11, 12]}))
    fake_api.on("messages.getInviteLink", ok({"link": "https://vk.me/join/abc"}))

    client.create_chat("Group 101", [10, 11, 12])
    client.get_invite_link(7, reset=True)
    client.get_invite_link(7)

    create, reset, keep = fake_api.requests
    assert create.form["user_ids"] == "10,11,12"
    assert create.form["title"] == "Group 101"
    assert reset.form["reset"] == "1"
    assert keep.form["reset"] == "0"
    assert reset.form["peer_id"] == "2000000007"


def test_parameters_without_a_value_are_not_sent(client: SferumClient, fake_api: FakeVkApi) -> None:
    fake_api.on("calls.start", ok({"join_link": "https://vk.com/call/join/x", "ok_join_link": "x"}))
    fake_api.on("users.get", ok([{"id": 1}]))

    client.start_call()
    client.get_token_owner()

    start, owner = fake_api.requests
    assert set(start.params) == set()
    assert set(owner.params) == set()


def test_credential_checks_send_only_schema_parameters_with_the_right_token_types() -> None:
    fake_api = FakeVkApi()
    fake_api.on("apps.get", ok({"count": 1, "items": [{"type": "app", "id": 51, "title": "LMS"}]}))
    fake_api.on("users.get", ok([{"id": 1, "first_name": "Org", "last_name": "Account"}]))
    with fake_api.client() as http:
        check_credentials(GatewayConfig(), app_id=51, service_token="service-SECRET-1", app_token=TOKEN, http=http)

    for request in fake_api.requests:
        assert check_request(request.api_method, request.form) == []
    by_token = {(r.api_method, r.form["access_token"]) for r in fake_api.requests}
    assert by_token == {("apps.get", "service-SECRET-1"), ("users.get", TOKEN)}
    assert "service" in method("apps.get")["access_token_type"]
    assert "user" in method("users.get")["access_token_type"]


def test_paging_constants_are_the_schema_limits() -> None:
    def parameter(name: str, param: str) -> dict[str, Any]:
        return next(p for p in method(name)["parameters"] if p["name"] == param)

    assert parameter("messages.getConversationMembers", "count")["maximum"] == operations.MEMBERS_PAGE_MAX
    assert parameter("messages.searchConversations", "count")["maximum"] == operations.SEARCH_MAX
    assert parameter("messages.getConversationsById", "peer_ids")["maxItems"] == operations.CONVERSATIONS_BY_ID_MAX
    assert parameter("users.get", "user_ids")["maxItems"] == operations.USERS_GET_MAX


def test_the_base_url_and_version_come_from_the_config(fake_api: FakeVkApi, http: httpx.Client) -> None:
    fake_api.on("/v2/method/users.get", ok([{"id": 1}]))
    config = GatewayConfig(api_base_url="https://sandbox.local/v2/", api_version="5.131")

    SferumClient(config, TOKEN, http=http).get_token_owner()

    (request,) = fake_api.requests
    assert request.url == "https://sandbox.local/v2/method/users.get"
    assert request.form["v"] == "5.131"
