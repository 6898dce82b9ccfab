"""Online lessons on MAX in the example host: the real module through its routes (CSRF, permissions, redirects),
the MAX sandbox over real HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lms_host import Cabinet
from lms_host.models import Lesson, User
from sferum_sandbox.max import DEFAULT_BOT_TOKEN, MaxSandbox, RunningMaxSandbox, serve
from sqlalchemy import delete, select

from sferum_plugin.models import ProfileLink, SferumChat
from sferum_plugin.permissions import ONLINE_LESSONS_VIEW
from sferum_plugin.settings import MODULE_FIELDS
from tests.host.conftest import (  # noqa: F401 - the host's fixtures
    DEFAULT_NOW,
    admin_client,
    app_factory,
    clock,
    fake_plugin,
    grant_permission,
    login,
    migrated_template,
    post,
)
from tests.host.people import seed_people


@pytest.fixture
def max_sandbox() -> Iterator[tuple[MaxSandbox, RunningMaxSandbox]]:
    sandbox = MaxSandbox(rate_limit_per_second=None)
    with serve(sandbox, deliver_webhooks=False) as running:
        yield sandbox, running


def _user_id(cabinet: Cabinet, username: str) -> int:
    with cabinet.db.session() as session:
        return session.scalars(select(User.id).where(User.username == username)).one()


def _configure_max(app: Flask, url: str) -> None:
    admin = admin_client(app)
    assert "установлен" in post(admin, "/admin/modules/sferum/install", follow_redirects=True).get_data(as_text=True)
    form = {f.name: f.default for f in MODULE_FIELDS if f.type != "boolean"}
    form.update(platform="max", max_bot_token=DEFAULT_BOT_TOKEN, max_api_url=url, max_updates="polling")
    page = post(admin, "/admin/modules/sferum/settings", form, follow_redirects=True).get_data(as_text=True)
    assert "Настройки сохранены" in page, page


@pytest.fixture
def world(app_factory: Callable[..., Flask], max_sandbox: tuple[MaxSandbox, RunningMaxSandbox]) -> dict[str, Any]:  # noqa: F811
    sandbox, running = max_sandbox
    app = app_factory(LOAD_ENTRYPOINTS=True, PLUGINS=[])
    cabinet = Cabinet.of(app)
    seeded = seed_people(cabinet)
    _configure_max(app, running.url)
    for role in ("student", "employee"):
        grant_permission(app, role, ONLINE_LESSONS_VIEW)
    max_ids = {name: sandbox.add_user(name.capitalize()) for name in ("teacher", "student", "employee")}
    chat_id = sandbox.seed_chat("ИВТ-21", owner_id=max_ids["teacher"], member_ids=[max_ids["student"]])
    with cabinet.db.session() as session:
        session.execute(delete(Lesson))
        for name, max_id in max_ids.items():
            session.add(ProfileLink(platform="max", app_id=0, user_id=_user_id(cabinet, name), sferum_user_id=max_id,
                                    linked_at=DEFAULT_NOW))  # fmt: skip
        session.add(SferumChat(platform="max", app_id=0, kind="group", target_id=seeded.group_id, title="ИВТ-21",
                               marker="g1", state="active", chat_id=chat_id, created_by=1,
                               created_at=DEFAULT_NOW))  # fmt: skip
        lessons = [
            Lesson(
                subject=subject,
                starts_at=DEFAULT_NOW - timedelta(minutes=offset),
                ends_at=DEFAULT_NOW + timedelta(minutes=40),
                group_id=group_id,
                teacher_id=seeded.teacher_id,
                room="101",
            )
            for subject, group_id, offset in (
                ("Физика", seeded.group_id, 10),
                ("Химия", seeded.group_id, 5),
                ("Биология", seeded.other_group_id, 10),
            )
        ]
        session.add_all(lessons)
        session.flush()
        ids = [lesson.id for lesson in lessons]
    (chat,) = sandbox.state()["chats"]
    return {"app": app, "sandbox": sandbox, "chat_id": chat_id, "chat_link": chat["link"], "lessons": ids,
            "seeded": seeded}  # fmt: skip


def _client(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    login(client, username)
    return client


def _messages(world: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in world["sandbox"].state()["messages"] if m["chat_id"] == world["chat_id"]]


def test_start_join_and_end_through_the_pages(world: dict[str, Any]) -> None:
    app, (physics, _, _) = world["app"], world["lessons"]
    teacher, student, outsider = _client(app, "teacher"), _client(app, "student"), _client(app, "employee")
    schedule = teacher.get("/schedule").get_data(as_text=True)
    assert "Начать онлайн-занятие в Сферум" in schedule
    assert "Начать со ссылкой на звонок MAX" in schedule

    assert post(student, f"/m/sferum/lessons/{physics}/start", {"call_link": "https://evil.test"}).status_code == 403
    assert post(outsider, f"/m/sferum/lessons/{physics}/start").status_code == 403
    assert _messages(world) == []
    started = post(teacher, f"/m/sferum/lessons/{physics}/start")
    assert started.status_code in (302, 303)
    assert started.headers["Location"] == world["chat_link"]  # the teacher starts the group call there
    assert len(_messages(world)) == 1

    assert student.post(f"/m/sferum/lessons/{physics}/join").status_code == 400  # no CSRF token
    joined = post(student, f"/m/sferum/lessons/{physics}/join")
    assert joined.headers["Location"] == world["chat_link"]
    assert joined.headers["Cache-Control"] == "no-store"  # a way into the chat: neither cached nor a referrer
    assert joined.headers["Referrer-Policy"] == "no-referrer"
    refused = post(outsider, f"/m/sferum/lessons/{physics}/join")
    assert refused.status_code == 403
    assert "max.ru" not in refused.get_data(as_text=True)
    assert world["chat_link"] not in student.get("/schedule").get_data(as_text=True)  # the link is on no page

    assert post(outsider, f"/m/sferum/lessons/{physics}/end").status_code == 403
    ended = post(teacher, f"/m/sferum/lessons/{physics}/end")
    assert ended.headers["Location"].endswith("/schedule")
    assert _messages(world)[-1]["text"] == "Онлайн-занятие «Физика» завершено."


def test_a_call_link_is_pasted_in_the_section_and_checked(world: dict[str, Any]) -> None:
    app, (_, chemistry, _) = world["app"], world["lessons"]
    teacher = _client(app, "teacher")
    page = teacher.get("/m/sferum/online-lessons").get_data(as_text=True)
    assert f'id="lesson-{chemistry}"' in page
    assert "Ссылка на звонок MAX" in page
    assert 'name="call_link"' in page

    wrong = post(teacher, f"/m/sferum/lessons/{chemistry}/start", {"call_link": "https://evil.test/call"})
    assert wrong.status_code == 400
    assert "Поле «Ссылка на звонок MAX»: ссылка ведёт не в MAX." in wrong.get_data(as_text=True)
    assert _messages(world) == []

    call = "https://max.ru/call/room-42"
    started = post(teacher, f"/m/sferum/lessons/{chemistry}/start", {"call_link": call})
    assert started.headers["Location"] == call
    (message,) = _messages(world)
    assert message["buttons"][0][0]["url"] == call
    student = _client(app, "student")
    assert post(student, f"/m/sferum/lessons/{chemistry}/join").headers["Location"] == call


def test_a_group_without_a_max_chat_is_told_what_is_missing(world: dict[str, Any]) -> None:
    app, (_, _, biology) = world["app"], world["lessons"]
    teacher = _client(app, "teacher")
    refused = post(teacher, f"/m/sferum/lessons/{biology}/start")
    assert refused.status_code == 409
    assert (
        "У группы «ПМ-22» нет чата в MAX: создайте его на странице «Чаты» или привяжите существующий."
        in refused.get_data(as_text=True)
    )
    assert world["sandbox"].request_counts() == {}


def test_an_unconfirmed_announcement_is_said_on_a_page_with_a_way_in(world: dict[str, Any]) -> None:
    app, (physics, _, _) = world["app"], world["lessons"]
    world["sandbox"].faults.inject("POST /messages", status=503)
    teacher = _client(app, "teacher")
    page = post(teacher, f"/m/sferum/lessons/{physics}/start")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "MAX не подтвердил, что объявление о занятии опубликовано в чате группы" in text
    assert f'action="/m/sferum/lessons/{physics}/join"' in text
    assert world["chat_link"] not in text
    assert world["sandbox"].request_counts()["POST /messages"] == 1
