"""MAX's error statuses become the right classes, say truthfully whether the call may have been applied, and are
retried (or not) accordingly."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from sferum_plugin.gateway import (
    MalformedResponseError,
    OutcomeUnknownError,
    RateLimiter,
    RetryPolicy,
    ServerError,
    TransportError,
)
from sferum_plugin.gateway.errors import may_have_been_applied
from sferum_plugin.gateway.max import (
    MaxApiError,
    MaxBadRequestError,
    MaxClient,
    MaxConfig,
    MaxForbiddenError,
    MaxMethodNotAllowedError,
    MaxNotFoundError,
    MaxServiceUnavailableError,
    MaxTooManyRequestsError,
    MaxTransientError,
    MaxUnauthorizedError,
)
from sferum_plugin.gateway.max._exchange import retry_after_seconds
from tests.gateway_max import fakes
from tests.gateway_max.conftest import TOKEN
from tests.gateway_max.fakes import FakeMaxApi, error, reply

CHAT = -70_000_000_123


@pytest.mark.parametrize(
    ("status", "code", "error_class"),
    [
        (400, "proto.payload", MaxBadRequestError),
        (401, "verify.token", MaxUnauthorizedError),
        (403, "chat.denied", MaxForbiddenError),
        (404, "chat.not.found", MaxNotFoundError),
        (405, "method.not.allowed", MaxMethodNotAllowedError),
    ],
)
def test_a_4xx_is_a_refusal_surfaced_at_once(
    status: int, code: str, error_class: type[MaxApiError], api: FakeMaxApi, client: MaxClient, waits: list[float]
) -> None:
    api.on("POST", "/chats/{chatId}/members", error(status, code, "refused"))

    with pytest.raises(error_class) as caught:
        client.add_members(CHAT, [1])

    assert type(caught.value) is error_class
    assert (caught.value.status_code, caught.value.code, caught.value.error_message) == (status, code, "refused")
    assert caught.value.method == "POST /chats/{chatId}/members"
    assert caught.value.request_params == {"chatId": str(CHAT)}
    assert not may_have_been_applied(caught.value)
    assert len(api.served) == 1
    assert waits == []


def test_an_unauthorized_bot_token_fails_every_call_the_same_way(api: FakeMaxApi, client: MaxClient) -> None:
    api.on("GET", "/me", error(401, "verify.token", "Invalid access_token"))

    with pytest.raises(MaxUnauthorizedError, match=r"verify\.token"):
        client.get_me()


def test_429_is_retried_after_the_seconds_max_asked_for(api: FakeMaxApi, client: MaxClient, waits: list[float]) -> None:
    api.on(
        "POST",
        "/chats/{chatId}/members",
        error(429, "too.many.requests", **{"Retry-After": "3"}),
        reply(200, fakes.modify_result()),
    )

    client.add_members(CHAT, [1])

    assert len(api.served) == 2
    assert waits == [3.0]


def test_a_429_says_it_was_not_applied_and_carries_retry_after(api: FakeMaxApi, client: MaxClient) -> None:
    api.on("GET", "/chats/{chatId}", error(429, "too.many.requests", **{"Retry-After": "2"}))

    with pytest.raises(MaxTooManyRequestsError) as caught:
        client.get_chat(CHAT)

    assert caught.value.retry_after == 2.0
    assert not may_have_been_applied(caught.value)
    assert isinstance(caught.value, ServerError)  # what the retry policy repeats
    assert len(api.served) == 4  # max_attempts


def test_a_429_on_send_message_is_retried_because_nothing_was_sent(
    api: FakeMaxApi, client: MaxClient, waits: list[float]
) -> None:
    api.on("POST", "/messages", error(429, "too.many.requests"), reply(200, fakes.sent_message(chat_id=CHAT)))

    sent = client.send_message("Lesson starts", chat_id=CHAT)

    assert sent.message_id == "mid.0001"
    assert sent.chat_id == CHAT
    assert len(api.served) == 2
    assert waits == [0.0]


def test_a_long_retry_after_is_waited_only_up_to_the_configured_cap(
    api: FakeMaxApi, http: httpx.Client, limiter: RateLimiter, retry: RetryPolicy, waits: list[float]
) -> None:
    config = MaxConfig(base_url="https://max.test", max_retry_after_seconds=5)
    client = MaxClient(config, TOKEN, http=http, limiter=limiter, retry=retry)
    api.on("GET", "/me", error(429, "too.many.requests", **{"Retry-After": "3600"}), reply(200, fakes.bot_info()))

    client.get_me()

    assert waits == [5.0]


def test_503_is_retried_for_a_call_safe_to_repeat(api: FakeMaxApi, client: MaxClient, waits: list[float]) -> None:
    api.on(
        "POST",
        "/chats/{chatId}/members",
        error(503, "service.unavailable", **{"Retry-After": "1"}),
        reply(200, fakes.modify_result()),
    )

    client.add_members(CHAT, [1])

    assert len(api.served) == 2
    assert waits == [1.0]


def test_503_may_have_been_applied_so_send_message_is_not_repeated(api: FakeMaxApi, client: MaxClient) -> None:
    api.on("POST", "/messages", error(503, "service.unavailable"))

    with pytest.raises(OutcomeUnknownError) as caught:
        client.send_message("Lesson starts", chat_id=CHAT)

    assert isinstance(caught.value.__cause__, MaxServiceUnavailableError)
    assert may_have_been_applied(caught.value.__cause__)
    assert len(api.served) == 1


def test_other_5xx_are_transient_and_may_have_been_applied(api: FakeMaxApi, client: MaxClient) -> None:
    api.on("GET", "/me", error(500, "internal"))

    with pytest.raises(MaxTransientError) as caught:
        client.get_me()

    assert type(caught.value) is MaxTransientError
    assert may_have_been_applied(caught.value)
    assert len(api.served) == 4


def test_a_dropped_connection_on_send_message_is_an_unknown_outcome_after_one_request(
    api: FakeMaxApi, client: MaxClient
) -> None:
    api.on("POST", "/messages", httpx.RemoteProtocolError("server disconnected"))

    with pytest.raises(OutcomeUnknownError) as caught:
        client.send_message("Tap to create the chat", user_id=7)

    assert isinstance(caught.value.__cause__, TransportError)
    assert caught.value.method == "POST /messages"
    assert len(api.served) == 1


def test_a_message_that_never_left_is_sent_again(api: FakeMaxApi, client: MaxClient) -> None:
    api.on("POST", "/messages", httpx.ConnectError("refused"), reply(200, fakes.sent_message(user_id=7)))

    assert client.send_message("Hello", user_id=7).user_id == 7
    assert len(api.served) == 2


def test_a_dropped_connection_on_a_read_is_retried(api: FakeMaxApi, client: MaxClient) -> None:
    api.on("GET", "/chats/{chatId}", httpx.ReadTimeout("slow"), reply(200, fakes.chat(CHAT)))

    assert client.get_chat(CHAT).chat_id == CHAT
    assert len(api.served) == 2


@pytest.mark.parametrize(
    "body",
    [
        {"chat_id": "not a number", "type": "chat", "status": "active"},
        {"type": "chat", "status": "active"},
        ["a list"],
    ],
)
def test_a_reply_of_the_wrong_shape_names_the_method(body: object, api: FakeMaxApi, client: MaxClient) -> None:
    api.on("GET", "/chats/{chatId}", reply(200, body), conforming=False)

    with pytest.raises(MalformedResponseError) as caught:
        client.get_chat(CHAT)

    assert caught.value.method == "GET /chats/{chatId}"
    assert len(api.served) == 1


def test_a_reply_that_is_not_json_is_malformed(api: FakeMaxApi, client: MaxClient) -> None:
    api.on("GET", "/me", httpx.Response(200, text="<html>maintenance</html>"))

    with pytest.raises(MalformedResponseError, match="not JSON"):
        client.get_me()


def test_an_unreadable_reply_to_send_message_is_an_unknown_outcome(api: FakeMaxApi, client: MaxClient) -> None:
    api.on("POST", "/messages", reply(200, {"message": {}}), conforming=False)

    with pytest.raises(OutcomeUnknownError) as caught:
        client.send_message("Hello", user_id=7)

    assert isinstance(caught.value.__cause__, MalformedResponseError)
    assert len(api.served) == 1


def test_an_error_status_without_maxs_body_keeps_its_meaning(api: FakeMaxApi, client: MaxClient) -> None:
    api.on("GET", "/chats/{chatId}", httpx.Response(404, text="Not Found"))

    with pytest.raises(MaxNotFoundError, match="no error body"):
        client.get_chat(CHAT)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("7", 7.0), ("0", 0.0), ("-3", 0.0), ("Sun, 30 Nov 2036 10:00:05 GMT", 5.0), ("soon", None), ("nan", None)],
)
def test_retry_after_is_read_as_seconds_or_a_date(header: str, seconds: float | None) -> None:
    now = datetime(2036, 11, 30, 10, 0, 0, tzinfo=UTC)

    assert retry_after_seconds(header, now) == seconds
