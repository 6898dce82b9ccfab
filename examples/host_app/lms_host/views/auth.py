"""Sign-in, sign-out and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from lms_host.auth import authenticate, current_viewer, set_locale, sign_in, sign_out
from lms_host.i18n import gettext as _

bp = Blueprint("auth", __name__)

DEMO_ACCOUNTS = (
    ("admin", "Администратор"),
    ("teacher", "Преподаватель"),
    ("student", "Обучающийся"),
    ("employee", "Сотрудник"),
)


def _safe_next(target: str | None, default: str) -> str:
    """``target`` if it is a path on this site; anything else (another host, ``//evil``) is refused."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    """The login form (``username``, ``password``)."""
    next_url = _safe_next(request.values.get("next"), url_for("dashboard.index"))
    if current_viewer() is not None and request.method == "GET":
        return redirect(next_url)
    demo_accounts = DEMO_ACCOUNTS if current_app.config["LMS_DEMO_MODE"] else ()
    if request.method == "POST":
        user = authenticate(request.form.get("username", ""), request.form.get("password", ""))
        if user is not None:
            sign_in(user)
            return redirect(next_url)
        flash(_("Неверное имя пользователя или пароль."), "error")
        page = render_template(
            "login.html", next_url=next_url, demo_accounts=demo_accounts, username=request.form.get("username", "")
        )
        return page, 401
    return render_template("login.html", next_url=next_url, demo_accounts=demo_accounts, username="")


@bp.post("/logout")
def logout() -> Response:
    """End the session."""
    sign_out()
    return redirect(url_for("auth.login"))


@bp.post("/locale")
def switch_locale() -> Response:
    """Switch the UI language (``ru`` or ``en``) and go back."""
    set_locale(request.form.get("locale", ""))
    return redirect(_safe_next(request.form.get("next"), url_for("dashboard.index")))
