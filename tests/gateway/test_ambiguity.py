"""One rule decides whether Sferum may have applied a call that failed; every caller reads it from the gateway.

The rule is pinned here for every VK error code the gateway knows, every HTTP status it treats specially and every
kind of missing reply, both as the error's own verdict and as what the client does with a call that must not be
repeated blindly (``messages.createChat``): an ambiguous failure becomes :class:`OutcomeUnknownError` after a single
request, an unambiguous one is retried (if transient) or surfaces as it is.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sferum_plugin.gateway import (
    GatewayConfig,
    OutcomeUnknownError,
    QuotaExceededError,
    RateLimiter,
    RetryPolicy,
    SferumClient,
    SferumError,
    TransportError,
    VkErrorCode,
    may_have_been_applied,
)
from sferum_plugin.gateway.errors import api_error_class
from tests.gateway.conftest import NOW, TOKEN
from tests.gateway.fakes import FakeVkApi, ok, vk_error

# (what Sferum answers, whether the call may have been applied)
API_ERRORS: dict[int, bool] = {code: False for code in VkErrorCode} | {
    VkErrorCode.UNKNOWN: True,  # failed inside the server, after the method may have run
    VkErrorCode.SERVER: True,
    945: False,  # an unnamed 9xx: a refusal of the messages family
    12: False,
}
HTTP_STATUSES: dict[int, bool] = {429: False, 500: True, 502: True, 503: True, 504: True}
NO_REPLY: dict[str, tuple[Exception, bool]] = {
    "connect error": (httpx.ConnectError("refused"), False),
    "connect timeout": (httpx.ConnectTimeout("slow"), False),
    "read timeout": (httpx.ReadTimeout("slow"), True),
    "dropped connection": (httpx.RemoteProtocolError("peer closed"), True),
}


def _replies() -> list[Any]:
    cases: list[Any] = []
    for code, applied in API_ERRORS.items():
        cases.append(pytest.param(vk_error(int(code), "x"), applied, id=f"api-{int(code)}"))
    for status, applied in HTTP_STATUSES.items():
        cases.append(pytest.param(httpx.Response(status, text="busy"), applied, id=f"http-{status}"))
    for name, (error, applied) in NO_REPLY.items():
        cases.append(pytest.param(error, applied, id=name))
    cases.append(pytest.param(httpx.Response(200, text="<html>"), True, id="unreadable reply"))
    return cases


def _client(fake: FakeVkApi, http: httpx.Client) -> SferumClient:
    retry = RetryPolicy(max_attempts=3, wait=lambda state: 0.0, sleep=lambda seconds: None, clock=lambda: NOW)
    limiter = RateLimiter(1000.0, 1000)
    return SferumClient(GatewayConfig(api_base_url="https://api.sferum.test"), TOKEN, http=http, limiter=limiter,
                        retry=retry)  # fmt: skip


def _failure_of(reply: Any) -> SferumError:
    fake = FakeVkApi().on("users.get", reply)
    with fake.client() as http, pytest.raises(SferumError) as caught:
        _client(fake, http).get_users([1])
    return caught.value


@pytest.mark.parametrize(("reply", "applied"), _replies())
def test_each_failure_says_whether_sferum_may_have_applied_the_call(reply: Any, applied: bool) -> None:
    assert may_have_been_applied(_failure_of(reply)) is applied


@pytest.mark.parametrize(("reply", "applied"), _replies())
def test_a_chat_is_never_created_twice_after_an_ambiguous_failure(reply: Any, applied: bool) -> None:
    fake = FakeVkApi().on("messages.createChat", reply, ok({"chat_id": 5, "peer_ids": [2000000005]}))
    failure: SferumError | None = None
    with fake.client() as http:
        try:
            _client(fake, http).create_chat("ИВТ-21", [1])
        except SferumError as error:
            failure = error
    if isinstance(failure, OutcomeUnknownError):
        assert applied, "only an ambiguous failure may leave the outcome unknown"
        assert isinstance(failure.__cause__, SferumError)
        assert may_have_been_applied(failure.__cause__)
    elif failure is not None:
        assert not applied
        assert not may_have_been_applied(failure)
    else:
        assert not applied  # a transient refusal was retried, and the retry created the chat once
    sent = len(fake.calls("messages.createChat"))
    assert sent == 1 if applied else sent <= 3


def test_no_reply_and_an_unknown_outcome_are_siblings_in_the_tree() -> None:
    assert not issubclass(OutcomeUnknownError, TransportError)
    assert not issubclass(TransportError, OutcomeUnknownError)
    assert OutcomeUnknownError.__bases__ == (SferumError,)


def test_the_api_error_classes_agree_with_the_table() -> None:
    for code, applied in API_ERRORS.items():
        error_class = api_error_class(int(code))
        if issubclass(error_class, QuotaExceededError):
            continue  # quota errors carry when to resume; built by the retry policy (above, end to end)
        assert error_class(int(code), "x").may_have_been_applied is applied, code
