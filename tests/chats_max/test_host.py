"""«Связать существующий чат MAX» inside the example host: the host's CSRF check and permission check come before
the view, and the view checks with MAX over real HTTP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lms_host import Cabinet
from sferum_sandbox.max import DEFAULT_BOT_TOKEN, MaxSandbox, RunningMaxSandbox
from sqlalchemy import select

from sferum_plugin.account import Account
from sferum_plugin.models import SferumChat, SferumSyncOperation
from tests.host.conftest import admin_client, csrf_token, login, post
from tests.host.people import Seeded, seed_people

LINK = "/m/sferum/chats/link"


@pytest.fixture
def app(app_factory: Callable[..., Flask], running: RunningMaxSandbox) -> Flask:
    app = app_factory(LOAD_ENTRYPOINTS=True, PLUGINS=[])
    app.extensions["test_seeded"] = seed_people(Cabinet.of(app))
    admin = admin_client(app)
    assert "установлен" in post(admin, "/admin/modules/sferum/install", follow_redirects=True).get_data(as_text=True)
    Cabinet.of(app).settings.save("sferum", {"platform": "max", "max_bot_token": DEFAULT_BOT_TOKEN,
                                             "max_api_url": running.url, "max_updates": "polling"},
                                  secret={"max_bot_token"})  # fmt: skip
    return app


def _rows(app: Flask) -> list[tuple[int | None, str]]:
    with Cabinet.of(app).db.session() as session:
        return [(row.chat_id, row.state) for row in session.scalars(select(SferumChat))]


def test_linking_needs_the_csrf_token_and_the_right(app: Flask, box: MaxSandbox) -> None:
    seeded: Seeded = app.extensions["test_seeded"]
    owner = box.add_user("Владелец")
    chat_id = box.seed_chat("ИВТ-21 (из VK)", owner_id=owner)
    form = {"kind": "group", "group_id": str(seeded.group_id), "chat_id": str(chat_id)}
    admin = admin_client(app)
    page = admin.get(LINK)
    assert page.status_code == 200
    assert f'name="csrf_token" value="{csrf_token(admin)}"' in page.get_data(as_text=True)
    asked = box.request_counts().get("GET /chats/{chatId}", 0)

    for forged in ({}, {"csrf_token": "forged"}):
        refused = admin.post(LINK, data={**form, **forged})
        assert refused.status_code == 400
    student: FlaskClient = app.test_client()
    login(student, "student")
    assert post(student, LINK, form).status_code == 403
    assert _rows(app) == []
    assert box.request_counts().get("GET /chats/{chatId}", 0) == asked  # MAX was not asked

    linked = post(admin, LINK, form)
    assert linked.status_code == 303
    assert _rows(app) == [(chat_id, "active")]
    chat_page = admin.get(linked.headers["Location"]).get_data(as_text=True)
    assert "Чат создан в Сферуме." in chat_page


def test_the_sync_page_sends_a_refused_person_the_chats_link_with_the_csrf_token_and_the_right(
    app: Flask, box: MaxSandbox
) -> None:
    owner, person = box.add_user("Владелец"), box.add_user("Закрытый", "Профиль")
    box.press_start(person)
    chat_id = box.seed_chat("ИВТ-21", owner_id=owner)
    now = datetime.now(UTC)
    with Cabinet.of(app).db.session() as session:
        chat = SferumChat(**Account("max", 0).columns(), kind="custom", title="ИВТ-21", marker="m-invite",
                          state="active", chat_id=chat_id, created_by=1, created_at=now)  # fmt: skip
        session.add(chat)
        session.flush()
        op = SferumSyncOperation(chat_pk=chat.id, sferum_user_id=person, action="add", state="failed", attempts=1,
                                 last_error="privacy", created_at=now, updated_at=now)  # fmt: skip
        session.add(op)
        session.flush()
        url = f"/m/sferum/sync/invite/{op.id}"
    admin = admin_client(app)
    assert f'action="{url}"' in admin.get("/m/sferum/sync").get_data(as_text=True)

    assert admin.post(url, data={"csrf_token": "forged"}).status_code == 400
    student: FlaskClient = app.test_client()
    login(student, "student")
    assert post(student, url, {}).status_code == 403
    assert box.messages_to(person) == []

    sent = post(admin, url, {})
    assert sent.status_code == 200
    assert "Бот отправил человеку ссылку на чат в MAX." in sent.get_data(as_text=True)
    [message] = box.messages_to(person)
    assert "«ИВТ-21»" in message["text"]
