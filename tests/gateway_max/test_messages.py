"""Messages with inline keyboards: a ``chat`` button the requester taps to create a chat, ``link`` buttons for a
call or a chat; the schema's limits are checked before anything is sent."""

from __future__ import annotations

import pytest

from sferum_plugin.gateway.max import ChatButton, LinkButton, MaxClient, keyboard_attachment
from tests.gateway_max import fakes
from tests.gateway_max.fakes import FakeMaxApi, reply

CHAT = -70_000_000_123


def test_a_chat_button_carries_the_title_description_payload_and_uuid(api: FakeMaxApi, client: MaxClient) -> None:
    api.on("POST", "/messages", reply(200, fakes.sent_message(user_id=7, mid="mid.42")))
    button = ChatButton(
        "Создать чат группы", "Группа 101", chat_description="Чат учебной группы", start_payload="c:41", uuid=41
    )

    sent = client.send_message("Нажмите, чтобы создать чат группы 101", user_id=7, buttons=[[button]])

    assert sent.message_id == "mid.42"
    request = api.served[0]
    assert request.query == {"user_id": "7"}
    assert request.json == {
        "text": "Нажмите, чтобы создать чат группы 101",
        "attachments": [
            {
                "type": "inline_keyboard",
                "payload": {
                    "buttons": [
                        [
                            {
                                "type": "chat",
                                "text": "Создать чат группы",
                                "chat_title": "Группа 101",
                                "chat_description": "Чат учебной группы",
                                "start_payload": "c:41",
                                "uuid": 41,
                            }
                        ]
                    ]
                },
            }
        ],
        "link": None,
    }


def test_a_lesson_announcement_goes_to_the_chat_with_a_call_link(api: FakeMaxApi, client: MaxClient) -> None:
    api.on("POST", "/messages", reply(200, fakes.sent_message(chat_id=CHAT)))

    client.send_message(
        "Онлайн-занятие началось",
        chat_id=CHAT,
        buttons=[[LinkButton("Присоединиться", "https://call.max.ru/j/abc"), LinkButton("Чат", "https://max.ru/c/1")]],
    )

    request = api.served[0]
    assert request.query == {"chat_id": str(CHAT)}
    assert request.json["attachments"][0]["payload"]["buttons"] == [
        [
            {"type": "link", "text": "Присоединиться", "url": "https://call.max.ru/j/abc"},
            {"type": "link", "text": "Чат", "url": "https://max.ru/c/1"},
        ]
    ]


def test_a_plain_message_has_no_attachments(api: FakeMaxApi, client: MaxClient) -> None:
    api.on("POST", "/messages", reply(200, fakes.sent_message(chat_id=CHAT)))

    client.send_message("Занятие завершено", chat_id=CHAT)

    assert api.served[0].json == {"text": "Занятие завершено", "attachments": [], "link": None}


@pytest.mark.parametrize(
    "recipients",
    [{}, {"user_id": 1, "chat_id": CHAT}],
)
def test_a_message_goes_to_exactly_one_recipient(recipients: dict[str, int], client: MaxClient) -> None:
    with pytest.raises(ValueError, match="either"):
        client.send_message("x", **recipients)


def test_limits_of_the_schema_are_checked_before_sending(api: FakeMaxApi, client: MaxClient) -> None:
    with pytest.raises(ValueError, match="4000"):
        client.send_message("x" * 4001, user_id=1)
    with pytest.raises(ValueError, match="chat_title"):
        ChatButton("Go", "t" * 201)
    with pytest.raises(ValueError, match="text"):
        ChatButton("", "Group")
    with pytest.raises(ValueError, match="start_payload"):
        ChatButton("Go", "Group", start_payload="p" * 513)
    with pytest.raises(ValueError, match="url"):
        LinkButton("Go", "https://x/" + "a" * 2048)
    with pytest.raises(ValueError, match="row"):
        keyboard_attachment([[]])
    assert api.served == []
