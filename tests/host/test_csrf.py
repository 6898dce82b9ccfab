"""Every state-changing request carries the session's CSRF token."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from lms_host import Cabinet

from tests.host.conftest import csrf_token, login, post


def test_login_without_token_is_refused(client: FlaskClient) -> None:
    response = client.post("/login", data={"username": "admin", "password": "demo"})
    assert response.status_code == 400
    assert "Форма устарела" in response.get_data(as_text=True)


@pytest.mark.parametrize("token", ["", "wrong-token"])
def test_admin_post_with_missing_or_wrong_token_changes_nothing(
    client: FlaskClient, cabinet: Cabinet, token: str
) -> None:
    login(client, "admin")
    csrf_token(client)
    data = {"csrf_token": token} if token else {}
    response = client.post("/admin/modules/fake/install", data=data)
    assert response.status_code == 400
    assert not cabinet.settings.is_installed("fake")


def test_plugin_route_post_needs_the_token(client: FlaskClient, cabinet: Cabinet, fake_plugin) -> None:  # type: ignore[no-untyped-def]
    login(client, "admin")
    post(client, "/admin/modules/fake/install")
    assert client.post("/m/fake/echo", data={"csrf_token": "forged"}).status_code == 400
    assert fake_plugin.calls["echo"] == []
    assert post(client, "/m/fake/echo", {"x": "1"}).status_code == 303
    assert fake_plugin.calls["echo"] == [({"x": "1"}, {"x": ("1",)})]


def test_token_in_header_is_accepted(client: FlaskClient) -> None:
    login(client, "student")
    response = client.post("/logout", headers={"X-CSRF-Token": csrf_token(client)})
    assert response.status_code == 302
