"""Signing in and out."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.host.conftest import login, post


def test_login_with_the_right_password_opens_the_dashboard(client: FlaskClient) -> None:
    response = login(client, "teacher")
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "Петров Иван Сергеевич" in page
    assert "Сотрудник" in page


def test_wrong_password_is_refused_with_a_message(client: FlaskClient) -> None:
    response = login(client, "teacher", "wrong")
    assert response.status_code == 401
    assert "Неверное имя пользователя или пароль." in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(client: FlaskClient) -> None:
    response = login(client, "nobody", "demo")
    assert response.status_code == 401
    assert "Неверное имя пользователя или пароль." in response.get_data(as_text=True)


def test_anonymous_visitor_is_sent_to_login(client: FlaskClient) -> None:
    response = client.get("/schedule")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/schedule")


def test_logout_is_a_post_and_ends_the_session(client: FlaskClient) -> None:
    login(client, "student")
    assert client.get("/logout").status_code == 405
    response = post(client, "/logout")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_login_redirects_only_to_local_paths(client: FlaskClient) -> None:
    for target in ("https://evil.example/", "//evil.example/x"):
        response = post(client, "/login", {"username": "student", "password": "demo", "next": target})
        assert response.headers["Location"] == "/"
    response = post(client, "/login", {"username": "student", "password": "demo", "next": "/chats"})
    assert response.headers["Location"] == "/chats"


def test_session_cookie_is_httponly_and_samesite_lax(client: FlaskClient) -> None:
    response = login(client, "student")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_demo_accounts_are_listed_only_in_demo_mode(app_factory, client: FlaskClient) -> None:  # type: ignore[no-untyped-def]
    assert "Демонстрационные учётные записи" not in client.get("/login").get_data(as_text=True)
    demo = app_factory(LMS_DEMO_MODE="1").test_client()
    page = demo.get("/login").get_data(as_text=True)
    assert "Демонстрационные учётные записи" in page
    for username in ("admin", "teacher", "student", "employee"):
        assert f"<code>{username}</code>" in page


def test_unknown_page_shows_the_404_page(client: FlaskClient) -> None:
    login(client, "student")
    response = client.get("/no-such-page")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Страница не найдена" in page
    assert 'class="main-menu"' in page
