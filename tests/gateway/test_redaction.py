"""No token ever reaches a log line, an error message, its repr, or the parameters an error carries."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import httpx
import pytest

from sferum_plugin.gateway import (
    GatewayConfig,
    RateLimiter,
    RedactingFilter,
    RetryPolicy,
    SferumClient,
    SferumError,
    VkIdClient,
    install_redaction,
    operations,
    register_secret,
)
from sferum_plugin.gateway.redact import SecretRegistry, redact_text, scrub_params
from tests.gateway.conftest import TOKEN
from tests.gateway.fakes import FakeVkApi, vk_error


@pytest.fixture
def redacted_root(caplog: pytest.LogCaptureFixture) -> Iterator[RedactingFilter]:
    root = logging.getLogger()
    caplog.set_level(logging.DEBUG)
    redacting = install_redaction(root)
    yield redacting
    root.removeFilter(redacting)
    for handler in root.handlers:
        handler.removeFilter(redacting)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("access_token=abc123&v=5.199", "access_token=***&v=5.199"),
        ("{'token': 'abc123', 'title': 'x'}", "{'token': '***', 'title': 'x'}"),
        ('{"code_verifier": "abc123"}', '{"code_verifier": "***"}'),
        ("refresh_token: abc123", "refresh_token: ***"),
        ("Authorization: Bearer abc.def-123", "Authorization: Bearer ***"),
        ("error_code=5 user_id=7", "error_code=5 user_id=7"),
    ],
)
def test_secret_parameters_are_masked_by_name(text: str, expected: str) -> None:
    assert redact_text(text, SecretRegistry()) == expected


def test_registered_secrets_are_masked_anywhere() -> None:
    registry = SecretRegistry()
    registry.register("s3cr3t-value-xyz")
    registry.register("short")  # too short to mask safely: ignored

    assert registry.redact("url?x=s3cr3t-value-xyz;s3cr3t-value-xyz") == "url?x=***;***"
    assert registry.redact("a short text") == "a short text"


def test_scrubbed_params_drop_secret_names_and_mask_secret_values() -> None:
    register_secret(TOKEN)
    params = {"access_token": TOKEN, "token": "t", "code_verifier": "v", "title": f"x {TOKEN}", "chat_id": 7}

    assert scrub_params(params) == {"title": "x ***", "chat_id": "7"}


def test_the_filter_masks_messages_arguments_and_tracebacks(
    redacted_root: RedactingFilter, caplog: pytest.LogCaptureFixture
) -> None:
    register_secret(TOKEN)
    log = logging.getLogger("tests.gateway.redaction")

    log.info("calling with %s", {"access_token": TOKEN, "v": "5.199"})
    log.warning("token is %s", TOKEN)
    try:
        raise RuntimeError(f"failed with {TOKEN}")
    except RuntimeError:
        log.exception("boom")

    assert TOKEN not in caplog.text
    assert "'access_token': '***'" in caplog.text
    assert "token is ***" in caplog.text
    assert "RuntimeError: failed with ***" in caplog.text


def test_installing_twice_adds_one_filter() -> None:
    logger = logging.getLogger("tests.gateway.redaction.twice")
    handler = logging.NullHandler()
    logger.addHandler(handler)
    try:
        first = install_redaction(logger)
        second = install_redaction(logger)
        assert first is second
        assert logger.filters == [first]
        assert handler.filters == [first]
    finally:
        logger.removeHandler(handler)
        logger.removeFilter(first)


def test_no_token_in_gateway_logs_or_errors(
    config: GatewayConfig,
    fake_api: FakeVkApi,
    http: httpx.Client,
    retry: RetryPolicy,
    limiter: RateLimiter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # No redaction filter here: the gateway itself must not log tokens.
    caplog.set_level(logging.DEBUG)
    client = SferumClient(config, TOKEN, http=http, limiter=limiter, retry=retry)
    vkid = VkIdClient(config, 51, http=http, retry=retry)

    def timeout(request: httpx.Request) -> None:
        raise httpx.ReadTimeout(f"timed out {TOKEN}", request=request)

    fake_api.on("messages.editChat", vk_error(10), timeout, vk_error(5, f"invalid access_token={TOKEN}"))
    fake_api.on("messages.createChat", timeout)
    fake_api.on("execute", httpx.Response(503), vk_error(6), vk_error(15))
    fake_api.on("/oauth2/auth", httpx.Response(400, json={"error": "invalid_grant", "error_description": "bad code"}))

    raised: list[SferumError] = []
    actions: list[Callable[[], object]] = [
        lambda: client.rename_chat(7, "New"),
        lambda: client.create_chat("t", [1]),
        lambda: client.execute_batch([operations.add_chat_member(7, 1)])[0].unwrap(),
        lambda: vkid.exchange_code(
            code="CODE-SECRET-0987654321", code_verifier="V" * 64, device_id="d", redirect_uri="https://x"
        ),
    ]
    for action in actions:
        with pytest.raises(SferumError) as caught:
            action()
        raised.append(caught.value)

    logging.getLogger("tests.gateway.redaction").error("failures: %r", raised)
    for secret in (TOKEN, "CODE-SECRET-0987654321", "V" * 64):
        assert secret not in caplog.text
        for error in raised:
            assert secret not in str(error)
            assert secret not in repr(error)
            assert secret not in str(error.request_params)
            assert secret not in str(error.__cause__ or "")
    assert "messages.editChat" in caplog.text
    assert TOKEN not in repr(client)
