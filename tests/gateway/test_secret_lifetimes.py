"""Short-lived secrets are masked while the block of work that uses them lives, and are let go after it.

A process links thousands of profiles; each link hands the gateway a PKCE verifier, a code and the user's tokens.
Keeping all of them made every registration and every log line slower (issue 11, item 6).
"""

from __future__ import annotations

import itertools
import logging
import secrets
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from sferum_plugin.gateway import AuthError, GatewayConfig, RetryPolicy, VkIdClient, install_redaction, redact
from sferum_plugin.gateway.connector import SferumConnector
from sferum_plugin.gateway.redact import RedactingFilter, SecretRegistry, redact_text, register_secret
from sferum_plugin.services.connection import GatewayProfiles
from tests.gateway.fakes import FakeVkApi, ok, vk_error

APP_ID = 51234567
REDIRECT_URI = "https://lms.test/sferum/callback"


class IssuingVkId:
    """VK ID's token endpoint handing out a fresh user and fresh tokens for each code."""

    def __init__(self) -> None:
        self.users = itertools.count(1_000_000)
        self.issued: list[tuple[str, str, str]] = []
        self.owners: dict[str, int] = {}

    def exchange(self, request: httpx.Request) -> dict[str, Any]:
        user_id = next(self.users)
        tokens = (f"vk2.a.{secrets.token_urlsafe(48)}", f"vk2.r.{secrets.token_urlsafe(48)}", secrets.token_urlsafe(64))
        self.issued.append(tokens)
        self.owners[tokens[0]] = user_id
        access, refresh, id_token = tokens
        return {"access_token": access, "refresh_token": refresh, "id_token": id_token, "token_type": "Bearer",
                "expires_in": 3600, "user_id": user_id}  # fmt: skip

    def owner(self, request: httpx.Request) -> dict[str, Any]:
        token = dict(parse_qsl(request.content.decode()))["access_token"]
        return ok([{"id": self.owners[token], "first_name": "Ann", "last_name": str(self.owners[token])}])


@pytest.fixture
def vk_id(fake_api: FakeVkApi) -> IssuingVkId:
    issuing = IssuingVkId()
    fake_api.on("/oauth2/auth", issuing.exchange).on("users.get", issuing.owner)
    return issuing


@pytest.fixture
def connector(fake_api: FakeVkApi, retry: RetryPolicy) -> SferumConnector:
    return SferumConnector(transport=fake_api.transport(), retry=retry)


@pytest.fixture
def redacted_root(caplog: pytest.LogCaptureFixture) -> Iterator[RedactingFilter]:
    root = logging.getLogger()
    caplog.set_level(logging.DEBUG)
    redacting = install_redaction(root)
    yield redacting
    root.removeFilter(redacting)
    for handler in root.handlers:
        handler.removeFilter(redacting)


def _masked(secret: str) -> bool:
    return redact_text(f"seen {secret} here") == "seen *** here"


def test_linking_a_thousand_profiles_leaves_the_registry_as_it_was(
    connector: SferumConnector, config: GatewayConfig, vk_id: IssuingVkId
) -> None:
    for n in range(1000):
        with connector.connect(config) as connection:
            profiles = GatewayProfiles(connection, APP_ID)
            verifier, code = profiles.new_verifier(), f"code-{n}-{secrets.token_urlsafe(24)}"
            user_id, _ = profiles.exchange(code=code, code_verifier=verifier, device_id="d", redirect_uri=REDIRECT_URI)
            link_secrets = [verifier, code, *vk_id.issued[-1]]
            # While the block lives, every secret of the link is masked wherever it shows up.
            assert all(_masked(secret) for secret in link_secrets), f"profile {n}: a live secret is not masked"
        kept = [secret for secret in link_secrets if _masked(secret)]
        assert kept == [], f"profile {n}: {len(kept)} secrets of the finished link are still held"
        if n == 0:
            held_after_one = redact.secrets_held()

    assert user_id == 1_000_999
    assert redact.secrets_held() == held_after_one, "the registry grew with the links"


def test_a_users_token_is_masked_in_logs_and_errors_while_its_client_lives(
    connector: SferumConnector,
    config: GatewayConfig,
    fake_api: FakeVkApi,
    vk_id: IssuingVkId,
    redacted_root: RedactingFilter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def refuse(request: httpx.Request) -> dict[str, Any]:
        # The reply quotes the token in a place no parameter name marks: only masking by value can catch it.
        token = dict(parse_qsl(request.content.decode()))["access_token"]
        return vk_error(5, f"User authorization failed: the key {token} is expired")

    fake_api.on("users.get", refuse)
    log = logging.getLogger("tests.gateway.secret_lifetimes")
    with connector.connect(config) as connection:
        profiles = GatewayProfiles(connection, APP_ID)
        with pytest.raises(AuthError) as caught:
            profiles.exchange(code="code-" + "c" * 40, code_verifier=profiles.new_verifier(), device_id="d",
                              redirect_uri=REDIRECT_URI)  # fmt: skip
        access, refresh, _ = vk_id.issued[-1]
        log.warning("the user's key %s and its refresh %s", access, refresh)

    assert "the key *** is expired" in str(caught.value)
    assert access not in str(caught.value)
    assert access not in repr(caught.value)
    assert "the user's key *** and its refresh ***" in caplog.text
    assert access not in caplog.text
    assert refresh not in caplog.text


def test_a_secret_two_blocks_share_stays_masked_until_both_end() -> None:
    registry = SecretRegistry()
    shared = "vk2.a.shared-SECRET-0000"

    with registry.scope() as first:
        first.add(shared)
        with registry.scope() as second:
            second.add(shared)
            second.add("vk2.a.second-SECRET-000")
            assert len(registry) == 2
        assert registry.redact(shared) == "***"
        assert registry.redact("vk2.a.second-SECRET-000") == "vk2.a.second-SECRET-000"

    assert len(registry) == 0
    assert registry.redact(shared) == shared


def test_lasting_credentials_outlive_every_scope() -> None:
    registry = SecretRegistry()
    register_secret("app-token-LASTING-0001", registry)

    with registry.scope() as scope:
        scope.add("app-token-LASTING-0001")
    register_secret("app-token-LASTING-0001", registry)

    assert len(registry) == 1
    assert registry.redact("x app-token-LASTING-0001") == "x ***"


def test_a_closed_scope_refuses_new_secrets() -> None:
    with redact.secret_scope() as scope:
        pass

    with pytest.raises(RuntimeError, match="closed"):
        scope.add("too-late-SECRET-0001")


def test_threads_opening_and_closing_scopes_leave_nothing_behind() -> None:
    registry = SecretRegistry()
    unmasked: list[str] = []

    def work(worker: int) -> None:
        for n in range(200):
            secret = f"thread-{worker}-secret-{n:04d}"
            with registry.scope() as scope:
                scope.add(secret)
                scope.add("shared-by-all-threads-0")
                if registry.redact(secret) != "***" or registry.redact("shared-by-all-threads-0") != "***":
                    unmasked.append(secret)

    threads = [threading.Thread(target=work, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert unmasked == []
    assert len(registry) == 0


def test_a_vk_id_client_of_its_own_lets_its_secrets_go_after_each_exchange(
    config: GatewayConfig, fake_api: FakeVkApi, retry: RetryPolicy, vk_id: IssuingVkId
) -> None:
    held_before = redact.secrets_held()
    with httpx.Client(transport=fake_api.transport()) as http:
        vkid = VkIdClient(config, APP_ID, http=http, retry=retry)
        for n in range(20):
            vkid.exchange_code(code=f"code-{n:04d}-abcdefgh", code_verifier="v" * 64, device_id="d",
                               redirect_uri=REDIRECT_URI)  # fmt: skip

    assert redact.secrets_held() == held_before
