"""The one way in to Sferum: every client the module uses is built here, from one transport and one retry policy.

A :class:`SferumConnector` lives as long as the module's plugin object (one per process).  It owns what must be
shared by every sender of the process — the rate limiters, one per pace over one log of send times keyed by token —
and what tests replace: the HTTP transport (``httpx.MockTransport``, ``httpx.WSGITransport`` around the sandbox) and
the retry policy (one without waits).  :meth:`SferumConnector.connect` opens one HTTP client for a block of work and
yields a :class:`SferumConnection` that builds the organisation's client, a user's client, the VK ID client and the
credential checks over it; the HTTP client is closed when the block ends.  :meth:`SferumConnector.connect_max` does
the same for MAX's Bot API and yields the bot's :class:`~sferum_plugin.gateway.max.MaxClient`.  Each ``connect``
block also opens a secret scope (:mod:`~sferum_plugin.gateway.redact`): the short-lived secrets its clients meet are
masked by value until the block ends, and no longer.

Nothing outside ``sferum_plugin/gateway/`` imports httpx: services receive clients from here.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from sferum_plugin.gateway.client import SferumClient
from sferum_plugin.gateway.config import GatewayConfig
from sferum_plugin.gateway.credentials import CredentialCheck, check_credentials
from sferum_plugin.gateway.max import MaxClient, MaxConfig
from sferum_plugin.gateway.ratelimit import RateLimiter
from sferum_plugin.gateway.redact import SecretScope, secret_scope
from sferum_plugin.gateway.retry import RetryPolicy
from sferum_plugin.gateway.vkid import VkIdClient

__all__ = ["CHECK_POLICY", "SferumConnection", "SferumConnector"]

CHECK_POLICY = RetryPolicy(max_attempts=1)
"""The credential check's retry policy: one attempt, so no backoff either (the timeout is the configured one)."""


class SferumConnector:
    """Builds the gateway's clients; one per process, shared by pages, jobs and the CLI.

    :param transport: the HTTP transport (``None``: httpx's own, over the network).
    :param retry: the retry policy of every client (``None``: :meth:`RetryPolicy.from_config` of each config).
    :param pacing: the limiter whose send log every limiter of the connector shares (tests pass one on a fake
        clock); its own pace is not used.
    """

    def __init__(
        self,
        *,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        pacing: RateLimiter | None = None,
    ) -> None:
        self._transport = transport
        self._retry = retry
        self._pacing = pacing or RateLimiter()
        self._limiters: dict[tuple[float, int, float], RateLimiter] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SferumConnector(transport={type(self._transport).__name__}, retry={self._retry!r})"

    def limiter(self, requests_per_second: float, burst: int, *, margin: float = 0.0) -> RateLimiter:
        """The limiter for a pace, shared by every client of this connector.

        Sferum counts requests per token, so every sender of the process must see the same send times (the limiter
        keys them by a hash of the token).  A change of the configured pace gets a new limiter over the same send
        log, so that senders at different paces together never exceed the faster one.
        """
        with self._lock:
            key = (requests_per_second, burst, margin)
            if key not in self._limiters:
                self._limiters[key] = self._pacing.at(requests_per_second, burst, margin=margin)
            return self._limiters[key]

    def retry_policy(self, config: GatewayConfig) -> RetryPolicy:
        """The retry policy for clients of ``config``."""
        return self._retry if self._retry is not None else RetryPolicy.from_config(config)

    @contextmanager
    def connect(self, config: GatewayConfig, *, share: int = 1) -> Iterator[SferumConnection]:
        """Open one HTTP client for a block of work; it is closed when the block ends, and the secrets the block
        met (its tokens, VK ID's codes, verifiers and tokens) are no longer masked by value (their names still are).

        :param share: how many workers divide the configured rate (the sync workers running at once).
        """
        share = max(1, share)
        rate, burst = config.requests_per_second / share, max(1, config.burst // share)
        limiter = self.limiter(rate, burst, margin=config.pacing_margin)
        with secret_scope() as secrets, httpx.Client(transport=self._transport, timeout=config.timeout_seconds) as http:
            yield SferumConnection(config, http, limiter, self.retry_policy(config), secrets)

    @contextmanager
    def connect_max(
        self, config: MaxConfig, token: str, *, share: int = 1, retry: RetryPolicy | None = None
    ) -> Iterator[MaxClient]:
        """Open one HTTP client for a block of work with MAX and yield the client of the bot ``token``.

        :param share: how many workers divide the configured rate (MAX counts requests per bot).
        :param retry: this block's retry policy instead of the connector's (the connection check passes
            :data:`CHECK_POLICY`: a person waits for it).
        """
        share = max(1, share)
        rate, burst = config.requests_per_second / share, max(1, config.burst // share)
        if retry is None:
            retry = self._retry if self._retry is not None else RetryPolicy(max_attempts=config.max_attempts)
        with httpx.Client(transport=self._transport, timeout=config.timeout_seconds) as http:
            yield MaxClient(config, token, http=http, limiter=self.limiter(rate, burst), retry=retry)


class SferumConnection:
    """The clients of one block of work, over one open HTTP client.

    :param secrets: the block's secret scope: every token given to or received by its clients is masked by value
        until the block ends, and only so long (a process links thousands of profiles).
    """

    def __init__(
        self, config: GatewayConfig, http: httpx.Client, limiter: RateLimiter, retry: RetryPolicy, secrets: SecretScope
    ) -> None:
        self.config = config
        self._http = http
        self._limiter = limiter
        self._retry = retry
        self._secrets = secrets

    def client(self, token: str) -> SferumClient:
        """A client acting with ``token``: the organisation's application token, or a user's own token."""
        return SferumClient(
            self.config, token, http=self._http, limiter=self._limiter, retry=self._retry, secrets=self._secrets
        )

    def vkid(self, app_id: int) -> VkIdClient:
        """VK ID (profile linking) for the application ``app_id``."""
        return VkIdClient(self.config, app_id, http=self._http, retry=self._retry, secrets=self._secrets)

    def check_credentials(self, *, app_id: int, service_token: str, app_token: str) -> list[CredentialCheck]:
        """«Проверить подключение»: one verdict per credential (see :func:`check_credentials`).

        A person waits for it, so it has its own policy, :data:`CHECK_POLICY`: one attempt per credential within
        the configured timeout, never the retries and backoff of the work that can wait.
        """
        return check_credentials(
            self.config,
            app_id=app_id,
            service_token=service_token,
            app_token=app_token,
            http=self._http,
            retry=CHECK_POLICY,
            limiter=self._limiter,
        )
