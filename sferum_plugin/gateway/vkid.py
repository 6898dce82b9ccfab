"""Profile linking through VK ID: OAuth 2.1 authorization code flow with PKCE (client_id = the APP ID).

1. :meth:`VkIdClient.start_authorization` makes a code verifier, its S256 challenge and a random ``state``
   and builds ``{id_base_url}/authorize?...``; the caller keeps verifier and state in the user's session.
2. VK ID redirects back with ``code``, ``state`` and ``device_id``; :func:`read_redirect` checks the state.
3. :meth:`VkIdClient.exchange_code` posts them to ``{id_base_url}/oauth2/auth`` and returns
   :class:`VkIdTokens`.

PKCE follows RFC 7636 as VK ID narrows it (its API description, id.vk.com ".../api-integration/api-description"):
a verifier of 43 to 128 characters of ``a-z A-Z 0-9 _ -`` and ``code_challenge_method=s256``, in lower case as VK
writes it there and as VK's web SDK sends it (VKCOM/vkid-web-sdk, src/auth/auth.ts, ``CODE_CHALLENGE_METHOD``); the
endpoints and parameters follow VK ID's documentation (id.vk.com/about/business/go/docs).  Unlike VK's web SDK,
which puts every token parameter but ``code`` in the query string, the exchange sends them all in the form body:
the verifier is a secret, and secrets never travel in a URL (VK ID takes each parameter from either place).
Codes are single-use, so the exchange is not idempotent: after an ambiguous failure it raises OutcomeUnknownError
instead of repeating.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import string
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from urllib.parse import urlencode

import attrs
import httpx

from sferum_plugin.gateway._exchange import json_object, post_form
from sferum_plugin.gateway._parse import ReplyReader
from sferum_plugin.gateway.config import GatewayConfig
from sferum_plugin.gateway.errors import StateMismatchError, vkid_error_class
from sferum_plugin.gateway.redact import SecretScope, scrub_params, secret_scope
from sferum_plugin.gateway.retry import RetryPolicy

__all__ = [
    "AuthorizationRequest",
    "AuthorizationResponse",
    "VkIdClient",
    "VkIdTokens",
    "code_challenge_s256",
    "generate_code_verifier",
    "generate_state",
    "read_redirect",
]

VERIFIER_ALPHABET = string.ascii_letters + string.digits + "_-"
"""The characters of a code verifier: VK ID allows ``a-z, A-Z, 0-9, _, -`` (its API description; VK's web SDK makes
verifiers with nanoid, whose alphabet is the same), a subset of RFC 7636's unreserved set without ``.`` and ``~``."""

CHALLENGE_METHOD = "s256"
"""``code_challenge_method`` as VK ID's API description writes it and VK's web SDK sends it."""

_EXCHANGE_PATH = "oauth2/auth"


def generate_code_verifier(length: int = 64) -> str:
    """Return a random PKCE code verifier of ``length`` (43 to 128) characters of :data:`VERIFIER_ALPHABET`."""
    if not 43 <= length <= 128:
        raise ValueError("a code verifier has 43 to 128 characters (RFC 7636 §4.1)")
    # Not registered for masking by value: it waits in the link request's row, maybe for minutes, and is masked by
    # name (``code_verifier``) meanwhile; the exchange that sends it masks it by value while it runs.
    return "".join(secrets.choice(VERIFIER_ALPHABET) for _ in range(length))  # 6 bits of entropy a character


def code_challenge_s256(verifier: str) -> str:
    """Return ``BASE64URL(SHA256(verifier))`` without padding (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def generate_state() -> str:
    """Return a random, unguessable ``state`` (binds the redirect to the session that started it)."""
    return secrets.token_urlsafe(32)


@attrs.frozen
class AuthorizationRequest:
    """Where to send the user, and what to keep in their session until VK ID sends them back."""

    url: str
    state: str
    redirect_uri: str
    code_verifier: str = attrs.field(repr=False)


@attrs.frozen
class AuthorizationResponse:
    """What VK ID's redirect brought back (the state already checked)."""

    code: str = attrs.field(repr=False)
    device_id: str
    state: str


@attrs.frozen
class VkIdTokens:
    """VK ID's answer to a code exchange or refresh; the tokens never appear in ``repr``."""

    user_id: int
    access_token: str = attrs.field(repr=False)
    expires_in: int
    refresh_token: str | None = attrs.field(default=None, repr=False)
    id_token: str | None = attrs.field(default=None, repr=False)
    token_type: str = "Bearer"  # noqa: S105  # the OAuth token type, not a secret
    scope: str = ""
    state: str | None = None


def read_redirect(query: Mapping[str, str], *, expected_state: str) -> AuthorizationResponse:
    """Check the redirect's query parameters and return the authorization code.

    :raises StateMismatchError: ``state`` is missing or not the one sent (possible CSRF).
    :raises VkIdError: VK ID redirected with an error (the user declined, ...).
    """
    state = query.get("state", "")
    if not secrets.compare_digest(state.encode(), expected_state.encode()):
        raise StateMismatchError("state_mismatch", "the redirect's state is not the one sent", method="authorize")
    if "error" in query:
        error = query["error"]
        raise vkid_error_class(error)(error, query.get("error_description", ""), method="authorize")
    code, device_id = query.get("code", ""), query.get("device_id", "")
    if not code or not device_id:
        raise vkid_error_class("invalid_request")(
            "invalid_request", "the redirect lacks code or device_id", method="authorize"
        )
    return AuthorizationResponse(code=code, device_id=device_id, state=state)


class VkIdClient:
    """VK ID endpoints for one application.

    :param client_id: the APP ID.
    :param http: the HTTP client.
    :param retry: retry policy (the exchange is never repeated after an ambiguous failure).
    :param secrets: the scope of the block of work the client belongs to: the codes, verifiers and tokens it
        handles are masked by value until the block ends.  Without one, each exchange masks them while it runs.
    """

    def __init__(
        self,
        config: GatewayConfig,
        client_id: int,
        *,
        http: httpx.Client,
        retry: RetryPolicy | None = None,
        secrets: SecretScope | None = None,
    ) -> None:
        self.config = config
        self.client_id = client_id
        self._http = http
        self._retry = retry or RetryPolicy.from_config(config)
        self._block_secrets = secrets

    def __repr__(self) -> str:
        return f"VkIdClient(id_base_url={self.config.id_base_url!r}, client_id={self.client_id})"

    def authorize_url(self, *, redirect_uri: str, state: str, code_challenge: str, scope: str) -> str:
        """Return ``{id_base_url}/authorize?...`` for the authorization code flow with PKCE."""
        query = {
            "response_type": "code",
            "client_id": str(self.client_id),
            "redirect_uri": redirect_uri,
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": CHALLENGE_METHOD,
            "scope": scope,
        }
        return f"{self.config.id_base_url}/authorize?{urlencode(query)}"

    def start_authorization(self, redirect_uri: str, *, scope: str = "vkid.personal_info") -> AuthorizationRequest:
        """Make a fresh verifier and state and return the URL to send the user to."""
        verifier, state = generate_code_verifier(), generate_state()
        url = self.authorize_url(
            redirect_uri=redirect_uri, state=state, code_challenge=code_challenge_s256(verifier), scope=scope
        )
        return AuthorizationRequest(url=url, state=state, redirect_uri=redirect_uri, code_verifier=verifier)

    def exchange_code(
        self, *, code: str, code_verifier: str, device_id: str, redirect_uri: str, state: str | None = None
    ) -> VkIdTokens:
        """Exchange an authorization code for tokens (``grant_type=authorization_code``).

        :raises InvalidGrantError: the code is expired or used, or the verifier does not match.
        :raises InvalidClientError: VK ID does not know the APP ID or the redirect URI.
        :raises OutcomeUnknownError: the request failed after it may have used up the code.
        """
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": code_verifier,
            "device_id": device_id,
            "redirect_uri": redirect_uri,
            "client_id": str(self.client_id),
        }
        if state is not None:
            form["state"] = state
        with self._secrets() as scope:
            scope.add(code)
            scope.add(code_verifier)
            return self._token_request(form, scope)

    def refresh_tokens(self, *, refresh_token: str, device_id: str) -> VkIdTokens:
        """Get new tokens with a refresh token (``grant_type=refresh_token``); refresh tokens are single-use."""
        form = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "device_id": device_id,
            "client_id": str(self.client_id),
        }
        with self._secrets() as scope:
            scope.add(refresh_token)
            return self._token_request(form, scope)

    @contextmanager
    def _secrets(self) -> Iterator[SecretScope]:
        """The block's scope, or, for a client that belongs to no block, one that lasts as long as the operation."""
        if self._block_secrets is not None:
            yield self._block_secrets
        else:
            with secret_scope() as scope:
                yield scope

    def _token_request(self, form: dict[str, str], scope: SecretScope) -> VkIdTokens:
        url = f"{self.config.id_base_url}/{_EXCHANGE_PATH}"
        # The authorization code is single-use: it is a secret until spent, never shown in an error.
        public_params = {key: value for key, value in scrub_params(form).items() if key != "code"}

        def attempt() -> VkIdTokens:
            response = post_form(
                self._http,
                url,
                form,
                timeout=self.config.timeout_seconds,
                method=_EXCHANGE_PATH,
                public_params=public_params,
            )
            body = json_object(response, method=_EXCHANGE_PATH)
            if "error" in body:
                error = str(body["error"])
                description = body.get("error_description")
                raise vkid_error_class(error)(
                    error,
                    description if isinstance(description, str) else "",
                    method=_EXCHANGE_PATH,
                    request_params=public_params,
                )
            return _read_tokens(body, scope)

        return self._retry.run(attempt, method=_EXCHANGE_PATH, idempotent=False)


def _read_tokens(body: Mapping[str, object], scope: SecretScope) -> VkIdTokens:
    reader = ReplyReader(_EXCHANGE_PATH)
    tokens = VkIdTokens(
        user_id=reader.require_int(body, "user_id"),
        access_token=reader.require_str(body, "access_token"),
        expires_in=reader.require_int(body, "expires_in"),
        refresh_token=reader.optional_str(body, "refresh_token"),
        id_token=reader.optional_str(body, "id_token"),
        token_type=reader.optional_str(body, "token_type") or "Bearer",
        scope=reader.optional_str(body, "scope") or "",
        state=reader.optional_str(body, "state"),
    )
    for secret in (tokens.access_token, tokens.refresh_token, tokens.id_token):
        if secret:
            scope.add(secret)
    return tokens
