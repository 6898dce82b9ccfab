"""What people do with the bot: open its deep link and press Start (``bot_started`` with the payload, at most 512
characters), tap a ``chat`` button (a new chat with the bot as administrator, ``message_chat_created`` with the
button's ``start_payload``), and the control API's people."""

from __future__ import annotations

import httpx
import pytest
from sferum_sandbox.max import BOT_USER_ID, MaxSandbox

from tests.sandbox_max.maxbot import check_update, poll, send, send_chat_button, update_types


def test_a_deep_link_and_start_send_bot_started_with_the_payload(
    api: httpx.Client, sandbox: MaxSandbox, people: list[int]
) -> None:
    anna = people[0]
    link = sandbox.deep_link("lk-7f3a9c")
    assert link == "https://max.ru/sferum_sandbox_bot?start=lk-7f3a9c"
    sandbox.open_deep_link(anna, link)
    (started,) = poll(api)["updates"]
    check_update(started)
    assert started["update_type"] == "bot_started"
    assert started["payload"] == "lk-7f3a9c"
    assert started["user"]["user_id"] == anna
    assert started["user"]["name"] == "Анна Иванова"
    assert started["chat_id"] > 0  # the person's dialog with the bot
    assert started["timestamp"] == 1_764_000_000_000  # milliseconds, from the wall clock


def test_a_payload_of_512_characters_is_passed_a_longer_one_is_not(
    api: httpx.Client, sandbox: MaxSandbox, people: list[int]
) -> None:
    sandbox.press_start(people[0], "a" * 512)
    sandbox.press_start(people[1], "b" * 513)
    exact, longer = poll(api)["updates"]
    assert exact["payload"] == "a" * 512
    assert "payload" not in longer  # "longer strings will be omitted and not passed to the bot"
    assert longer["user"]["user_id"] == people[1]


def test_deep_link_payloads_are_url_decoded_and_start_without_one_works(
    api: httpx.Client, sandbox: MaxSandbox, people: list[int]
) -> None:
    sandbox.open_deep_link(people[0], sandbox.deep_link("профиль 1/2&x=y"))
    sandbox.open_deep_link(people[1], "https://max.ru/SFERUM_SANDBOX_BOT")
    first, second = poll(api)["updates"]
    assert first["payload"] == "профиль 1/2&x=y"
    assert "payload" not in second
    assert first["chat_id"] != second["chat_id"]


@pytest.mark.parametrize(
    "link",
    ["https://max.ru/another_bot?start=x", "https://evil.example/sferum_sandbox_bot?start=x", "not a link at all"],
)
def test_a_link_to_another_bot_or_site_starts_nothing(sandbox: MaxSandbox, people: list[int], link: str) -> None:
    with pytest.raises(ValueError, match="link"):
        sandbox.open_deep_link(people[0], link)
    assert sandbox.state()["updates"]["waiting"] == []


def test_starting_the_bot_lets_it_write_to_the_person(
    api: httpx.Client, sandbox: MaxSandbox, people: list[int]
) -> None:
    assert send(api, user_id=people[0]).status_code == 403
    sandbox.press_start(people[0])
    assert send(api, user_id=people[0]).status_code == 200


def test_tapping_a_chat_button_creates_the_chat_and_tells_the_bot(
    api: httpx.Client, sandbox: MaxSandbox, people: list[int]
) -> None:
    teacher = people[0]
    sandbox.press_start(teacher)
    marker = poll(api)["marker"]
    mid, uuid = send_chat_button(
        api, teacher, title="ИВТ-21 — чат группы", payload="lk-chat-41", chat_description="Учебная группа"
    )
    chat_id = sandbox.tap_chat_button(teacher, mid, uuid)
    (created,) = poll(api, marker=marker)["updates"]
    check_update(created)
    assert created["update_type"] == "message_chat_created"
    assert created["message_id"] == mid
    assert created["start_payload"] == "lk-chat-41"
    assert created["chat"]["chat_id"] == chat_id
    assert created["chat"]["title"] == "ИВТ-21 — чат группы"
    assert created["chat"]["description"] == "Учебная группа"
    assert sandbox.chat_member_ids(chat_id) == [teacher, BOT_USER_ID]
    chat = api.get(f"/chats/{chat_id}").json()
    assert (chat["owner_id"], chat["is_public"], chat["status"]) == (teacher, False, "active")
    me = api.get(f"/chats/{chat_id}/members/me").json()
    assert me["is_admin"] is True
    assert "add_remove_members" in me["permissions"]
    assert sandbox.messages_to(teacher)[0]["created_chats"] == {str(uuid): chat_id}


def test_a_chat_button_without_start_payload(api: httpx.Client, sandbox: MaxSandbox, people: list[int]) -> None:
    sandbox.press_start(people[0])
    mid, uuid = send_chat_button(api, people[0], payload=None)
    sandbox.tap_chat_button(people[0], mid, uuid)
    created = poll(api)["updates"][-1]
    assert created["update_type"] == "message_chat_created"
    assert "start_payload" not in created


def test_a_second_tap_opens_the_same_chat(api: httpx.Client, sandbox: MaxSandbox, people: list[int]) -> None:
    teacher = people[0]
    sandbox.press_start(teacher)
    mid, uuid = send_chat_button(api, teacher)
    first = sandbox.tap_chat_button(teacher, mid, uuid)
    assert sandbox.tap_chat_button(teacher, mid, uuid) == first
    assert update_types(poll(api)) == ["bot_started", "message_chat_created"]
    assert len(sandbox.state()["chats"]) == 1


def test_only_the_addressee_can_tap_and_only_existing_buttons(
    api: httpx.Client, sandbox: MaxSandbox, people: list[int]
) -> None:
    sandbox.press_start(people[0])
    mid, uuid = send_chat_button(api, people[0])
    with pytest.raises(PermissionError):
        sandbox.tap_chat_button(people[1], mid, uuid)
    with pytest.raises(KeyError):
        sandbox.tap_chat_button(people[0], mid, uuid + 1)
    with pytest.raises(KeyError):
        sandbox.tap_chat_button(people[0], "mid.unknown", uuid)
    with pytest.raises(KeyError):
        sandbox.tap_chat_button(424242, mid, uuid)
    assert sandbox.state()["chats"] == []


def test_people_added_through_the_control_api(api: httpx.Client, sandbox: MaxSandbox) -> None:
    oleg = sandbox.add_user("Олег", "Сидоров", username="oleg_s")
    lena = sandbox.add_user("Лена")
    users = {user["user_id"]: user for user in sandbox.state()["users"]}
    assert users[oleg]["username"] == "oleg_s"
    assert users[lena]["last_name"] is None
    assert lena == oleg + 1
    sandbox.press_start(lena)
    (started,) = poll(api)["updates"]
    assert started["user"] == {
        "user_id": lena,
        "first_name": "Лена",
        "last_name": None,
        "username": None,
        "is_bot": False,
        "last_activity_time": 1_764_000_000_000,
        "name": "Лена",
    }
    with pytest.raises(ValueError, match="first name"):
        sandbox.add_user(" ")
    with pytest.raises(KeyError):
        sandbox.set_privacy(1)
