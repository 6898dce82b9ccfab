"""Plugin routes mounted under /m/<module>/: installation, sign-in and permission checks, layout."""

from __future__ import annotations

import logging

import pytest
from flask.testing import FlaskClient
from lms_host import Cabinet

from tests.host.conftest import login, post
from tests.host.fake_plugin import FakePlugin


def _install(client: FlaskClient) -> None:
    admin = client.application.test_client()
    login(admin, "admin")
    post(admin, "/admin/modules/fake/install")


def test_route_of_a_module_that_is_not_installed_is_404(client: FlaskClient) -> None:
    login(client, "student")
    assert client.get("/m/fake/page").status_code == 404
    assert client.get("/m/fake/items/5").status_code == 404


def test_page_is_wrapped_in_the_host_layout(client: FlaskClient) -> None:
    _install(client)
    login(client, "student")
    response = client.get("/m/fake/page")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<p class='fake-body'>Визит 1</p>" in page
    assert "<title>Фейковый раздел" in page
    assert "<h1>Фейковый раздел</h1>" in page  # the page's title heads its body
    assert 'data-key="fake" class="active"' in page
    assert 'class="main-menu"' in page


def test_route_permission_is_checked_by_the_host(client: FlaskClient) -> None:
    _install(client)
    login(client, "employee")
    assert client.get("/m/fake/page").status_code == 403


def test_login_required_route_sends_anonymous_to_login(client: FlaskClient) -> None:
    _install(client)
    response = client.get("/m/fake/page")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_anonymous_route_returns_the_raw_response(client: FlaskClient) -> None:
    _install(client)
    response = client.get("/m/fake/items/42")
    assert response.status_code == 201
    assert response.get_data(as_text=True) == "item=42"
    assert response.headers["X-Fake"] == "1"
    assert response.content_type == "text/plain"


def test_plugin_session_is_namespaced(client: FlaskClient) -> None:
    _install(client)
    login(client, "student")
    client.get("/m/fake/page")
    assert "Визит 2" in client.get("/m/fake/page").get_data(as_text=True)
    with client.session_transaction() as session:
        assert session["plugin:fake:visits"] == 2
        assert "visits" not in session


def test_urls_for_routes_are_built_without_a_request(cabinet: Cabinet) -> None:
    assert cabinet.host.urls.for_route("fake", "item", item_id=7) == "/m/fake/items/7"
    assert cabinet.host.urls.for_route("fake", "page", tab="x") == "/m/fake/page?tab=x"
    assert cabinet.host.urls.external("/m/fake/page") == "http://127.0.0.1:8000/m/fake/page"
    assert cabinet.host.urls.host_page("schedule", week="2026-03-02") == "/schedule?week=2026-03-02"
    assert cabinet.host.urls.host_page("modules") == "/admin/modules"
    assert cabinet.host.urls.host_page("module_settings", module="sferum") == "/admin/modules/sferum/settings"


def test_a_plugin_failing_in_a_page_hook_costs_its_contribution_not_the_page(
    client: FlaskClient, cabinet: Cabinet, fake_plugin: FakePlugin, caplog: pytest.LogCaptureFixture
) -> None:
    _install(client)
    admin = client.application.test_client()
    login(admin, "admin")
    post(admin, "/admin/modules/main/settings", {"org_name": "Университет", "chat_type": "fakechat"})
    fake_plugin.fail_pages = True
    login(client, "student")
    with caplog.at_level(logging.ERROR):
        pages = {path: client.get(path) for path in ("/", "/schedule", "/chats")}
    assert {path: response.status_code for path, response in pages.items()} == {"/": 200, "/schedule": 200,
                                                                              "/chats": 200}  # fmt: skip
    assert "Фейковый раздел" not in pages["/"].get_data(as_text=True)  # the failing menu item is left out
    assert "Список чатов сейчас недоступен" in pages["/chats"].get_data(as_text=True)
    for hook in ("lms_menu_items", "lms_schedule_cards", "lms_section_actions"):
        assert hook in caplog.text
    assert "secret-should-not-leak" not in "".join(r.get_data(as_text=True) for r in pages.values())


# --- webhook routes (Route.webhook): a service calls them, not a person in a browser -----------------------------


def test_a_webhook_route_is_served_without_login_and_without_csrf(client: FlaskClient, fake_plugin: FakePlugin) -> None:
    _install(client)
    response = client.post("/m/fake/hook", data=b'{"a": 1}', headers={"X-Fake-Secret": "letmein"})
    assert response.status_code == 200
    assert response.get_data() == b"ok"
    ((viewer, headers, body, csrf),) = fake_plugin.calls["hook"]
    assert viewer is None
    assert csrf == ""
    assert body == b'{"a": 1}'
    assert headers["x-fake-secret"] == "letmein"  # names in lower case
    assert "Set-Cookie" not in response.headers  # the host neither reads nor writes a session for it
    assert client.post("/m/fake/hook", data=b"{}").status_code == 401  # the handler's own check


def test_a_webhook_route_is_served_to_a_signed_in_browser_without_its_session(
    client: FlaskClient, fake_plugin: FakePlugin
) -> None:
    _install(client)
    login(client, "admin")
    assert client.post("/m/fake/hook", data=b"{}", headers={"X-Fake-Secret": "letmein"}).status_code == 200
    ((viewer, _headers, _body, csrf),) = fake_plugin.calls["hook"]
    assert viewer is None
    assert csrf == ""


def test_other_post_routes_still_need_the_csrf_token(client: FlaskClient, fake_plugin: FakePlugin) -> None:
    _install(client)
    login(client, "admin")
    assert client.post("/m/fake/echo", data={"x": "1"}).status_code == 400
    assert fake_plugin.calls["echo"] == []


def test_a_body_over_the_routes_limit_is_refused_before_the_handler(
    client: FlaskClient, fake_plugin: FakePlugin
) -> None:
    _install(client)
    response = client.post("/m/fake/hook", data=b"x" * 65, headers={"X-Fake-Secret": "letmein"})
    assert response.status_code == 413
    assert fake_plugin.calls["hook"] == []
    assert client.post("/m/fake/hook", data=b"x" * 64, headers={"X-Fake-Secret": "letmein"}).status_code == 200


def test_a_webhook_route_of_a_module_that_is_not_installed_is_404(client: FlaskClient, fake_plugin: FakePlugin) -> None:
    assert client.post("/m/fake/hook", data=b"{}", headers={"X-Fake-Secret": "letmein"}).status_code == 404
    assert fake_plugin.calls["hook"] == []


@pytest.mark.parametrize("extra", [{"login_required": True}, {"login_required": False, "permission": "fake.view"}])
def test_a_webhook_route_cannot_ask_for_a_login_or_a_permission(extra: dict[str, object]) -> None:
    from hookspecs.types import HttpResponse, Route

    with pytest.raises(ValueError, match="no login and no permission"):
        Route("hook", "hook", lambda request: HttpResponse(), methods=("POST",), webhook=True, **extra)  # type: ignore[arg-type]


def test_a_forms_body_over_the_routes_limit_is_refused_before_the_csrf_check_reads_it(
    client: FlaskClient, fake_plugin: FakePlugin
) -> None:
    _install(client)
    login(client, "admin")
    assert post(client, "/m/fake/echo", {"x": "y" * 5000}).status_code == 413
    assert fake_plugin.calls["echo"] == []
    assert post(client, "/m/fake/echo", {"x": "y" * 100}).status_code == 303
