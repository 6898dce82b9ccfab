"""CSRF protection: one token per session, checked on every state-changing request (plugin routes too, except the
webhooks other services call: they carry no session and authenticate themselves)."""

from __future__ import annotations

import hmac
import logging
import secrets

from flask import Flask, abort, current_app, request, session

__all__ = ["CSRF_FIELD", "CSRF_HEADER", "csrf_token", "exempt_from_csrf", "init_csrf"]

logger = logging.getLogger(__name__)

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
_SESSION_KEY = "_csrf_token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_EXEMPT_KEY = "lms_csrf_exempt"


def csrf_token() -> str:
    """The current session's token, created on first use."""
    token = session.get(_SESSION_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session[_SESSION_KEY] = token
    return token


def exempt_from_csrf(app: Flask, endpoint: str) -> None:
    """Serve ``endpoint`` without the CSRF check: a webhook another service calls, which authenticates the caller
    itself (``Route.webhook``); it never sees the viewer's session either."""
    app.extensions.setdefault(_EXEMPT_KEY, set()).add(endpoint)


def _check_csrf() -> None:
    if request.method in _SAFE_METHODS:
        return
    if request.endpoint is not None and request.endpoint in current_app.extensions.get(_EXEMPT_KEY, ()):
        return
    expected = session.get(_SESSION_KEY)
    submitted = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    # compare_digest: the comparison time must not tell an attacker how much of a guess was right.
    if not isinstance(expected, str) or not expected or not hmac.compare_digest(expected, submitted):
        logger.warning("CSRF check failed for %s %s", request.method, request.path)
        abort(400, description="csrf")


def init_csrf(app: Flask) -> None:
    """Check the token before every state-changing request and give templates ``csrf_token()``."""
    app.before_request(_check_csrf)
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["csrf_field"] = CSRF_FIELD
