"""The Bot API over real HTTP: each operation's answer and its errors, every answer checked against MAX's document
(the client's response hook does it; see ``maxbot.check_against_schema``)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sferum_sandbox.max import BOT_USER_ID, DEFAULT_BOT_NAME, MaxSandbox, RunningMaxSandbox

from tests.sandbox_max.maxbot import (
    CHECKED,
    chat_button,
    keyboard,
    link_button,
    poll,
    send,
    send_chat_button,
    update_types,
)

OPERATIONS = {
    ("GET", "/me"),
    ("GET", "/chats"),
    ("GET", "/chats/{chatId}"),
    ("PATCH", "/chats/{chatId}"),
    ("GET", "/chats/{chatId}/members"),
    ("POST", "/chats/{chatId}/members"),
    ("DELETE", "/chats/{chatId}/members"),
    ("GET", "/chats/{chatId}/members/me"),
    ("POST", "/messages"),
    ("GET", "/subscriptions"),
    ("POST", "/subscriptions"),
    ("DELETE", "/subscriptions"),
    ("GET", "/updates"),
}


def _error(reply: httpx.Response, status: int, code: str) -> str:
    assert reply.status_code == status, reply.text
    body = reply.json()
    assert body["code"] == code, body
    message: str = body["message"]
    return message


def test_get_me_is_the_bot(api: httpx.Client) -> None:
    bot = api.get("/me").json()
    assert bot["user_id"] == BOT_USER_ID
    assert bot["is_bot"] is True
    assert bot["username"] == DEFAULT_BOT_NAME
    assert bot["first_name"] == bot["name"]


def test_the_chats_the_bot_is_in_and_one_chat(api: httpx.Client, sandbox: MaxSandbox, people: list[int]) -> None:
    anna, boris = people[:2]
    chat_id = sandbox.seed_chat("ИВТ-21", owner_id=anna, member_ids=[boris], description="Группа ИВТ-21")
    assert chat_id < 0  # group chats have negative ids in MAX
    (listed,) = api.get("/chats").json()["chats"]
    assert listed["chat_id"] == chat_id
    assert listed["participants"] is None
    one = api.get(f"/chats/{chat_id}").json()
    assert (one["title"], one["description"], one["status"], one["type"]) == (
        "ИВТ-21",
        "Группа ИВТ-21",
        "active",
        "chat",
    )
    assert one["owner_id"] == anna
    assert one["participants_count"] == 3  # owner, bot, Boris
    assert set(one["participants"]) == {str(anna), str(BOT_USER_ID), str(boris)}
    assert one["link"].startswith("https://max.ru/join/")


def test_an_unknown_chat_is_404_and_a_chat_id_that_is_not_a_number_400(api: httpx.Client) -> None:
    assert "not found" in _error(api.get("/chats/-123"), 404, "chat.not.found")
    _error(api.get("/chats/abc"), 400, "proto.payload")
    _error(api.get("/chats/-1/members/me"), 404, "chat.not.found")
    _error(api.get(f"/chats/{2**63}"), 400, "proto.payload")


def test_patch_renames_the_chat(api: httpx.Client, sandbox: MaxSandbox, people: list[int]) -> None:
    chat_id = sandbox.seed_chat("Старое", owner_id=people[0])
    changed = api.patch(f"/chats/{chat_id}", json={"title": "Новое", "notify": True}).json()
    assert changed["title"] == "Новое"
    assert api.get(f"/chats/{chat_id}").json()["title"] == "Новое"
    _error(api.patch(f"/chats/{chat_id}", json={"title": ""}), 400, "proto.payload")
    _error(api.patch(f"/chats/{chat_id}", json={"title": "x" * 201}), 400, "proto.payload")
    _error(
        api.patch(f"/chats/{chat_id}", content=b"{not json", headers={"Content-Type": "application/json"}),
        400,
        "proto.payload",
    )
    sandbox.set_bot_admin(chat_id, True, permissions=["add_remove_members"])
    _error(api.patch(f"/chats/{chat_id}", json={"title": "Нельзя"}), 403, "chat.denied")
    assert poll(api)["updates"] == []  # the bot's own change is not echoed back to it


def test_a_message_to_a_person_who_started_the_bot(api: httpx.Client, sandbox: MaxSandbox, people: list[int]) -> None:
    anna = people[0]
    sandbox.press_start(anna)
    attachments = [keyboard([chat_button(uuid=42)], [link_button()])]
    message = send(api, user_id=anna, text="Здравствуйте", attachments=attachments).json()["message"]
    assert message["recipient"] == {"chat_id": message["recipient"]["chat_id"], "chat_type": "dialog", "user_id": anna}
    assert message["sender"]["user_id"] == BOT_USER_ID
    assert message["body"]["mid"].startswith("mid.")
    assert message["body"]["text"] == "Здравствуйте"
    buttons = message["body"]["attachments"][0]["payload"]["buttons"]
    assert buttons[0][0]["uuid"] == 42
    assert buttons[1][0] == link_button()
    (seen,) = sandbox.messages_to(anna)
    assert seen["mid"] == message["body"]["mid"]


def test_a_chat_button_without_uuid_gets_one_unique_in_its_keyboard(
    api: httpx.Client, sandbox: MaxSandbox, people: list[int]
) -> None:
    sandbox.press_start(people[0])
    rows = [[chat_button("Первый"), chat_button("Второй")], [chat_button("Третий", uuid=7)]]
    body = send(api, user_id=people[0], attachments=[keyboard(*rows)]).json()["message"]["body"]
    uuids = [button["uuid"] for row in body["attachments"][0]["payload"]["buttons"] for button in row]
    assert len(set(uuids)) == 3
    assert uuids[2] == 7
    duplicate = [keyboard([chat_button("a", uuid=5), chat_button("b", uuid=5)])]
    _error(send(api, user_id=people[0], attachments=duplicate), 400, "proto.payload")


def test_the_bot_cannot_write_to_someone_who_never_started_it(api: httpx.Client, people: list[int]) -> None:
    assert "not started" in _error(send(api, user_id=people[1]), 403, "chat.denied")
    _error(send(api, user_id=123), 404, "user.not.found")


def test_a_message_to_a_chat_the_bot_is_in(api: httpx.Client, sandbox: MaxSandbox, people: list[int]) -> None:
    chat_id = sandbox.seed_chat("ИВТ-21", owner_id=people[0])
    message = send(api, chat_id=chat_id, text="Занятие начинается").json()["message"]
    assert message["recipient"] == {"chat_id": chat_id, "chat_type": "chat", "user_id": None}
    assert api.get(f"/chats/{chat_id}").json()["messages_count"] == 1
    _error(send(api, chat_id=-5), 404, "chat.not.found")
    sandbox.remove_bot(chat_id)
    _error(send(api, chat_id=chat_id), 403, "chat.denied")


@pytest.mark.parametrize(
    ("params", "body"),
    [
        ({}, {"text": "to nobody"}),
        ({"user_id": 1, "chat_id": -1}, {"text": "to both"}),
        ({"user_id": "abc"}, {"text": "x"}),
        ({"user_id": 1}, {"text": None, "attachments": None}),
        ({"user_id": 1}, {"text": "x" * 4001}),
        ({"user_id": 1}, {"text": "x", "format": "bbcode"}),
        ({"user_id": 1}, {"text": "x", "attachments": [{"type": "image", "payload": {"url": "https://x"}}]}),
        ({"user_id": 1}, {"text": "x", "attachments": [keyboard([{"type": "link", "text": "no url"}])]}),
        ({"user_id": 1}, {"text": "x", "attachments": [keyboard([{"type": "chat", "text": "no title"}])]}),
        ({"user_id": 1}, {"text": "x", "attachments": [keyboard([chat_button(payload="p" * 513)])]}),
        ({"user_id": 1}, {"text": "x", "attachments": [keyboard([chat_button(text="")])]}),
        ({"user_id": 1}, {"text": "x", "attachments": [keyboard([{"type": "teleport", "text": "?"}])]}),
        ({"user_id": 1}, {"text": "x", "attachments": [keyboard()]}),
        ({"user_id": 1}, {"text": "x", "link": {"type": "reply", "mid": "mid.1"}}),
    ],
)
def test_a_message_maxs_rules_refuse_is_400(api: httpx.Client, params: dict[str, Any], body: dict[str, object]) -> None:
    _error(api.post("/messages", params=params, json=body), 400, "proto.payload")


def test_subscriptions_post_get_delete(api: httpx.Client) -> None:
    assert api.get("/subscriptions").json() == {"subscriptions": []}
    body = {"url": "https://lk.example.edu/max/webhook", "update_types": ["bot_started"], "secret": "s3cr3t-Value_1"}
    assert api.post("/subscriptions", json=body).json() == {"success": True}
    (subscription,) = api.get("/subscriptions").json()["subscriptions"]
    assert subscription["url"] == body["url"]
    assert subscription["update_types"] == ["bot_started"]
    assert "secret" not in subscription
    assert api.delete("/subscriptions", params={"url": body["url"]}).json() == {"success": True}
    assert api.get("/subscriptions").json() == {"subscriptions": []}
    assert api.delete("/subscriptions", params={"url": body["url"]}).json() == {"success": True}  # nothing to remove
    _error(api.delete("/subscriptions"), 400, "proto.payload")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"url": "ftp://example.com/hook"},
        {"url": "https://example.com/hook", "secret": "abc"},
        {"url": "https://example.com/hook", "secret": "has spaces in it"},
        {"url": "https://example.com/hook", "update_types": ["bot_started", "bot_started"]},
        {"url": "https://example.com/hook", "update_types": ["no_such_update"]},
    ],
)
def test_a_subscription_maxs_rules_refuse_is_400(api: httpx.Client, body: dict[str, object]) -> None:
    _error(api.post("/subscriptions", json=body), 400, "proto.payload")


def test_unknown_paths_and_verbs_answer_in_maxs_error_shape(api: httpx.Client) -> None:
    _error(api.get("/no/such/path"), 404, "not.found")
    _error(api.put("/me"), 405, "method.not.allowed")
    _error(api.delete("/chats/-1"), 405, "method.not.allowed")


def test_the_root_redirects_to_the_sandbox_page(running: RunningMaxSandbox) -> None:
    with httpx.Client(base_url=running.url) as client:
        reply = client.get("/")
    assert reply.status_code == 302
    assert reply.headers["Location"] == "/_sandbox/"


def test_every_operation_answers_as_the_schema_says(api: httpx.Client, sandbox: MaxSandbox, people: list[int]) -> None:
    """One pass through every operation the sandbox serves, with its usual errors; the response hook checks each
    answer against the document, and this test checks that each operation was answered."""
    CHECKED.clear()
    anna, boris, vika = people[:3]
    sandbox.press_start(anna, "link-me")
    mid, uuid = send_chat_button(api, anna)
    chat_id = sandbox.tap_chat_button(anna, mid, uuid)
    api.get("/me")
    api.get("/chats", params={"count": 10})
    api.get(f"/chats/{chat_id}")
    api.patch(f"/chats/{chat_id}", json={"title": "ИВТ-21 (2025)"})
    api.post(f"/chats/{chat_id}/members", json={"user_ids": [boris, vika]})
    api.get(f"/chats/{chat_id}/members", params={"count": 2})
    api.get(f"/chats/{chat_id}/members", params={"user_ids": f"{anna},{boris}"})
    api.get(f"/chats/{chat_id}/members/me")
    api.delete(f"/chats/{chat_id}/members", params={"user_id": vika})
    assert update_types(poll(api)) == [
        "bot_started",
        "message_chat_created",
        "user_added",
        "user_added",
        "user_removed",
    ]
    api.post("/subscriptions", json={"url": "https://lk.example.edu/hook", "secret": "abcde"})
    api.get("/subscriptions")
    api.get("/updates")  # 405 while subscribed
    api.delete("/subscriptions", params={"url": "https://lk.example.edu/hook"})
    api.post("/messages", params={"user_id": boris}, json={"text": "x"})  # 403
    api.get("/chats/-1")  # 404
    api.post(f"/chats/{chat_id}/members", json={"user_ids": list(range(1, 102))})  # 400
    with httpx.Client(base_url=str(api.base_url), event_hooks=api.event_hooks) as anonymous:
        anonymous.get("/me")  # 401
    answered = {(verb, template) for verb, template, status in CHECKED if status == 200}
    assert answered == OPERATIONS
    errors = {status for _, _, status in CHECKED if status >= 400}
    assert errors >= {400, 401, 403, 404, 405}
