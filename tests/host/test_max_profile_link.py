"""«Создать учебный профиль Сферум» on MAX, end to end over real HTTP: the example host with the module configured for
the MAX sandbox (long polling), a person who opens the deep link and presses Start in the sandbox, the module's own
jobs that read the update into the inbox and handle it, the status the page polls, and the administrators' unlink."""

from __future__ import annotations

import html
import json
import logging
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lms_host import Cabinet
from lms_host.jobs import run_due_jobs
from sferum_sandbox import RunningSandbox
from sferum_sandbox.max import DEFAULT_BOT_NAME, DEFAULT_BOT_TOKEN, MaxSandbox, RunningMaxSandbox
from sferum_sandbox.max import serve as serve_max
from sqlalchemy import select

from sferum_plugin.models import LinkRequest, ProfileEvent
from sferum_plugin.permissions import ONLINE_LESSONS_VIEW
from tests.host.conftest import admin_client, grant_permission, install_sferum, login, post
from tests.host.people import seed_people


@pytest.fixture
def max_sandbox() -> Iterator[RunningMaxSandbox]:
    with serve_max(MaxSandbox(rate_limit_per_second=None, long_poll_max_wait=0.1), deliver_webhooks=False) as running:
        yield running


@pytest.fixture
def app(app_factory: Callable[..., Flask], sandbox: RunningSandbox, max_sandbox: RunningMaxSandbox) -> Flask:
    app = app_factory(LOAD_ENTRYPOINTS=True, PLUGINS=[])
    app.extensions["test_seeded"] = seed_people(Cabinet.of(app))
    admin = install_sferum(app, sandbox.url)
    stored = Cabinet.of(app).settings.get("sferum")
    from sferum_plugin.settings import MODULE_FIELDS

    form = {f.name: stored.get(f.name, f.default) for f in MODULE_FIELDS if f.type != "boolean" and not f.secret}
    form.update(platform="max", max_bot_token=DEFAULT_BOT_TOKEN, max_api_url=max_sandbox.url, max_updates="polling")
    page = post(admin, "/admin/modules/sferum/settings", form, follow_redirects=True).get_data(as_text=True)
    assert "Настройки сохранены" in page, page
    return app


def _client(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    login(client, username)
    return client


def _start(client: FlaskClient) -> tuple[str, str, str]:
    """Press «Создать учебный профиль Сферум»; the deep link, its payload and the status address on the page."""
    response = post(client, "/m/sferum/profile/link")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    link = html.unescape(re.search(r'href="(https://max\.ru/[^"]+)"', page).group(1))  # type: ignore[union-attr]
    parts = urlsplit(link)
    assert (parts.netloc, parts.path) == ("max.ru", f"/{DEFAULT_BOT_NAME}")
    (payload,) = parse_qs(parts.query)["start"]
    status_url = html.unescape(re.search(r'data-link-status-url="([^"]+)"', page).group(1))  # type: ignore[union-attr]
    assert payload not in status_url
    assert "<svg" in page
    assert "viewBox" in page
    assert 'src="/m/sferum/profile/link.js"' in page
    assert " style=" not in page
    assert "<script>" not in page
    return link, payload, status_url


def _status(client: FlaskClient, url: str) -> tuple[int, dict[str, object]]:
    response = client.get(url)
    assert response.mimetype == "application/json"
    return response.status_code, json.loads(response.get_data(as_text=True))


def _run_jobs(app: Flask) -> list[str]:
    """Run the module's due jobs a little later than the last run: long polling reads the update into the inbox, and
    the inbox job handles it."""
    clock = app.config["NOW"]
    clock.current += timedelta(seconds=10)
    ran = run_due_jobs(Cabinet.of(app))
    assert {"sferum.max_poll", "sferum.max_inbox"} <= set(ran), ran
    return ran


def test_pressing_start_in_max_links_the_profile_and_the_page_notices(
    app: Flask, max_sandbox: RunningMaxSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    cabinet = Cabinet.of(app)
    student = _client(app, "student")
    link, payload, status_url = _start(student)
    assert _status(student, status_url) == (200, {"state": "pending", "done": False, "text": _waiting()})
    stranger = _client(app, "employee")
    assert _status(stranger, status_url)[0] == 404  # only the requester's own request

    person = max_sandbox.sandbox.add_user("Анна", "Смирнова")
    max_sandbox.sandbox.open_deep_link(person, link)  # the person opens the link in MAX and presses Start
    _run_jobs(app)

    code, answer = _status(student, status_url)
    assert (code, answer["state"], answer["done"]) == (200, "linked", True)
    assert answer["text"] == "Профиль связан: Анна Смирнова."
    with cabinet.db.session() as session:
        events = [(e.kind, e.sferum_user_id) for e in session.scalars(select(ProfileEvent))]
        (request,) = session.scalars(select(LinkRequest))
        assert request.state_hash != payload
    assert events == [("linked", person)]  # the outbox row the sync adds the person to their chats by

    grant_permission(app, "student", ONLINE_LESSONS_VIEW)
    section = student.get("/m/sferum/online-lessons").get_data(as_text=True)
    assert "Анна Смирнова" in section
    assert 'href="https://web.max.ru/"' in section  # «Перейти в «Сферум»» opens MAX

    admin = admin_client(app)
    profiles_page = admin.get("/m/sferum/profiles").get_data(as_text=True)
    assert "Анна Смирнова" in profiles_page
    assert f"id {person}" in profiles_page

    # The same link once more (forwarded, or pressed again by someone else) links nobody.
    other = max_sandbox.sandbox.add_user("Чужой")
    max_sandbox.sandbox.open_deep_link(other, link)
    _run_jobs(app)
    assert f"id {other}" not in admin.get("/m/sferum/profiles").get_data(as_text=True)
    assert payload not in caplog.text  # nor in any log line of the host, the module or the sandbox's client


def test_a_max_account_of_another_person_is_refused_and_the_page_says_why(
    app: Flask, max_sandbox: RunningMaxSandbox
) -> None:
    person = max_sandbox.sandbox.add_user("Анна")
    student = _client(app, "student")
    link, _, _ = _start(student)
    max_sandbox.sandbox.open_deep_link(person, link)
    _run_jobs(app)

    teacher = _client(app, "teacher")
    link, _, status_url = _start(teacher)
    max_sandbox.sandbox.open_deep_link(person, link)  # the same MAX account, for another LMS account
    _run_jobs(app)
    code, answer = _status(teacher, status_url)
    assert (code, answer["state"], answer["done"]) == (200, "taken", True)
    assert "уже привязан к другой учётной записи ЛК" in str(answer["text"])

    admin = admin_client(app)
    page = admin.get("/m/sferum/profiles").get_data(as_text=True)
    assert page.count(f"id {person}") == 1
    unlink = re.search(r'action="(/m/sferum/profiles/\d+/unlink)"', page).group(1)  # type: ignore[union-attr]
    assert post(admin, unlink).status_code == 303
    assert f"id {person}" not in admin.get("/m/sferum/profiles").get_data(as_text=True)

    link, _, status_url = _start(teacher)  # once unlinked, the MAX account may be linked to the teacher
    max_sandbox.sandbox.open_deep_link(person, link)
    _run_jobs(app)
    assert _status(teacher, status_url)[1]["state"] == "linked"


def test_the_linking_pages_script_is_served_as_a_script_of_the_site(app: Flask) -> None:
    response = _client(app, "student").get("/m/sferum/profile/link.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    script = response.get_data(as_text=True)
    assert "data-link-status-url" in script
    assert "fetch(" in script


def _waiting() -> str:
    from sferum_plugin.services.max_profiles import WAITING

    return WAITING


def test_when_max_refuses_the_bot_the_page_says_so_and_nothing_is_stored(
    app: Flask, max_sandbox: RunningMaxSandbox
) -> None:
    max_sandbox.sandbox.faults.inject("GET /me", status=401, times=10)  # the bot's token was revoked
    response = post(_client(app, "student"), "/m/sferum/profile/link")
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "MAX не принял токен бота. Сообщите администратору" in page
    assert "max.ru/" not in page
    assert DEFAULT_BOT_TOKEN not in page
    with Cabinet.of(app).db.session() as session:
        assert session.scalars(select(LinkRequest)).all() == []
