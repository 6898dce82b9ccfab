"""Fixtures of the example host's tests: an app on a fresh SQLite database with the fake plugin."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient
from lms_host import Cabinet, create_app
from lms_host.database import make_engine, upgrade_database

from tests._db import PG_ENV_VAR, PG_SKIP_REASON, fresh_database_url
from tests.host.fake_plugin import FakePlugin
from tests.host.people import Seeded, seed_people

# Wednesday 2026-03-04, 10:00 in Moscow: a weekday with lessons in the seeded schedule.
DEFAULT_NOW = datetime(2026, 3, 4, 7, 0, tzinfo=UTC)


class FakeClock:
    """A settable clock for the ``NOW`` setting."""

    def __init__(self, now: datetime = DEFAULT_NOW) -> None:
        self.current = now

    def __call__(self) -> datetime:
        return self.current


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with the host's migrations applied once; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "lms.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    try:
        upgrade_database(engine)
    finally:
        engine.dispose()
    return path


@pytest.fixture
def fake_plugin() -> FakePlugin:
    return FakePlugin()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app_factory(
    tmp_path: Path, migrated_template: Path, fake_plugin: FakePlugin, clock: FakeClock
) -> Iterator[Callable[..., Flask]]:
    """Create apps on this test's database; every app's engine is disposed at the end."""
    database = tmp_path / "lms.sqlite3"
    shutil.copyfile(migrated_template, database)
    encryption_key = Fernet.generate_key().decode()
    created: list[Flask] = []

    def make(**overrides: Any) -> Flask:
        config: dict[str, Any] = {
            "TESTING": True,
            "LMS_INSTANCE_PATH": str(tmp_path / "instance"),
            "LMS_DATABASE_URL": f"sqlite:///{database}",
            "LMS_SECRET_KEY": "test-secret-key",
            "LMS_ENCRYPTION_KEY": encryption_key,
            "LOAD_ENTRYPOINTS": False,
            "PLUGINS": [fake_plugin],
            "NOW": clock,
        }
        config.update(overrides)
        app = create_app(config)
        created.append(app)
        return app

    yield make
    for app in created:
        Cabinet.of(app).dispose()


@pytest.fixture
def app(app_factory: Callable[..., Flask]) -> Flask:
    app = app_factory()
    app.extensions["test_seeded"] = seed_people(Cabinet.of(app))
    return app


@pytest.fixture
def seeded(app: Flask) -> Seeded:
    """The ids of the seeded organisation."""
    return app.extensions["test_seeded"]  # type: ignore[no-any-return]


@pytest.fixture
def cabinet(app: Flask) -> Cabinet:
    return Cabinet.of(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def csrf_token(client: FlaskClient) -> str:
    """The CSRF token of the client's session (created if the session has none yet)."""
    with client.session_transaction() as session:
        token = session.get("_csrf_token")
        if not token:
            token = "test-csrf-token-" + os.urandom(8).hex()
            session["_csrf_token"] = token
    return str(token)


def post(client: FlaskClient, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """POST with the session's CSRF token."""
    form = dict(data or {})
    form.setdefault("csrf_token", csrf_token(client))
    return client.post(url, data=form, **kwargs)


def login(client: FlaskClient, username: str, password: str = "demo") -> Any:
    """Sign in through the login form (with its CSRF token)."""
    page = client.get("/login")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert match, "the login form carries a CSRF token"
    return client.post("/login", data={"csrf_token": match.group(1), "username": username, "password": password})


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test module (skipped without ``SFERUM_TEST_DATABASE_URL``)."""
    base = os.environ.get(PG_ENV_VAR)
    if not base:
        pytest.skip(PG_SKIP_REASON)
    with fresh_database_url(base) as url:
        yield url


@pytest.fixture
def sandbox() -> Iterator[Any]:
    """The Sferum sandbox served over HTTP on a free loopback port (for the real module inside the host)."""
    from sferum_sandbox import Sandbox, serve

    with serve(Sandbox(rate_limit_per_second=None)) as running:
        yield running


def configure_sferum(admin: FlaskClient, url: str, *, app_token: str | None = None) -> None:
    """Save the Sferum module's settings through the settings form, pointing at the sandbox at ``url``."""
    from sferum_sandbox import DEFAULT_APP_ID, DEFAULT_APP_TOKEN, DEFAULT_SERVICE_TOKEN

    form = {
        "app_id": str(DEFAULT_APP_ID), "service_token": DEFAULT_SERVICE_TOKEN,
        "app_token": app_token or DEFAULT_APP_TOKEN, "api_base_url": url, "id_base_url": url, "web_url": url,
        "api_version": "5.199",
        "requests_per_second": "50", "timeout_seconds": "5", "auto_end_after_minutes": "30",
    }  # fmt: skip
    page = post(admin, "/admin/modules/sferum/settings", form, follow_redirects=True).get_data(as_text=True)
    assert "Настройки сохранены" in page, page


def admin_client(app: Flask) -> FlaskClient:
    """A test client signed in as the demo administrator."""
    client = app.test_client()
    login(client, "admin")
    return client


def install_sferum(app: Flask, url: str, *, app_token: str | None = None) -> FlaskClient:
    """Install the Sferum module through Администрирование → Модули and configure it against the sandbox at ``url``;
    return the administrator's client."""
    admin = admin_client(app)
    assert "установлен" in post(admin, "/admin/modules/sferum/install", follow_redirects=True).get_data(as_text=True)
    configure_sferum(admin, url, app_token=app_token)
    return admin


def grant_permission(app: Flask, role: str, permission: str) -> None:
    """Tick one more box of the roles matrix as the administrator (the form submits the whole matrix)."""
    admin = app.test_client()
    login(admin, "admin")
    page = admin.get("/admin/roles").get_data(as_text=True)
    granted = re.findall(r'name="grant" value="([^"]+)"[^>]*\bchecked\b', page)
    post(admin, "/admin/roles", {"grant": [*granted, f"{role}:{permission}"]})
