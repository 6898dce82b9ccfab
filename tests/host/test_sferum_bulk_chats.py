"""«Чаты учебных групп в Сферум» inside the example host: chats for every group of a unit or a year of study."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lms_host import Cabinet
from lms_host.models import StudyGroup
from sferum_sandbox import RunningSandbox
from sqlalchemy import select

from sferum_plugin.models import SferumChat
from tests.host.conftest import admin_client, install_sferum, login, post
from tests.host.people import Seeded, seed_people

BULK = "/m/sferum/chats-bulk"


@pytest.fixture
def app(app_factory: Callable[..., Flask], sandbox: RunningSandbox) -> Flask:
    """The host with the real module configured; the seeded unit has ИВТ-21 (year 2) and ПМ-22 (year 1), and a
    third group ФИЗ-11 (year 1) belongs to the other unit."""
    app = app_factory(LOAD_ENTRYPOINTS=True, PLUGINS=[])
    seeded = seed_people(Cabinet.of(app))
    app.extensions["test_seeded"] = seeded
    with Cabinet.of(app).db.session() as session:
        session.add(StudyGroup(title="ФИЗ-11", unit_id=seeded.other_unit_id, year=1))
    install_sferum(app, sandbox.url, app_token="vk1.a.bulk-test-token")
    return app


@pytest.fixture
def admin(app: Flask) -> FlaskClient:
    return admin_client(app)


def _chat_groups(app: Flask) -> dict[str, int]:
    """Group title → chat row id, for every group chat recorded."""
    with Cabinet.of(app).db.session() as session:
        rows = session.execute(
            select(StudyGroup.title, SferumChat.id).join(SferumChat, SferumChat.target_id == StudyGroup.id)
        ).all()
    return {title: pk for title, pk in rows}


def _listed(html: str) -> set[str]:
    return {title for title in ("ИВТ-21", "ПМ-22", "ФИЗ-11") if f'aria-label="{title}"' in html}


def test_the_filter_lists_the_groups_of_a_unit_or_a_year(admin: FlaskClient, seeded: Seeded) -> None:
    page = admin.get(BULK).get_data(as_text=True)
    assert _listed(page) == {"ИВТ-21", "ПМ-22", "ФИЗ-11"}
    assert "Кафедра информатики" in page
    assert _listed(admin.get(f"{BULK}?unit={seeded.unit_id}").get_data(as_text=True)) == {"ИВТ-21", "ПМ-22"}
    assert _listed(admin.get(f"{BULK}?year=1").get_data(as_text=True)) == {"ПМ-22", "ФИЗ-11"}
    both = admin.get(f"{BULK}?unit={seeded.unit_id}&year=1").get_data(as_text=True)
    assert _listed(both) == {"ПМ-22"}


def test_all_groups_of_a_unit_get_one_chat_each_however_often_it_is_asked(
    admin: FlaskClient, app: Flask, seeded: Seeded
) -> None:
    reply = post(admin, BULK, {"scope": "filter", "unit": str(seeded.unit_id)})
    assert reply.status_code == 303
    assert reply.headers["Location"].endswith(f"{BULK}?unit={seeded.unit_id}")
    first = _chat_groups(app)
    assert set(first) == {"ИВТ-21", "ПМ-22"}
    assert post(admin, BULK, {"scope": "filter", "unit": str(seeded.unit_id)}).status_code == 303
    assert _chat_groups(app) == first
    post(admin, BULK, {"scope": "filter", "year": "1"})
    again = _chat_groups(app)
    assert set(again) == {"ИВТ-21", "ПМ-22", "ФИЗ-11"}
    assert again["ПМ-22"] == first["ПМ-22"]
    progress = admin.get(reply.headers["Location"]).get_data(as_text=True)
    assert "Создано: 0 / 2" in progress


def test_a_forged_unit_or_a_garbled_year_is_refused_and_creates_nothing(admin: FlaskClient, app: Flask) -> None:
    page = admin.get(f"{BULK}?unit=999")
    assert page.status_code == 400
    assert "Структурное подразделение не найдено." in page.get_data(as_text=True)
    assert admin.get(f"{BULK}?year=%3Cscript%3E").status_code == 400
    refused = post(admin, BULK, {"scope": "filter", "unit": "999"})
    assert refused.status_code == 400
    assert post(admin, BULK, {"scope": "filter", "year": "abc"}).status_code == 400
    assert post(admin, BULK, {"group_ids": ["999", "x"]}).status_code == 400  # "x" is no group id
    assert post(admin, BULK, {"group_ids": ["999"]}).status_code == 303  # an id, but of no group listed
    assert _chat_groups(app) == {}


def test_only_chat_managers_reach_the_page(app: Flask, seeded: Seeded) -> None:
    for username in ("student", "teacher"):
        client = app.test_client()
        login(client, username)
        assert client.get(BULK).status_code == 403
        assert client.get(f"{BULK}?unit={seeded.unit_id}").status_code == 403
        assert post(client, BULK, {"scope": "filter", "unit": str(seeded.unit_id)}).status_code == 403
    assert _chat_groups(app) == {}


def test_the_post_needs_the_csrf_token(admin: FlaskClient, app: Flask) -> None:
    assert admin.post(BULK, data={"scope": "filter"}).status_code == 400
    assert _chat_groups(app) == {}
