"""CSRF protection: one token per session, checked on every state-changing request (plugin routes too)."""

from __future__ import annotations

import hmac
import logging
import secrets

from flask import Flask, abort, request, session

__all__ = ["CSRF_FIELD", "CSRF_HEADER", "csrf_token", "init_csrf"]

logger = logging.getLogger(__name__)

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
_SESSION_KEY = "_csrf_token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def csrf_token() -> str:
    """The current session's token, created on first use."""
    token = session.get(_SESSION_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session[_SESSION_KEY] = token
    return token


def _check_csrf() -> None:
    if request.method in _SAFE_METHODS:
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
