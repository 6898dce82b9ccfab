"""``--state FILE``: people, chats, the bot's messages, its subscription and undelivered updates outlive a restart;
``/_sandbox/state``, ``reset`` and the control endpoints."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from sferum_sandbox.max import BOT_USER_ID, DEFAULT_BOT_TOKEN, MaxSandbox, RunningMaxSandbox

from tests.sandbox_max.maxbot import in_process_client, poll, send_chat_button, update_types

SECRET = "kept-Secret-42"


def test_the_state_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "max-state.json"
    first = MaxSandbox(rate_limit_per_second=None, state_file=path)
    shy = first.add_user("Скромный", "Человек", refuses_adds=True)
    anna = first.state()["users"][0]["user_id"]
    first.press_start(anna, "lk-1")
    with in_process_client(first) as api:
        mid, uuid = send_chat_button(api, anna)
        chat_id = first.tap_chat_button(anna, mid, uuid)
        marker = poll(api)["marker"]
        first.leave_chat(chat_id, anna)  # unread when the sandbox stops
    before = first.state()
    assert json.loads(path.read_text(encoding="utf-8"))["platform"] == "max"
    assert not path.with_name(path.name + ".partial").exists()

    second = MaxSandbox(rate_limit_per_second=None, state_file=path)
    assert second.state() == before
    with in_process_client(second) as api:
        assert update_types(poll(api, marker=marker)) == ["user_removed"]
        assert second.tap_chat_button(anna, mid, uuid) == chat_id  # the button still opens its chat
        refused = api.post(f"/chats/{chat_id}/members", json={"user_ids": [shy]}).json()
        assert refused["failed_user_details"] == [{"error_code": "add.participant.privacy", "user_ids": [shy]}]
    assert second.add_user("Новый") == shy + 1


def test_a_subscription_and_undelivered_updates_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "max-state.json"
    first = MaxSandbox(rate_limit_per_second=None, state_file=path)
    with in_process_client(first) as api:
        api.post("/subscriptions", json={"url": "http://127.0.0.1:9/hook", "secret": SECRET})
    first.press_start(first.state()["users"][0]["user_id"], "waiting")
    assert first.state()["webhook"]["pending"] == [{"update_type": "bot_started", "attempts": 0}]
    saved = path.read_text(encoding="utf-8")
    assert SECRET in saved  # MAX keeps the secret; the state file is the sandbox's own store
    assert DEFAULT_BOT_TOKEN not in saved  # the bot's token is configuration, never state

    second = MaxSandbox(rate_limit_per_second=None, state_file=path)
    state = second.state()
    assert state["subscription"]["has_secret"] is True
    assert SECRET not in json.dumps(state)
    assert state["webhook"]["pending"] == [{"update_type": "bot_started", "attempts": 0}]


def test_a_state_file_of_another_kind_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "vk-state.json"
    path.write_text(json.dumps({"format": 1, "users": [], "chats": [], "calls": []}), encoding="utf-8")
    with pytest.raises(ValueError, match="not a MAX sandbox state"):
        MaxSandbox(state_file=path)
    path.write_text(json.dumps({"format": 1, "platform": "max", "users": []}), encoding="utf-8")
    with pytest.raises(ValueError, match="damaged"):
        MaxSandbox(state_file=path)


def test_reset_returns_to_the_demo_people(api: httpx.Client, sandbox: MaxSandbox, people: list[int]) -> None:
    fresh = sandbox.state()
    extra = sandbox.add_user("Лишний")
    sandbox.seed_chat("ИВТ-21", owner_id=people[0], member_ids=[extra])
    sandbox.faults.inject("*", status=503)
    api.get("/me")
    sandbox.reset()
    state = sandbox.state()
    assert state["users"] == fresh["users"]
    assert state["chats"] == state["messages"] == []
    assert sandbox.faults.rules() == []
    assert sandbox.request_counts() == {}
    assert api.get("/me").status_code == 200


def test_the_state_picture(api: httpx.Client, sandbox: MaxSandbox, people: list[int]) -> None:
    anna, boris = people[:2]
    sandbox.set_privacy(boris)
    sandbox.press_start(anna)
    mid, uuid = send_chat_button(api, anna, title="Чат", payload="p")
    chat_id = sandbox.tap_chat_button(anna, mid, uuid)
    state = sandbox.state()
    assert state["bot"] == {
        "user_id": BOT_USER_ID,
        "name": "sferum_sandbox_bot",
        "title": "Сферум (песочница)",
        "deep_link": "https://max.ru/sferum_sandbox_bot",
    }
    users = {u["user_id"]: u for u in state["users"]}
    assert (users[anna]["started_bot"], users[boris]["started_bot"]) == (True, False)
    assert users[boris]["refuses_adds"] is True
    (chat,) = state["chats"]
    assert chat["created_by_button"] == {"mid": mid, "uuid": uuid}
    assert [(m["user_id"], m["is_owner"], m["is_bot"]) for m in chat["members"]] == [
        (anna, True, False),
        (BOT_USER_ID, False, True),
    ]
    (message,) = state["messages"]
    assert message["buttons"][0][0]["uuid"] == uuid
    assert message["created_chats"] == {str(uuid): chat_id}
    assert update_types({"updates": state["updates"]["waiting"]}) == ["bot_started", "message_chat_created"]


def test_controls_over_http(running: RunningMaxSandbox, api: httpx.Client, sandbox: MaxSandbox) -> None:
    with httpx.Client(base_url=running.url) as control:
        oleg = control.post("/_sandbox/control/add_user", json={"first_name": "Олег", "refuses_adds": True})
        oleg_id = oleg.json()["result"]
        started = control.post(
            "/_sandbox/control/open_deep_link", json={"user_id": oleg_id, "link": sandbox.deep_link("x")}
        )
        assert started.json() == {"ok": True, "result": None}
        mid, uuid = send_chat_button(api, oleg_id)
        tapped = control.post(
            "/_sandbox/control/tap_chat_button", json={"user_id": oleg_id, "message_id": mid, "button_uuid": uuid}
        )
        chat_id = tapped.json()["result"]
        assert control.post("/_sandbox/control/remove_bot", json={"chat_id": chat_id}).status_code == 200
        assert control.post("/_sandbox/control/remove_bot", json={"chat_id": chat_id}).status_code == 400
        assert control.post("/_sandbox/control/leave_chat", json={"chat_id": 1, "user_id": oleg_id}).status_code == 404
        assert control.post("/_sandbox/control/add_user", json={"nonsense": 1}).status_code == 400
        assert control.post("/_sandbox/control/state", json={}).status_code == 404  # not an action
        assert control.post("/_sandbox/control/add_user", data={"first_name": "x"}).status_code == 415
        state = control.get("/_sandbox/state").json()
        assert state["chats"][0]["status"] == "removed"
        assert control.get("/_sandbox/requests").json() == {"POST /messages": 1}
        assert control.post("/_sandbox/deliver").json() == {"delivered": 0}
        assert control.post("/_sandbox/reset").json() == {"ok": True}
        assert control.get("/_sandbox/state").json()["chats"] == []
    assert sandbox.request_counts() == {}
