"""VK ID: PKCE values, the authorize URL, the redirect check and the code exchange."""

from __future__ import annotations

import string
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sferum_plugin.gateway import (
    GatewayConfig,
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    MalformedResponseError,
    OutcomeUnknownError,
    RetryPolicy,
    StateMismatchError,
    VkIdClient,
    VkIdError,
    VkIdTokens,
    code_challenge_s256,
    generate_code_verifier,
    generate_state,
    read_redirect,
)
from tests.gateway.fakes import FakeVkApi

VK_ID_VERIFIER_ALPHABET = set(string.ascii_letters + string.digits + "_-")
"""VK ID's API description: a code verifier is 43 to 128 characters of a-z, A-Z, 0-9, _ and - (no "." or "~")."""
TOKENS: dict[str, Any] = {
    "access_token": "vk2.a.ACCESS-SECRET-1234567890",
    "refresh_token": "vk2.r.REFRESH-SECRET-1234567890",
    "id_token": "header.ID-TOKEN-SECRET.signature",
    "token_type": "Bearer",
    "expires_in": 3600,
    "user_id": 1234567890,
    "state": "s" * 43,
    "scope": "vkid.personal_info",
}


@pytest.fixture
def vkid(config: GatewayConfig, http: httpx.Client, retry: RetryPolicy) -> VkIdClient:
    return VkIdClient(config, 51234567, http=http, retry=retry)


def test_code_verifiers_are_long_and_random() -> None:
    verifiers = {generate_code_verifier() for _ in range(20)}

    assert len(verifiers) == 20
    assert all(len(verifier) == 64 for verifier in verifiers)
    with pytest.raises(ValueError, match="43 to 128"):
        generate_code_verifier(42)
    with pytest.raises(ValueError, match="43 to 128"):
        generate_code_verifier(129)


@given(length=st.integers(min_value=43, max_value=128))
def test_code_verifiers_use_only_the_characters_vk_id_allows(length: int) -> None:
    verifier = generate_code_verifier(length)

    assert len(verifier) == length
    assert set(verifier) <= VK_ID_VERIFIER_ALPHABET


def test_the_s256_challenge_matches_rfc_7636_appendix_b() -> None:
    assert code_challenge_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == (
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )


def test_states_are_unguessable() -> None:
    states = {generate_state() for _ in range(20)}
    assert len(states) == 20
    assert all(len(state) >= 32 for state in states)


def test_the_authorize_url_carries_the_pkce_challenge(vkid: VkIdClient) -> None:
    request = vkid.start_authorization("https://lms.example/sferum/callback?x=1", scope="vkid.personal_info")

    url = urlsplit(request.url)
    query = {key: values[0] for key, values in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == "https://id.sferum.test/authorize"
    assert query == {
        "response_type": "code",
        "client_id": "51234567",
        "redirect_uri": "https://lms.example/sferum/callback?x=1",
        "state": request.state,
        "code_challenge": code_challenge_s256(request.code_verifier),
        "code_challenge_method": "s256",  # as VK ID's API description and VK's web SDK write it
        "scope": "vkid.personal_info",
    }
    assert request.code_verifier not in request.url
    assert request.code_verifier not in repr(request)


def test_the_redirect_must_bring_back_our_state() -> None:
    good = read_redirect(
        {"code": "c" * 48, "state": "abc", "device_id": "dev", "type": "code_v2"}, expected_state="abc"
    )
    assert good.device_id == "dev"
    assert "c" * 48 not in repr(good)

    with pytest.raises(StateMismatchError):
        read_redirect({"code": "c" * 48, "state": "forged", "device_id": "dev"}, expected_state="abc")
    with pytest.raises(StateMismatchError):
        read_redirect({"code": "c" * 48, "device_id": "dev"}, expected_state="abc")
    with pytest.raises(VkIdError) as denied:
        read_redirect(
            {"error": "access_denied", "error_description": "User denied", "state": "abc"}, expected_state="abc"
        )
    assert denied.value.error == "access_denied"
    with pytest.raises(InvalidRequestError):
        read_redirect({"state": "abc", "device_id": "dev"}, expected_state="abc")


def test_the_code_exchange_posts_the_grant_and_returns_tokens(vkid: VkIdClient, fake_api: FakeVkApi) -> None:
    fake_api.on("/oauth2/auth", TOKENS)

    tokens = vkid.exchange_code(
        code="CODE-SECRET-123456789",
        code_verifier="v" * 64,
        device_id="device-1",
        redirect_uri="https://lms.example/cb",
        state="s" * 43,
    )

    assert tokens == VkIdTokens(
        user_id=1234567890,
        access_token=TOKENS["access_token"],
        refresh_token=TOKENS["refresh_token"],
        id_token=TOKENS["id_token"],
        expires_in=3600,
        scope="vkid.personal_info",
        state="s" * 43,
    )
    for secret in ("access_token", "refresh_token", "id_token"):
        assert TOKENS[secret] not in repr(tokens)
    (request,) = fake_api.requests
    assert request.url == "https://id.sferum.test/oauth2/auth"
    assert request.query == ""
    assert request.form == {
        "grant_type": "authorization_code",
        "code": "CODE-SECRET-123456789",
        "code_verifier": "v" * 64,
        "device_id": "device-1",
        "redirect_uri": "https://lms.example/cb",
        "client_id": "51234567",
        "state": "s" * 43,
    }


def test_refresh_uses_the_refresh_grant(vkid: VkIdClient, fake_api: FakeVkApi) -> None:
    fake_api.on("/oauth2/auth", TOKENS)

    assert vkid.refresh_tokens(refresh_token="vk2.r.OLD-SECRET-123", device_id="device-1").user_id == 1234567890
    assert fake_api.requests[0].form["grant_type"] == "refresh_token"


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ("invalid_grant", InvalidGrantError),
        ("invalid_client", InvalidClientError),
        ("invalid_request", InvalidRequestError),
        ("unsupported_grant_type", VkIdError),
    ],
)
def test_token_endpoint_errors_are_typed_and_not_retried(
    vkid: VkIdClient, fake_api: FakeVkApi, error: str, expected: type[VkIdError]
) -> None:
    fake_api.on("/oauth2/auth", httpx.Response(400, json={"error": error, "error_description": "nope"}))

    with pytest.raises(expected) as caught:
        vkid.exchange_code(
            code="CODE-SECRET-123456789", code_verifier="v" * 64, device_id="d", redirect_uri="https://x"
        )

    assert caught.value.error == error
    assert caught.value.error_description == "nope"
    assert "CODE-SECRET-123456789" not in str(caught.value.request_params)
    assert "v" * 64 not in str(caught.value.request_params)
    assert caught.value.request_params["grant_type"] == "authorization_code"
    assert len(fake_api.requests) == 1


def test_a_lost_exchange_reply_is_an_unknown_outcome(vkid: VkIdClient, fake_api: FakeVkApi) -> None:
    def dropped(request: httpx.Request) -> None:
        raise httpx.RemoteProtocolError("Server disconnected", request=request)

    fake_api.on("/oauth2/auth", dropped, TOKENS)

    with pytest.raises(OutcomeUnknownError):
        vkid.exchange_code(
            code="CODE-SECRET-123456789", code_verifier="v" * 64, device_id="d", redirect_uri="https://x"
        )
    assert len(fake_api.requests) == 1


@pytest.mark.parametrize(
    "reply",
    [
        httpx.Response(200, text="<html>"),
        httpx.Response(200, json={"access_token": "x" * 20, "expires_in": 3600}),
        httpx.Response(200, json={"access_token": "x" * 20, "user_id": "12", "expires_in": 3600}),
    ],
)
def test_a_malformed_token_reply_is_reported(vkid: VkIdClient, fake_api: FakeVkApi, reply: httpx.Response) -> None:
    fake_api.on("/oauth2/auth", reply)

    # A reply came, so the code may have been used up: the exchange is not repeated, its outcome is unknown.
    with pytest.raises(OutcomeUnknownError, match="oauth2/auth") as caught:
        vkid.exchange_code(
            code="CODE-SECRET-123456789", code_verifier="v" * 64, device_id="d", redirect_uri="https://x"
        )
    assert isinstance(caught.value.__cause__, MalformedResponseError)
    assert len(fake_api.requests) == 1
