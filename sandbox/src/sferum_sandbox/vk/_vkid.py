"""VK ID: the OAuth 2.1 authorisation-code flow with PKCE that links an LMS user to a Sferum profile.

``GET /authorize`` checks the client and shows the consent page; its forms post back to ``/authorize`` with a
per-request nonce (unguessable, single use), so a forged POST without it is refused. "Allow" redirects to
``redirect_uri?code=...&state=...&device_id=...&type=code_v2``; "Cancel" redirects with
``error=access_denied``. ``POST /oauth2/auth`` redeems a code once, within ten minutes, for the same client
and redirect_uri, when ``S256(code_verifier)`` equals the challenge (RFC 7636); a failed attempt does not
consume the code. ``grant_type=refresh_token`` issues a new access token and a new refresh token for the same
device and uses the old refresh token up. Errors there are HTTP 400 ``{"error", "error_description", "state"}``
(RFC 6749 §5.2; VK's web SDK reads ``state`` from errors too, ``AuthError`` in src/auth/types.ts).

As VK ID does, the token endpoint takes each parameter from the query string or the form body: VK's own web SDK
(VKCOM/vkid-web-sdk, src/auth/auth.ts, ``exchangeCode`` and ``refreshToken``) sends ``grant_type``,
``redirect_uri``, ``client_id``, ``code_verifier``, ``state`` and ``device_id`` in the query of the POST and only
``code`` (or ``refresh_token``) in the body; the plugin's gateway sends everything in the body. A reply carries the
``state`` the token request sent (the SDK compares it with its own), else the authorization's.

PKCE as VK ID writes it (VK ID's API description, id.vk.com ".../api-integration/api-description"):
``code_challenge_method`` "принимает значение s256", which VK's web SDK sends in lower case
(``CODE_CHALLENGE_METHOD = 's256'``) and VK's Android guide as ``S256``, so both spellings are accepted and
nothing else; ``code_verifier`` is 43 to 128 characters of ``a-z A-Z 0-9 _ -`` (narrower than RFC 7636, which
also allows ``.`` and ``~``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from urllib.parse import urlencode, urlsplit

from werkzeug.wrappers import Request, Response

from ._accounts import APP_TITLE
from ._core import SandboxCore
from ._pages import consent_page, error_page
from ._state import ORG_ACCOUNT_ID, AuthorizationCode, AuthorizationRequest, RefreshGrant

CODE_LIFETIME_SECONDS = 600
ACCESS_TOKEN_LIFETIME_SECONDS = 3600
_VERIFIER = re.compile(r"[A-Za-z0-9_-]{43,128}")
"""VK ID's code verifier: ``a-z, A-Z, 0-9, _, -``, 43 to 128 characters (its API description)."""
_CHALLENGE_METHOD = "s256"
"""Compared case-insensitively: VK writes it ``s256`` (API description, web SDK) and ``S256`` (Android guide)."""
_NAME_MAX = 100


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of ``verifier``."""
    return _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def _with_query(uri: str, params: dict[str, str]) -> str:
    return f"{uri}{'&' if urlsplit(uri).query else '?'}{urlencode(params)}"


def _html(body: str, status: int = 200) -> Response:
    response = Response(body, status=status, mimetype="text/html")
    response.headers["X-Frame-Options"] = "DENY"  # a consent page must not be framed (clickjacking)
    response.headers["Cache-Control"] = "no-store"
    return response


def _redirect(uri: str) -> Response:
    return Response(status=302, headers={"Location": uri, "Cache-Control": "no-store"})


def _oauth_error(error: str, description: str, state: str = "") -> Response:
    payload = {"error": error, "error_description": description}
    if state:
        payload["state"] = state  # "Строка переданная в изначальном запросе" (the web SDK's AuthError.state)
    body = json.dumps(payload)
    return Response(body, status=400, mimetype="application/json", headers={"Cache-Control": "no-store"})


def _token_params(request: Request) -> dict[str, str]:
    """The token request's parameters, each from the form body or else the query string (as VK ID takes them)."""
    params = request.args.to_dict()
    params.update({key: value for key, value in request.form.to_dict().items() if value or key not in params})
    return params


class VkIdProvider:
    """The VK ID endpoints of one sandbox."""

    def __init__(self, core: SandboxCore) -> None:
        self._core = core

    # ---------------------------------------------------------------- authorize

    def authorize(self, request: Request) -> Response:
        """``GET /authorize`` shows the consent page; ``POST /authorize`` is the visitor's decision."""
        if request.method == "POST":
            return self._decide(request)
        args = request.args
        if args.get("client_id") != str(self._core.app_id):
            return _html(error_page("Unknown application", "client_id is not a registered application."), 400)
        redirect_uri = args.get("redirect_uri", "")
        target = urlsplit(redirect_uri)
        if target.scheme not in ("http", "https") or not target.netloc:
            return _html(error_page("Invalid redirect_uri", "redirect_uri must be an absolute http(s) URL."), 400)
        state = args.get("state", "")
        if args.get("response_type") != "code":
            return _redirect(_with_query(redirect_uri, self._error("unsupported_response_type", state)))
        method = args.get("code_challenge_method", "")
        if not args.get("code_challenge") or method.lower() != _CHALLENGE_METHOD:
            error = self._error("invalid_request", state, "PKCE is required: code_challenge_method=s256")
            return _redirect(_with_query(redirect_uri, error))
        if not state:
            return _redirect(_with_query(redirect_uri, self._error("invalid_request", state, "state is required")))
        pending = AuthorizationRequest(
            self._core.app_id, redirect_uri, state, args["code_challenge"], args.get("scope", "")
        )
        with self._core.lock:
            nonce = self._core.random_secret("", 32)
            self._core.state.consents[nonce] = pending
        return self._consent(nonce, pending)

    @staticmethod
    def _error(error: str, state: str, description: str = "") -> dict[str, str]:
        return {"error": error, "error_description": description or error, "state": state}

    def _consent(self, nonce: str, pending: AuthorizationRequest, error: str = "") -> Response:
        with self._core.lock:
            people = [
                (user.id, f"{user.first_name} {user.last_name}")
                for user in self._core.state.users.values()
                if user.id != ORG_ACCOUNT_ID
            ]
        return _html(consent_page(app_title=APP_TITLE, scope=pending.scope, nonce=nonce, people=people, error=error))

    def _may_sign_in_as(self, raw_user_id: str) -> bool:
        # The organisation account is not a person: nobody signs in as it on the consent page.
        return (
            raw_user_id.isdigit() and int(raw_user_id) in self._core.state.users and int(raw_user_id) != ORG_ACCOUNT_ID
        )

    def _decide(self, request: Request) -> Response:
        form = request.form
        nonce = form.get("nonce", "")
        core = self._core
        with core.lock:
            pending = core.state.consents.get(nonce) if nonce else None
            if pending is None:
                return _html(error_page("Request refused", "This consent form is expired or was not issued here."), 400)
            decision = form.get("decision")
            if decision == "cancel":
                del core.state.consents[nonce]
                denied = self._error("access_denied", pending.state, "The user denied access")
                return _redirect(_with_query(pending.redirect_uri, denied))
            if decision == "create":
                first, last = form.get("first_name", "").strip(), form.get("last_name", "").strip()
                if not first or not last or max(len(first), len(last)) > _NAME_MAX:
                    return self._consent(nonce, pending, "Enter a first and a last name (up to 100 characters).")
                user_id = core.state.add_user(first, last).id
            elif decision == "allow" and self._may_sign_in_as(form.get("user_id", "")):
                user_id = int(form["user_id"])
            else:
                return self._consent(nonce, pending, "Choose a profile.")
            del core.state.consents[nonce]
            code, device_id = core.random_secret("", 48), core.random_secret("", 32)
            core.state.codes[code] = AuthorizationCode(
                pending, user_id, device_id, core.clock() + CODE_LIFETIME_SECONDS
            )
        params = {"code": code, "state": pending.state, "device_id": device_id, "type": "code_v2"}
        params["expires_in"] = str(CODE_LIFETIME_SECONDS)
        return _redirect(_with_query(pending.redirect_uri, params))

    # ---------------------------------------------------------------- token

    def token(self, request: Request) -> Response:
        """``POST /oauth2/auth``: exchange a code (or a refresh token) for tokens."""
        params = _token_params(request)
        state = params.get("state", "")
        if params.get("client_id") != str(self._core.app_id):
            return _oauth_error("invalid_client", "client_id is not a registered application", state)
        grant_type = params.get("grant_type")
        with self._core.lock:
            if grant_type == "authorization_code":
                return self._redeem_code(params, state)
            if grant_type == "refresh_token":
                return self._refresh(params, state)
        return _oauth_error("unsupported_grant_type", "grant_type must be authorization_code or refresh_token", state)

    def _redeem_code(self, params: dict[str, str], state: str) -> Response:
        missing = [key for key in ("code", "code_verifier", "redirect_uri", "device_id") if not params.get(key)]
        if missing:
            return _oauth_error("invalid_request", f"missing parameters: {', '.join(missing)}", state)
        if not _VERIFIER.fullmatch(params["code_verifier"]):
            return _oauth_error("invalid_request", "code_verifier must be 43-128 characters of a-z A-Z 0-9 _ -", state)
        codes = self._core.state.codes
        grant = codes.get(params["code"])
        if grant is None:
            return _oauth_error("invalid_grant", "code is invalid or has already been used", state)
        if grant.expires_at <= self._core.clock():
            del codes[params["code"]]
            return _oauth_error("invalid_grant", "code has expired", state)
        if params["redirect_uri"] != grant.request.redirect_uri:
            return _oauth_error("invalid_grant", "redirect_uri does not match the authorization request", state)
        if params["device_id"] != grant.device_id:
            return _oauth_error("invalid_grant", "device_id does not match the authorization", state)
        if not hmac.compare_digest(s256(params["code_verifier"]), grant.request.code_challenge):
            return _oauth_error("invalid_grant", "code_verifier does not match the code_challenge", state)
        del codes[params["code"]]
        return self._tokens(grant.user_id, grant.device_id, grant.request.scope, state or grant.request.state)

    def _refresh(self, params: dict[str, str], state: str) -> Response:
        missing = [key for key in ("refresh_token", "device_id") if not params.get(key)]
        if missing:
            return _oauth_error("invalid_request", f"missing parameters: {', '.join(missing)}", state)
        grants = self._core.state.refresh_grants
        grant = grants.get(params["refresh_token"])
        if grant is None:
            return _oauth_error("invalid_grant", "refresh_token is invalid or has already been used", state)
        if params["device_id"] != grant.device_id or grant.client_id != self._core.app_id:
            return _oauth_error("invalid_grant", "refresh_token was not issued to this device", state)
        del grants[params["refresh_token"]]  # rotated: each refresh token works once
        return self._tokens(grant.user_id, grant.device_id, grant.scope, state)

    def _tokens(self, user_id: int, device_id: str, scope: str, state: str) -> Response:
        core = self._core
        access = core.issue_user_token(user_id, ACCESS_TOKEN_LIFETIME_SECONDS)
        refresh = core.random_secret("vk1.r.sandbox.")
        core.state.refresh_grants[refresh] = RefreshGrant(user_id, core.app_id, device_id, scope)
        body = {
            "access_token": access.value,
            "refresh_token": refresh,
            "id_token": self._id_token(user_id),
            "token_type": "Bearer",
            "expires_in": ACCESS_TOKEN_LIFETIME_SECONDS,
            "user_id": user_id,
            "state": state,
            "scope": scope,
        }
        return Response(json.dumps(body), mimetype="application/json", headers={"Cache-Control": "no-store"})

    def _id_token(self, user_id: int) -> str:
        """An HS256 JWT naming the user, signed with the service token (the app's shared secret)."""
        now = self._core.now()
        header = {"alg": "HS256", "typ": "JWT"}
        claims = {
            "iss": "VK ID (Sferum sandbox)",
            "sub": str(user_id),
            "aud": str(self._core.app_id),
            "iat": now,
            "exp": now + ACCESS_TOKEN_LIFETIME_SECONDS,
        }
        signing_input = ".".join(_b64url(json.dumps(part).encode()) for part in (header, claims))
        key = self._core.service_token.encode()
        signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{_b64url(signature)}"
