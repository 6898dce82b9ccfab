"""The "check connection" button: are the three credentials from the module's settings accepted by Sferum?

Which token each check uses follows the schema's ``access_token_type`` (``<section>/methods.json``):

- service token: ``apps.get`` without ``app_id`` (apps/methods.json, ``access_token_type`` includes
  ``service``) answers the application the token was issued for;
- APP ID: ``apps.get(app_id=...)`` with the service token, and the APP ID must be that token's application;
- application token: ``users.get`` without ids (users/methods.json) answers the token's owner; the chat
  methods the product needs take ``user`` tokens (``messages.addChatUser`` takes nothing else), so a token
  that has no owner cannot run them.

An administrator waits for the answer, so each credential gets exactly one request (the caller passes a policy of
one attempt: no retry, no backoff) and the three requests go out together: with Sferum unreachable the page answers
within one connect timeout.  Verdicts are structured (:class:`CheckVerdict`, the application or owner found, the error):
the services put them into words in the page's language.
"""

from __future__ import annotations

import enum
from concurrent.futures import ThreadPoolExecutor
from typing import Literal, TypeVar

import attrs
import httpx

from sferum_plugin.gateway import operations
from sferum_plugin.gateway.client import SferumClient
from sferum_plugin.gateway.config import GatewayConfig
from sferum_plugin.gateway.domain import SferumApp, SferumUser
from sferum_plugin.gateway.errors import (
    AccessDeniedError,
    AuthError,
    InvalidParameterError,
    PermanentApiError,
    SferumError,
)
from sferum_plugin.gateway.operations import Operation
from sferum_plugin.gateway.ratelimit import RateLimiter
from sferum_plugin.gateway.retry import RetryPolicy

__all__ = ["CheckVerdict", "CredentialCheck", "CredentialName", "check_credentials"]

CredentialName = Literal["app_id", "service_token", "app_token"]


class CheckVerdict(enum.StrEnum):
    """What Sferum said about one credential."""

    ACCEPTED = "accepted"
    EMPTY = "empty"
    """The setting is blank (or, for the APP ID, not a positive number)."""
    REJECTED = "rejected"
    """Sferum refused the token (an authorisation or access error)."""
    REFUSED = "refused"
    """Sferum answered the check with another API error."""
    NO_ANSWER = "no_answer"
    """No usable answer: no connection, a timeout, an HTTP error, a reply that cannot be read, or a quota."""
    NO_APPLICATION = "no_application"
    """The service token names no application."""
    UNKNOWN_APP = "unknown_app"
    """Sferum knows no application with this APP ID."""
    OTHER_APP = "other_app"
    """The APP ID is an application, but not the service token's."""
    NOT_CHECKED = "not_checked"
    """The APP ID could not be checked because the service token was not accepted."""
    NO_OWNER = "no_owner"
    """The application token belongs to no user."""


@attrs.frozen
class CredentialCheck:
    """The verdict on one credential.

    :param name: the application's title (service token, APP ID) or the owner's name (application token).
    :param number: the application's id or the owner's id; for ``OTHER_APP`` the service token's application.
    :param error: the failure behind ``REJECTED``, ``REFUSED`` and ``NO_ANSWER`` (secrets masked).
    """

    credential: CredentialName
    verdict: CheckVerdict
    name: str = ""
    number: int | None = None
    error: SferumError | None = None

    @property
    def ok(self) -> bool:
        """Whether Sferum accepted the credential."""
        return self.verdict is CheckVerdict.ACCEPTED


def _failed(credential: CredentialName, error: SferumError) -> CredentialCheck:
    if isinstance(error, AuthError | AccessDeniedError):
        return CredentialCheck(credential, CheckVerdict.REJECTED, error=error)
    if isinstance(error, PermanentApiError):
        return CredentialCheck(credential, CheckVerdict.REFUSED, error=error)
    return CredentialCheck(credential, CheckVerdict.NO_ANSWER, error=error)


Outcome = TypeVar("Outcome")


def _attempt(client: SferumClient | None, operation: Operation[Outcome]) -> Outcome | SferumError | None:
    """The operation's value, or the error it failed with; ``None`` when there is no token to send it with."""
    if client is None:
        return None
    try:
        return client.call(operation)
    except SferumError as error:
        return error


def check_credentials(
    config: GatewayConfig,
    *,
    app_id: int,
    service_token: str,
    app_token: str,
    http: httpx.Client,
    retry: RetryPolicy | None = None,
    limiter: RateLimiter | None = None,
) -> list[CredentialCheck]:
    """Check APP ID, service token and application token against Sferum; return one verdict each, in that
    order.  Never raises a gateway error: every failure becomes a verdict naming the wrong credential.

    :param retry: the checks' retry policy (:meth:`SferumConnection.check_credentials` passes one attempt).
    :param limiter: the process's shared rate limiter.
    """
    limiter = limiter or RateLimiter(config.requests_per_second, config.burst)

    def client(token: str) -> SferumClient:
        return SferumClient(config, token, http=http, limiter=limiter, retry=retry)

    service = client(service_token) if service_token.strip() else None
    owner = client(app_token) if app_token.strip() else None
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="sferum-check") as pool:
        # One request per credential, all at once: the answer comes within one timeout whatever happens.
        service_apps = pool.submit(_attempt, service, operations.apps())
        wanted_apps = pool.submit(_attempt, service if app_id > 0 else None, operations.apps(app_id=max(app_id, 1)))
        owners = pool.submit(_attempt, owner, operations.users())
        service_check = _service_verdict(service_apps.result())
        app_check = _app_id_verdict(app_id, wanted_apps.result(), service_check)
        owner_check = _owner_verdict(owners.result())
    return [app_check, service_check, owner_check]


def _service_verdict(found: list[SferumApp] | SferumError | None) -> CredentialCheck:
    if found is None:
        return CredentialCheck("service_token", CheckVerdict.EMPTY)
    if isinstance(found, SferumError):
        return _failed("service_token", found)
    if not found:
        return CredentialCheck("service_token", CheckVerdict.NO_APPLICATION)
    return CredentialCheck("service_token", CheckVerdict.ACCEPTED, name=found[0].title, number=found[0].id)


def _app_id_verdict(
    app_id: int, found: list[SferumApp] | SferumError | None, service: CredentialCheck
) -> CredentialCheck:
    if app_id <= 0:
        return CredentialCheck("app_id", CheckVerdict.EMPTY)
    if service.verdict in (CheckVerdict.EMPTY, CheckVerdict.REJECTED):
        return CredentialCheck("app_id", CheckVerdict.NOT_CHECKED)
    if isinstance(found, InvalidParameterError):
        found = []
    if found is None or isinstance(found, SferumError):
        return _failed("app_id", found) if found is not None else CredentialCheck("app_id", CheckVerdict.NOT_CHECKED)
    app = next((item for item in found if item.id == app_id), None)
    if app is None:
        return CredentialCheck("app_id", CheckVerdict.UNKNOWN_APP, number=app_id)
    if service.ok and service.number != app_id:
        return CredentialCheck("app_id", CheckVerdict.OTHER_APP, name=app.title, number=service.number)
    return CredentialCheck("app_id", CheckVerdict.ACCEPTED, name=app.title, number=app_id)


def _owner_verdict(found: list[SferumUser] | SferumError | None) -> CredentialCheck:
    if found is None:
        return CredentialCheck("app_token", CheckVerdict.EMPTY)
    if isinstance(found, SferumError):
        return _failed("app_token", found)
    if len(found) != 1:
        return CredentialCheck("app_token", CheckVerdict.NO_OWNER)
    return CredentialCheck("app_token", CheckVerdict.ACCEPTED, name=found[0].full_name, number=found[0].id)
