"""The events the module acts on, read from long polling (``GET /updates``) and from a webhook body."""

from __future__ import annotations

from typing import Any

import pytest

from sferum_plugin.gateway import MalformedResponseError
from sferum_plugin.gateway.max import (
    PRODUCT_UPDATE_TYPES,
    BotAddedUpdate,
    BotRemovedUpdate,
    BotStartedUpdate,
    ChatTitleChangedUpdate,
    MaxBot,
    MaxClient,
    MaxUser,
    MessageChatCreatedUpdate,
    OtherUpdate,
    UnreadableUpdate,
    UserAddedUpdate,
    UserRemovedUpdate,
    read_update,
)
from tests.gateway_max import fakes
from tests.gateway_max.fakes import FakeMaxApi, reply
from tests.max_schema import validate_response

CHAT = -70_000_000_123
STUDENT = fakes.user(7001, "Anna")
TEACHER = fakes.user(7002, "Oleg")


def _event(update_type: str, **fields: Any) -> dict[str, Any]:
    return {"update_type": update_type, "timestamp": 1_764_500_000_000, **fields}


EVENTS = [
    _event("bot_started", chat_id=555, user=STUDENT, payload="link:Zm9v", user_locale="ru"),
    _event("bot_added", chat_id=CHAT, user=TEACHER, is_channel=False),
    _event("bot_removed", chat_id=CHAT, user=TEACHER, is_channel=False),
    _event("user_added", chat_id=CHAT, user=STUDENT, inviter_id=None, is_channel=False),
    _event("user_removed", chat_id=CHAT, user=STUDENT, admin_id=7002, is_channel=False),
    _event("chat_title_changed", chat_id=CHAT, user=TEACHER, title="Группа 101 (2026)"),
    _event("message_chat_created", chat=fakes.chat(CHAT, "Группа 101"), message_id="mid.42", start_payload="c:41"),
    _event("dialog_muted", chat_id=555, user=STUDENT, muted_until=0, user_locale="ru"),
]


def test_long_polling_reads_every_event_type_the_module_needs(api: FakeMaxApi, client: MaxClient) -> None:
    api.on("GET", "/updates", reply(200, {"updates": EVENTS, "marker": 1002}))

    page = client.get_updates(1001)

    anna, oleg = MaxUser(7001, "Anna", "Petrov"), MaxUser(7002, "Oleg", "Petrov")
    stamp = 1_764_500_000_000
    assert page.marker == 1002
    assert list(page.updates) == [
        BotStartedUpdate(stamp, 555, anna, payload="link:Zm9v"),
        BotAddedUpdate(stamp, CHAT, oleg),
        BotRemovedUpdate(stamp, CHAT, oleg),
        UserAddedUpdate(stamp, CHAT, anna, inviter_id=None),
        UserRemovedUpdate(stamp, CHAT, anna, admin_id=7002),
        ChatTitleChangedUpdate(stamp, CHAT, oleg, title="Группа 101 (2026)"),
        MessageChatCreatedUpdate(stamp, page.updates[6].chat, "mid.42", start_payload="c:41"),  # type: ignore[union-attr]
        OtherUpdate("dialog_muted", stamp),
    ]
    assert page.updates[6].chat.chat_id == CHAT  # type: ignore[union-attr]
    query = api.served[0].query
    assert query == {"marker": "1001", "limit": "100", "timeout": "30", "types": ",".join(PRODUCT_UPDATE_TYPES)}


def test_an_event_that_cannot_be_read_does_not_stop_the_ones_after_it(api: FakeMaxApi, client: MaxClient) -> None:
    broken = _event("user_added", chat_id="not a number", user=STUDENT, is_channel=False)
    api.on("GET", "/updates", reply(200, {"updates": [broken, EVENTS[3]], "marker": 9}), conforming=False)

    page = client.get_updates(8)

    first, second = page.updates
    assert isinstance(first, UnreadableUpdate)
    assert first.update_type == "user_added"
    assert "chat_id" in first.problem
    assert isinstance(second, UserAddedUpdate)
    assert page.marker == 9


def test_a_page_of_the_wrong_shape_is_malformed(api: FakeMaxApi, client: MaxClient) -> None:
    api.on("GET", "/updates", reply(200, {"updates": "none", "marker": 1}), conforming=False)

    with pytest.raises(MalformedResponseError) as caught:
        client.get_updates()
    assert caught.value.method == "GET /updates"


def test_the_long_poll_waits_longer_than_the_poll_and_without_a_marker_sends_none(
    api: FakeMaxApi, client: MaxClient
) -> None:
    api.on("GET", "/updates", reply(200, {"updates": [], "marker": None}))

    page = client.get_updates(timeout=45, types=["bot_started"])

    assert page.updates == ()
    assert api.served[0].query == {"limit": "100", "timeout": "45", "types": "bot_started"}
    assert api.served[0].request.extensions["timeout"]["read"] == 45 + client.config.timeout_seconds


def test_a_webhook_body_is_read_the_same_way() -> None:
    body = EVENTS[0]
    validate_response("GET", "/updates", 200, {"updates": [body], "marker": None})  # it is an Update

    assert read_update(body, method="webhook") == BotStartedUpdate(
        1_764_500_000_000, 555, MaxUser(7001, "Anna", "Petrov"), payload="link:Zm9v"
    )
    with pytest.raises(MalformedResponseError, match="update_type"):
        read_update({"timestamp": 1}, method="webhook")


def test_the_deep_link_carries_the_payload() -> None:
    bot = MaxBot(900, "Sferum LMS", "sferum_lms_bot")

    assert bot.deep_link("link:Zm9v") == "https://max.ru/sferum_lms_bot?start=link%3AZm9v"
    with pytest.raises(ValueError, match="512"):
        bot.deep_link("x" * 513)
    with pytest.raises(ValueError, match="username"):
        MaxBot(900, "Nameless").deep_link("x")
