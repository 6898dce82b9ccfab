"""Sign-in, the current viewer and server-side permission checks.

A session lives on the server: the signed session cookie carries a random token, and the ``user_sessions`` table
keeps its SHA-256 with the user and an absolute expiry (``PERMANENT_SESSION_LIFETIME`` after sign-in).  Every request
looks the token up; signing out deletes the row, so a copy of the cookie taken before opens nothing afterwards.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import abort, current_app, g, redirect, request, session, url_for
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from hookspecs.types import Viewer
from lms_host.cabinet import current_cabinet
from lms_host.models import Employee, Student, User, UserSession
from lms_host.permissions import permissions_of_roles
from lms_host.services.i18n import DEFAULT_LOCALE, LOCALES

__all__ = [
    "admin_required",
    "authenticate",
    "current_viewer",
    "load_viewer",
    "login_required",
    "permission_required",
    "set_locale",
    "sign_in",
    "sign_out",
    "viewer_for_user",
]

F = TypeVar("F", bound=Callable[..., Any])

_SESSION_ID_KEY = "session_id"
_LOCALE_KEY = "locale"


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def viewer_for_user(session_: Session, user: User, locale: str | None = None) -> Viewer:
    """The contract's view of a signed-in user: roles, permissions and person records."""
    student_id = session_.scalar(select(Student.id).where(Student.user_id == user.id).order_by(Student.id))
    employee_id = session_.scalar(select(Employee.id).where(Employee.user_id == user.id).order_by(Employee.id))
    return Viewer(
        user_id=user.id,
        username=user.username,
        full_name=user.full_name,
        roles=frozenset(role.code for role in user.roles),
        permissions=permissions_of_roles(session_, [role.id for role in user.roles]),
        student_id=student_id,
        employee_id=employee_id,
        locale=locale or user.locale or DEFAULT_LOCALE,
    )


def load_viewer() -> None:
    """Before each request: ``g.viewer`` (or ``None``) and ``g.locale``."""
    g.viewer = None
    locale = session.get(_LOCALE_KEY)
    g.locale = locale if locale in LOCALES else DEFAULT_LOCALE
    token = session.get(_SESSION_ID_KEY)
    if not isinstance(token, str) or request.endpoint == "static":
        return
    cabinet = current_cabinet()
    with cabinet.db.session() as db_session:
        user = db_session.scalar(
            select(User)
            .join(UserSession, UserSession.user_id == User.id)
            .where(UserSession.token_hash == _token_hash(token), UserSession.expires_at > cabinet.host.clock.now())
        )
        if user is None:  # signed out, expired, or the account is gone
            session.pop(_SESSION_ID_KEY, None)
            return
        g.viewer = viewer_for_user(db_session, user, locale if locale in LOCALES else None)
    g.locale = g.viewer.locale


def current_viewer() -> Viewer | None:
    """The signed-in viewer of this request."""
    return cast("Viewer | None", g.get("viewer"))


def authenticate(username: str, password: str) -> User | None:
    """The user with these credentials, or ``None`` (the same answer for an unknown name and a wrong password)."""
    with current_cabinet().db.session() as db_session:
        user = db_session.scalar(select(User).where(User.username == username.strip()))
    if user is None or not check_password_hash(user.password_hash, password):
        return None
    return user


def sign_in(user: User) -> None:
    """Start a fresh session for ``user`` (a new session defeats session fixation); the browser's previous
    session, and every session whose lifetime is over, ends on the server."""
    previous = session.get(_SESSION_ID_KEY)
    session.clear()
    token = secrets.token_urlsafe(32)
    cabinet = current_cabinet()
    now = cabinet.host.clock.now()
    with cabinet.db.session() as db_session:
        if isinstance(previous, str):
            db_session.execute(delete(UserSession).where(UserSession.token_hash == _token_hash(previous)))
        db_session.execute(delete(UserSession).where(UserSession.expires_at <= now))
        db_session.add(
            UserSession(
                token_hash=_token_hash(token),
                user_id=user.id,
                created_at=now,
                expires_at=now + current_app.permanent_session_lifetime,
            )
        )
    session[_SESSION_ID_KEY] = token
    session[_LOCALE_KEY] = user.locale if user.locale in LOCALES else DEFAULT_LOCALE


def sign_out() -> None:
    """End the session on the server, keeping only the chosen language in the cookie."""
    token = session.get(_SESSION_ID_KEY)
    if isinstance(token, str):
        with current_cabinet().db.session() as db_session:
            db_session.execute(delete(UserSession).where(UserSession.token_hash == _token_hash(token)))
    locale = session.get(_LOCALE_KEY)
    session.clear()
    if locale in LOCALES:
        session[_LOCALE_KEY] = locale


def set_locale(locale: str) -> None:
    """Remember the UI language for this session (and for the signed-in user)."""
    if locale not in LOCALES:
        return
    session[_LOCALE_KEY] = locale
    viewer = current_viewer()
    if viewer is not None:
        with current_cabinet().db.session() as db_session:
            user = db_session.get(User, viewer.user_id)
            if user is not None:
                user.locale = locale


def login_required(view: F) -> F:
    """Send anonymous visitors to the login page."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_viewer() is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return cast(F, wrapper)


def permission_required(permission: str) -> Callable[[F], F]:
    """Require sign-in and ``permission`` (403 otherwise; administrators hold every permission)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            viewer = current_viewer()
            if viewer is None:
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if not viewer.can(permission):
                abort(403)
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


def admin_required(view: F) -> F:
    """Require the administrator role (403 otherwise)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        viewer = current_viewer()
        if viewer is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        if not viewer.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return cast(F, wrapper)
