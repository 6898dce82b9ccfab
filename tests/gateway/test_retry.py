"""The retry policy: transient failures are repeated with backoff, nothing non-idempotent is repeated blindly."""

from __future__ import annotations

import attrs
import httpx
import pytest
import tenacity

from sferum_plugin.gateway import (
    AuthError,
    GatewayConfig,
    OutcomeUnknownError,
    QuotaExceededError,
    RetryableApiError,
    RetryPolicy,
    ServerError,
    SferumClient,
    TransportError,
    UserNotInChatError,
)
from sferum_plugin.gateway.retry import CappedExponentialBackoff
from tests.gateway.fakes import FakeVkApi, ok, vk_error

CHAT = ok({"chat_id": 7, "peer_ids": [10]})


def _timeout(request: httpx.Request) -> None:
    raise httpx.ReadTimeout("timed out", request=request)


def _dropped(request: httpx.Request) -> None:
    raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)


def _refused(request: httpx.Request) -> None:
    raise httpx.ConnectError("[Errno 111] Connection refused", request=request)


@pytest.mark.parametrize("code", [1, 6, 10])
def test_transient_api_errors_are_retried_until_success(
    client: SferumClient, fake_api: FakeVkApi, waits: list[float], code: int
) -> None:
    fake_api.on("messages.addChatUser", vk_error(code), vk_error(code), ok(1))

    client.add_chat_member(7, 12)

    assert len(fake_api.requests) == 3
    assert len(waits) == 2


@pytest.mark.parametrize("failure", [httpx.Response(502, text="Bad Gateway"), _timeout, _dropped, _refused])
def test_server_and_transport_failures_of_idempotent_calls_are_retried(
    client: SferumClient, fake_api: FakeVkApi, failure: object
) -> None:
    fake_api.on("messages.editChat", failure, ok(1))  # type: ignore[arg-type]

    client.rename_chat(7, "New")

    assert len(fake_api.requests) == 2


def test_attempts_are_capped_and_the_last_error_is_raised(client: SferumClient, fake_api: FakeVkApi) -> None:
    fake_api.on("messages.editChat", httpx.Response(503, text="busy"))

    with pytest.raises(ServerError) as caught:
        client.rename_chat(7, "New")

    assert caught.value.status_code == 503
    assert len(fake_api.requests) == 4


@pytest.mark.parametrize("code", [9, 29])
def test_quota_errors_stop_at_once(client: SferumClient, fake_api: FakeVkApi, waits: list[float], code: int) -> None:
    fake_api.on("messages.addChatUser", vk_error(code), ok(1))

    with pytest.raises(QuotaExceededError):
        client.add_chat_member(7, 12)

    assert len(fake_api.requests) == 1
    assert waits == []


@pytest.mark.parametrize(("code", "error"), [(5, AuthError), (935, UserNotInChatError)])
def test_permanent_errors_surface_at_once(
    client: SferumClient, fake_api: FakeVkApi, code: int, error: type[Exception]
) -> None:
    fake_api.on("messages.removeChatUser", vk_error(code), ok(1))

    with pytest.raises(error):
        client.remove_chat_member(7, 12)

    assert len(fake_api.requests) == 1


@pytest.mark.parametrize(
    "failure", [_timeout, _dropped, httpx.Response(500, text="oops"), vk_error(10), vk_error(1)], ids=str
)
def test_create_chat_is_never_repeated_after_an_ambiguous_failure(
    client: SferumClient, fake_api: FakeVkApi, failure: object
) -> None:
    fake_api.on("messages.createChat", failure, CHAT)  # type: ignore[arg-type]

    with pytest.raises(OutcomeUnknownError) as caught:
        client.create_chat("Group 101", [10])

    assert len(fake_api.requests) == 1
    assert caught.value.method == "messages.createChat"
    assert caught.value.request_params == {"title": "Group 101", "user_ids": "10"}
    assert isinstance(caught.value.__cause__, TransportError | ServerError | RetryableApiError)


def test_start_call_is_never_repeated_after_a_timeout(client: SferumClient, fake_api: FakeVkApi) -> None:
    fake_api.on("calls.start", _timeout, ok({"join_link": "https://j", "ok_join_link": "https://o"}))

    with pytest.raises(OutcomeUnknownError):
        client.start_call()

    assert len(fake_api.requests) == 1


@pytest.mark.parametrize("failure", [_refused, vk_error(6)], ids=["connect-error", "too-many-requests"])
def test_create_chat_is_retried_when_nothing_was_applied(
    client: SferumClient, fake_api: FakeVkApi, failure: object
) -> None:
    fake_api.on("messages.createChat", failure, CHAT)  # type: ignore[arg-type]

    assert client.create_chat("Group 101", [10]).chat_id == 7
    assert len(fake_api.requests) == 2


def test_backoff_is_exponential_capped_and_jittered() -> None:
    def state(attempt: int) -> tenacity.RetryCallState:
        retry_state = tenacity.RetryCallState(tenacity.Retrying(), fn=None, args=(), kwargs={})
        retry_state.attempt_number = attempt
        return retry_state

    no_jitter = CappedExponentialBackoff(initial=0.5, cap=8.0, jitter=0.5, uniform=lambda low, high: low)
    full_jitter = CappedExponentialBackoff(initial=0.5, cap=8.0, jitter=0.5, uniform=lambda low, high: high)

    assert [no_jitter(state(n)) for n in range(1, 8)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert [full_jitter(state(n)) for n in range(1, 6)] == [1.0, 1.5, 2.5, 4.5, 8.0]
    assert 0.5 <= CappedExponentialBackoff()(state(1)) <= 1.0


def test_the_default_policy_sleeps_with_the_backoff(fake_api: FakeVkApi, http: httpx.Client) -> None:
    slept: list[float] = []
    policy = RetryPolicy(max_attempts=3, sleep=slept.append)
    fake_api.on("messages.editChat", vk_error(10), vk_error(10), ok(1))

    SferumClient(GatewayConfig(), "token-for-backoff-test", http=http, retry=policy).rename_chat(7, "New")

    assert len(slept) == 2
    assert 0.5 <= slept[0] <= 1.0
    assert 1.0 <= slept[1] <= 1.5


def test_max_attempts_comes_from_the_config(fake_api: FakeVkApi, http: httpx.Client) -> None:
    assert RetryPolicy.from_config(GatewayConfig(max_attempts=2)).max_attempts == 2
    config = GatewayConfig(max_attempts=2)
    policy = RetryPolicy.from_config(config)
    fake_api.on("messages.editChat", vk_error(6))

    client = SferumClient(config, "token-for-attempts-test", http=http, retry=_no_sleep(policy))
    with pytest.raises(RetryableApiError):
        client.rename_chat(7, "New")

    assert len(fake_api.requests) == 2


def _no_sleep(policy: RetryPolicy) -> RetryPolicy:
    return attrs.evolve(policy, wait=tenacity.wait_none(), sleep=lambda seconds: None)
