"""The "check connection" button: are the three credentials from the module's settings accepted by Sferum?

Which token each check uses follows the schema's ``access_token_type`` (``<section>/methods.json``):

- service token: ``apps.get`` without ``app_id`` (apps/methods.json, ``access_token_type`` includes
  ``service``) answers the application the token was issued for;
- APP ID: ``apps.get(app_id=...)`` with the service token, and the APP ID must be that token's application;
- application token: ``users.get`` without ids (users/methods.json) answers the token's owner; the chat
  methods the product needs take ``user`` tokens (``messages.addChatUser`` takes nothing else), so a token
  that has no owner cannot run them.

Messages are English; the settings page translates them.
"""

from __future__ import annotations

from typing import Literal

import attrs
import httpx

from sferum_plugin.gateway import operations
from sferum_plugin.gateway.client import SferumClient
from sferum_plugin.gateway.config import GatewayConfig
from sferum_plugin.gateway.domain import SferumApp
from sferum_plugin.gateway.errors import (
    AccessDeniedError,
    ApiError,
    AuthError,
    InvalidParameterError,
    SferumError,
)
from sferum_plugin.gateway.ratelimit import RateLimiter
from sferum_plugin.gateway.retry import RetryPolicy

__all__ = ["CredentialCheck", "CredentialName", "check_credentials"]

CredentialName = Literal["app_id", "service_token", "app_token"]


@attrs.frozen
class CredentialCheck:
    """The verdict on one credential, with a sentence for the administrator."""

    credential: CredentialName
    ok: bool
    message: str


def _failure_text(credential: str, error: SferumError) -> str:
    if isinstance(error, AuthError | AccessDeniedError):
        return f"The {credential} was rejected by Sferum (error {error.code}: {error.error_msg})."
    if isinstance(error, ApiError):
        return f"Sferum refused the {credential} check (error {error.code}: {error.error_msg})."
    return f"Could not check the {credential}: {error.message}."


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

    :param retry: retry policy of the checks (tests pass one without waits).
    :param limiter: the process's shared rate limiter.
    """
    limiter = limiter or RateLimiter(config.requests_per_second, config.burst)
    service_check, service_app, service_client = _check_service_token(config, service_token, http, retry, limiter)
    if service_client is None:
        app_check = CredentialCheck(
            "app_id", False, "The APP ID could not be checked because the service token is not valid."
        )
    else:
        app_check = _check_app_id(service_client, app_id, service_app)
    return [app_check, service_check, _check_app_token(config, app_token, http, retry, limiter)]


def _check_service_token(
    config: GatewayConfig,
    token: str,
    http: httpx.Client,
    retry: RetryPolicy | None,
    limiter: RateLimiter,
) -> tuple[CredentialCheck, SferumApp | None, SferumClient | None]:
    if not token.strip():
        return CredentialCheck("service_token", False, "The service token is empty."), None, None
    client = SferumClient(config, token, http=http, limiter=limiter, retry=retry)
    try:
        found = client.call(operations.apps())
    except SferumError as error:
        # A rejected token cannot check the APP ID either; after a network failure it may still try.
        usable = None if isinstance(error, AuthError | AccessDeniedError) else client
        return CredentialCheck("service_token", False, _failure_text("service token", error)), None, usable
    if not found:
        text = "The service token is not an application's service token (Sferum names no application)."
        return CredentialCheck("service_token", False, text), None, client
    app = found[0]
    text = f"The service token belongs to application “{app.title}” (APP ID {app.id})."
    return CredentialCheck("service_token", True, text), app, client


def _check_app_id(client: SferumClient, app_id: int, service_app: SferumApp | None) -> CredentialCheck:
    if app_id <= 0:
        return CredentialCheck("app_id", False, "The APP ID must be a positive number.")
    try:
        found = client.call(operations.apps(app_id=app_id))
    except InvalidParameterError:
        found = []
    except SferumError as error:
        return CredentialCheck("app_id", False, _failure_text("APP ID", error))
    app = next((item for item in found if item.id == app_id), None)
    if app is None:
        return CredentialCheck("app_id", False, f"Sferum knows no application with APP ID {app_id}.")
    if service_app is not None and service_app.id != app_id:
        text = (
            f"The APP ID {app_id} (“{app.title}”) is not the application of the service token "
            f"(APP ID {service_app.id}): one of the two is wrong."
        )
        return CredentialCheck("app_id", False, text)
    return CredentialCheck("app_id", True, f"APP ID {app_id} is application “{app.title}”.")


def _check_app_token(
    config: GatewayConfig,
    token: str,
    http: httpx.Client,
    retry: RetryPolicy | None,
    limiter: RateLimiter,
) -> CredentialCheck:
    if not token.strip():
        return CredentialCheck("app_token", False, "The application token is empty.")
    client = SferumClient(config, token, http=http, limiter=limiter, retry=retry)
    try:
        owners = client.call(operations.users())
    except SferumError as error:
        return CredentialCheck("app_token", False, _failure_text("application token", error))
    if len(owners) != 1:
        text = "The application token belongs to no user; chats and calls need a user's token."
        return CredentialCheck("app_token", False, text)
    owner = owners[0]
    return CredentialCheck(
        "app_token", True, f"The application token acts as {owner.full_name or 'user'} (id {owner.id})."
    )
