"""Connecting services to Sferum from the module's settings: the only place that turns settings into clients.

Pages, jobs and the CLI receive one :class:`SferumAccess` (the plugin object holds it, see
:mod:`sferum_plugin.plugin`) and never build a client themselves.  Services depend on small Protocols
(:class:`~sferum_plugin.services.lessons.CallsApi`, :class:`~sferum_plugin.services.profiles.ProfileApi`,
:class:`~sferum_plugin.services.sync.api.ChatsApi`); the adapters here implement them with the gateway, so tests can
pass fakes and production code has no sandbox branches: only the configured base URLs differ.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from sferum_plugin.gateway import CredentialCheck, GatewayConfig, SferumClient
from sferum_plugin.gateway.connector import CHECK_POLICY, SferumConnection, SferumConnector
from sferum_plugin.gateway.domain import StartedCall
from sferum_plugin.gateway.errors import InvalidParameterError, NotFoundError
from sferum_plugin.gateway.max import MaxBot, MaxClient, MaxConfig
from sferum_plugin.gateway.vkid import code_challenge_s256, generate_code_verifier
from sferum_plugin.services.lessons import CallsFactory
from sferum_plugin.settings import MaxSettings, SferumSettings

__all__ = ["GatewayCalls", "GatewayProfiles", "SferumAccess", "gateway_config", "max_config"]


def gateway_config(settings: SferumSettings) -> GatewayConfig:
    """The gateway's configuration from the module's settings."""
    return GatewayConfig(
        api_base_url=settings.api_base_url,
        id_base_url=settings.id_base_url,
        api_version=settings.api_version,
        timeout_seconds=settings.timeout_seconds,
        requests_per_second=settings.requests_per_second,
    )


def max_config(settings: MaxSettings) -> MaxConfig:
    """The MAX client's configuration from the module's settings."""
    return MaxConfig(base_url=settings.api_url, timeout_seconds=settings.timeout_seconds)


class SferumAccess:
    """Sferum for the module's services, from its settings: the organisation's client, calls, profile linking and
    the credential check, each over a connection that is closed when its block ends.

    :param connector: the gateway's connector (transport, retry policy, the process's rate limiters).
    """

    def __init__(self, connector: SferumConnector | None = None) -> None:
        self.connector = connector or SferumConnector()

    def __repr__(self) -> str:
        return f"SferumAccess({self.connector!r})"

    @contextmanager
    def _connect(self, settings: SferumSettings, *, share: int = 1) -> Iterator[SferumConnection]:
        with self.connector.connect(gateway_config(settings), share=share) as connection:
            yield connection

    @contextmanager
    def organisation(self, settings: SferumSettings, *, share: int = 1) -> Iterator[SferumClient]:
        """A client acting for the organisation (the application token): chats and their members.

        :param share: how many workers divide the configured rate (the sync workers running at once).
        """
        with self._connect(settings, share=share) as connection:
            yield connection.client(settings.app_token)

    @contextmanager
    def calls(self) -> Iterator[CallsFactory]:
        """A factory of :class:`GatewayCalls` whose connections stay open until the block ends."""
        with ExitStack() as stack:
            yield lambda settings: GatewayCalls(stack.enter_context(self.organisation(settings)))

    @contextmanager
    def profiles(self, settings: SferumSettings) -> Iterator[GatewayProfiles]:
        """VK ID profile linking for the organisation's APP ID."""
        with self._connect(settings) as connection:
            yield GatewayProfiles(connection, settings.app_id)

    def check_credentials(self, settings: SferumSettings) -> list[CredentialCheck]:
        """«Проверить подключение»: one verdict per credential of ``settings``."""
        with self._connect(settings) as connection:
            return connection.check_credentials(
                app_id=settings.app_id, service_token=settings.service_token, app_token=settings.app_token
            )

    @contextmanager
    def bot(self, settings: MaxSettings, *, share: int = 1) -> Iterator[MaxClient]:
        """The MAX bot's client (chats, members, messages, events), over a connection closed when the block ends.

        :param share: how many workers divide MAX's 30 requests per second (the sync workers running at once).
        """
        with self.connector.connect_max(max_config(settings), settings.bot_token, share=share) as client:
            yield client

    def check_max_bot(self, settings: MaxSettings) -> MaxBot:
        """«Проверить подключение» on MAX: the bot the token belongs to (``GET /me``), asked once within the
        configured timeout (:data:`~sferum_plugin.gateway.connector.CHECK_POLICY`).

        :raises SferumError: MAX refused the token, did not answer, or answered something unreadable.
        """
        with self.connector.connect_max(max_config(settings), settings.bot_token, retry=CHECK_POLICY) as client:
            return client.get_me()


class GatewayCalls:
    """Calls (online lessons) with the organisation's application token."""

    def __init__(self, client: SferumClient) -> None:
        self._client = client

    def start_call(self) -> StartedCall:
        return self._client.start_call()

    def finish_call(self, call_id: str) -> bool:
        try:
            self._client.finish_call(call_id)
        except (NotFoundError, InvalidParameterError):
            # A call that is already over or unknown: nothing is left running, which is what ending asks for.
            # Assumption (docs/sferum-api.md): Sferum answers 104 "Not found" (errors.json api_error_not_found) for
            # it, as the sandbox does; the schema lists no errors for calls.*, so 100 is taken the same way.
            return False
        return True


class GatewayProfiles:
    """VK ID (profile linking) for the organisation's APP ID."""

    def __init__(self, connection: SferumConnection, app_id: int) -> None:
        self._connection = connection
        self._vkid = connection.vkid(app_id)

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
        owner = self._connection.client(tokens.access_token).get_token_owner()
        return tokens.user_id, owner.full_name
