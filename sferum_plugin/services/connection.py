"""Connecting services to Sferum: gateway clients built from the module's settings.

Services depend on small Protocols (:class:`~sferum_plugin.services.lessons.CallsApi`,
:class:`~sferum_plugin.services.profiles.ProfileApi`); the adapters here implement them with the gateway, so tests
can pass fakes and production code has no sandbox branches: only the configured base URLs differ.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING

import httpx

from sferum_plugin.gateway import GatewayConfig, RateLimiter, SferumClient, VkIdClient
from sferum_plugin.gateway.domain import StartedCall
from sferum_plugin.gateway.errors import InvalidParameterError
from sferum_plugin.gateway.vkid import code_challenge_s256, generate_code_verifier
from sferum_plugin.settings import SferumSettings

if TYPE_CHECKING:
    from sferum_plugin.services.lessons import CallsFactory

__all__ = [
    "GatewayCalls",
    "GatewayProfiles",
    "gateway_calls",
    "gateway_config",
    "http_client",
    "org_client",
    "shared_limiter",
]


def gateway_config(settings: SferumSettings) -> GatewayConfig:
    """The gateway's configuration from the module's settings."""
    return GatewayConfig(
        api_base_url=settings.api_base_url,
        id_base_url=settings.id_base_url,
        api_version=settings.api_version,
        timeout_seconds=settings.timeout_seconds,
        requests_per_second=settings.requests_per_second,
    )


@functools.cache
def shared_limiter(requests_per_second: float, burst: int) -> RateLimiter:
    """The process's rate limiter for a given pace.

    One per process on purpose: Sferum counts requests per token, so every thread of a worker must draw from the
    same buckets (the limiter keys them by a hash of the token). A change of the configured pace gets a new one.
    """
    return RateLimiter(requests_per_second, burst)


@contextmanager
def http_client(settings: SferumSettings) -> Iterator[httpx.Client]:
    """An HTTP client with the configured timeout, closed when the block ends."""
    with httpx.Client(timeout=settings.timeout_seconds) as client:
        yield client


@contextmanager
def gateway_calls() -> Iterator[CallsFactory]:
    """A factory of :class:`GatewayCalls` whose HTTP clients stay open until the block ends."""
    with ExitStack() as stack:
        yield lambda settings: GatewayCalls(settings, stack.enter_context(http_client(settings)))


class GatewayCalls:
    """Calls (online lessons) with the organisation's application token."""

    def __init__(self, settings: SferumSettings, http: httpx.Client) -> None:
        config = gateway_config(settings)
        self._client = SferumClient(
            config, settings.app_token, http=http, limiter=shared_limiter(config.requests_per_second, config.burst)
        )

    def start_call(self) -> StartedCall:
        return self._client.start_call()

    def finish_call(self, call_id: str) -> bool:
        try:
            self._client.finish_call(call_id)
        except InvalidParameterError:
            # Assumption (docs/sferum-api.md): Sferum answers 100 for a call that is already over or unknown;
            # either way nothing is left running, which is what ending asks for.
            return False
        return True


class GatewayProfiles:
    """VK ID (profile linking) for the organisation's APP ID."""

    def __init__(self, settings: SferumSettings, http: httpx.Client) -> None:
        self._settings = settings
        self._http = http
        self._vkid = VkIdClient(gateway_config(settings), settings.app_id, http=http)

    def new_verifier(self) -> str:
        return generate_code_verifier()

    def authorize_url(self, *, state: str, code_verifier: str, redirect_uri: str) -> str:
        return self._vkid.authorize_url(
            redirect_uri=redirect_uri,
            state=state,
            code_challenge=code_challenge_s256(code_verifier),
            scope="vkid.personal_info",
        )

    def exchange(self, *, code: str, code_verifier: str, device_id: str, redirect_uri: str) -> tuple[int, str]:
        tokens = self._vkid.exchange_code(
            code=code, code_verifier=code_verifier, device_id=device_id, redirect_uri=redirect_uri
        )
        # The user's own token serves once, to read the profile's name; it is not kept (PRODUCT.md §1).
        config = gateway_config(self._settings)
        owner = SferumClient(config, tokens.access_token, http=self._http).get_token_owner()
        return tokens.user_id, owner.full_name


def org_client(settings: SferumSettings, http: httpx.Client, *, share: int = 1) -> SferumClient:
    """A client acting for the organisation (the application token): chats and their members.

    :param share: how many workers divide the configured rate (the sync workers running at once).
    """
    config = gateway_config(settings)
    rate, burst = config.requests_per_second / max(1, share), max(1, config.burst // max(1, share))
    return SferumClient(config, settings.app_token, http=http, limiter=shared_limiter(rate, burst))
