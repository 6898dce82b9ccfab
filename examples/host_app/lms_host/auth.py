"""Sign-in, the current viewer and server-side permission checks."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import abort, g, redirect, request, session, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from hookspecs.types import Viewer
from lms_host.cabinet import current_cabinet
from lms_host.models import Employee, Student, User
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

_USER_KEY = "user_id"
_LOCALE_KEY = "locale"


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
    user_id = session.get(_USER_KEY)
    if not isinstance(user_id, int) or request.endpoint == "static":
        return
    with current_cabinet().db.session() as db_session:
        user = db_session.get(User, user_id)
        if user is None:
            session.pop(_USER_KEY, None)
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
    """Start a fresh session for ``user`` (a new session defeats session fixation)."""
    session.clear()
    session[_USER_KEY] = user.id
    session[_LOCALE_KEY] = user.locale if user.locale in LOCALES else DEFAULT_LOCALE


def sign_out() -> None:
    """End the session, keeping only the chosen language."""
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
