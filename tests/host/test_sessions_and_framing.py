"""Sessions end on the server, and pages refuse to be framed and run under a Content-Security-Policy.

Every HTML page any test gets from the host is also checked for the framing headers by ``tests/conftest.py``.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from lms_host import Cabinet
from sqlalchemy import func, select

from tests._framing import host_page_problems, policy_directives
from tests.host.conftest import FakeClock, login, post

SESSION_COOKIE = "session"


def _cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie(SESSION_COOKIE)
    assert cookie is not None
    return cookie.value


def _with_cookie(app: Flask, value: str) -> FlaskClient:
    other = app.test_client()
    other.set_cookie(SESSION_COOKIE, value)
    return other


def _sessions(app: Flask) -> int:
    from lms_host.models import UserSession

    with Cabinet.of(app).db.session() as session:
        return session.scalar(select(func.count()).select_from(UserSession)) or 0


def test_replaying_the_session_cookie_after_logout_gets_the_login_page(app: Flask, client: FlaskClient) -> None:
    login(client, "teacher")
    stolen = _cookie(client)
    assert _with_cookie(app, stolen).get("/schedule").status_code == 200  # the copy works while signed in

    assert post(client, "/logout").status_code == 302

    replayed = _with_cookie(app, stolen).get("/schedule")
    assert replayed.status_code == 302
    assert replayed.headers["Location"].startswith("/login")
    assert _with_cookie(app, stolen).get("/").status_code == 302


def test_logging_out_ends_only_that_session(app: Flask) -> None:
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, "teacher")
    login(phone, "teacher")
    post(laptop, "/logout")
    assert laptop.get("/").status_code == 302
    assert phone.get("/").status_code == 200


def test_signing_in_again_ends_the_browsers_previous_session(app: Flask, client: FlaskClient) -> None:
    login(client, "teacher")
    first = _cookie(client)
    post(client, "/login", {"username": "student", "password": "demo"})
    assert _with_cookie(app, first).get("/").status_code == 302
    assert _sessions(app) == 1


def test_a_session_ends_when_its_lifetime_is_over(app: Flask, client: FlaskClient, clock: FakeClock) -> None:
    login(client, "teacher")
    clock.current += app.permanent_session_lifetime - timedelta(minutes=1)
    assert client.get("/").status_code == 200
    clock.current += timedelta(minutes=2)
    assert client.get("/").status_code == 302
    login(client, "student")  # signing in clears out the sessions whose lifetime is over
    assert _sessions(app) == 1


def test_the_database_keeps_no_usable_session_token(app: Flask, client: FlaskClient) -> None:
    from lms_host.models import UserSession

    login(client, "teacher")
    with Cabinet.of(app).db.session() as session:
        (stored,) = session.scalars(select(UserSession)).all()
    with client.session_transaction() as cookie_session:
        values = [value for value in cookie_session.values() if isinstance(value, str)]
    assert stored.token_hash not in values
    assert any(hashlib.sha256(value.encode()).hexdigest() == stored.token_hash for value in values)


def test_pages_forbid_framing_and_carry_the_content_security_policy(client: FlaskClient) -> None:
    pages = [client.get("/login"), client.post("/logout")]  # the second: refused without a CSRF token (400)
    login(client, "admin")
    pages += [client.get(path) for path in ("/", "/schedule", "/students", "/admin/modules", "/no-such-page")]
    assert [response.status_code for response in pages] == [200, 400, 200, 200, 200, 200, 404]
    for response in pages:
        assert host_page_problems(response) == []
        assert policy_directives(response.headers["Content-Security-Policy"])["frame-ancestors"] == ["'none'"]
