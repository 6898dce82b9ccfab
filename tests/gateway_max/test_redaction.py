"""The bot token never shows: not in the URL, not in an error's ``str``/``repr``, not in a log line."""

from __future__ import annotations

import logging

import httpx
import pytest

from sferum_plugin.gateway import OutcomeUnknownError, SferumError
from sferum_plugin.gateway.max import MaxClient, MaxUnauthorizedError
from tests.gateway_max import fakes
from tests.gateway_max.conftest import TOKEN
from tests.gateway_max.fakes import FakeMaxApi, error, reply

WEBHOOK_SECRET = "whsec-3f9a0c1d5e7b"


def _echo_token(request: httpx.Request) -> httpx.Response:
    # A server that quotes the credential back in its error message.
    token = request.headers["Authorization"]
    return httpx.Response(401, json={"code": "verify.token", "message": f"Invalid access_token {token}"})


def test_the_token_is_never_in_an_error_even_when_max_quotes_it(
    api: FakeMaxApi, client: MaxClient, caplog: pytest.LogCaptureFixture
) -> None:
    api.on("GET", "/chats/{chatId}", _echo_token)
    caplog.set_level(logging.DEBUG)

    with pytest.raises(MaxUnauthorizedError) as caught:
        client.get_chat(-1)

    shown = [str(caught.value), repr(caught.value), caught.value.error_message, str(caught.value.request_params)]
    assert all(TOKEN not in text for text in shown)
    assert "***" in str(caught.value)
    assert TOKEN not in caplog.text


def test_the_token_is_never_in_a_transport_error_nor_in_the_retry_log(
    api: FakeMaxApi, client: MaxClient, caplog: pytest.LogCaptureFixture
) -> None:
    api.on("POST", "/messages", httpx.ReadError(f"connection reset while sending Authorization: {TOKEN}"))
    caplog.set_level(logging.DEBUG)

    with pytest.raises(OutcomeUnknownError) as caught:
        client.send_message("hello", user_id=7)

    errors: list[BaseException] = [caught.value, caught.value.__cause__]  # type: ignore[list-item]
    for failure in errors:
        assert isinstance(failure, SferumError)
        assert TOKEN not in str(failure)
        assert TOKEN not in repr(failure)
    assert TOKEN not in caplog.text


def test_retries_and_debug_logs_show_the_call_but_not_the_token(
    api: FakeMaxApi, client: MaxClient, caplog: pytest.LogCaptureFixture
) -> None:
    api.on("GET", "/me", error(503, "service.unavailable"), reply(200, fakes.bot_info()))
    caplog.set_level(logging.DEBUG)

    client.get_me()

    assert "GET /me" in caplog.text
    assert "retrying" in caplog.text
    assert TOKEN not in caplog.text


def test_the_client_and_the_webhook_secret_do_not_show_in_repr_or_logs(
    api: FakeMaxApi, client: MaxClient, caplog: pytest.LogCaptureFixture
) -> None:
    api.on("POST", "/subscriptions", error(400, "bad.request", f"secret {WEBHOOK_SECRET} refused"))
    caplog.set_level(logging.DEBUG)

    with pytest.raises(SferumError) as caught:
        client.subscribe("https://lms.example/hook", WEBHOOK_SECRET)

    assert TOKEN not in repr(client)
    assert WEBHOOK_SECRET not in str(caught.value)
    assert WEBHOOK_SECRET not in caplog.text
