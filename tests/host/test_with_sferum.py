"""The real Sferum module inside the example host, loaded through its entry point, with the sandbox over HTTP."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from lms_host import Cabinet
from lms_host.models import Lesson
from sferum_sandbox import (
    DEFAULT_APP_ID,
    RunningSandbox,
)
from sqlalchemy import delete

from sferum_plugin.models import ProfileLink
from sferum_plugin.permissions import ONLINE_LESSONS_VIEW
from tests.host.conftest import (
    DEFAULT_NOW,
    configure_sferum,
    grant_permission,
    install_sferum,
    login,
    post,
)
from tests.host.people import Seeded, seed_people
from tests.host.test_schedule import add_lessons, count_queries


@pytest.fixture
def app(app_factory: Callable[..., Flask], sandbox: RunningSandbox) -> Flask:
    app = app_factory(LOAD_ENTRYPOINTS=True, PLUGINS=[])
    app.extensions["test_seeded"] = seed_people(Cabinet.of(app))
    install_sferum(app, sandbox.url)
    return app


def test_the_section_is_forbidden_and_absent_from_the_menu_until_the_right_is_granted(app: Flask) -> None:
    student = app.test_client()
    login(student, "student")
    assert student.get("/m/sferum/online-lessons").status_code == 403
    assert "/m/sferum/online-lessons" not in student.get("/").get_data(as_text=True)

    grant_permission(app, "student", ONLINE_LESSONS_VIEW)

    page = student.get("/m/sferum/online-lessons")
    assert page.status_code == 200
    assert "Создать учебный профиль Сферум" in page.get_data(as_text=True)
    assert "/m/sferum/online-lessons" in student.get("/").get_data(as_text=True)


def test_check_connection_reports_each_credential_and_names_the_wrong_one(app: Flask, sandbox: RunningSandbox) -> None:
    admin = app.test_client()
    login(admin, "admin")
    page = post(admin, "/m/sferum/settings/check").get_data(as_text=True)
    assert page.count("Принят") == 3, page

    configure_sferum(admin, sandbox.url, app_token="vk1.a.not-a-token-the-sandbox-knows")
    page = post(admin, "/m/sferum/settings/check").get_data(as_text=True)
    assert page.count("Принят") == 2
    wrong = page[page.index('data-credential="app_token"') :]
    assert "Ошибка" in wrong[:400]
    assert "not-a-token" not in page  # the token itself is never shown

    student = app.test_client()
    login(student, "student")
    assert post(student, "/m/sferum/settings/check").status_code == 403


def test_schedule_costs_the_same_queries_for_5_and_50_lessons_with_the_module(app: Flask) -> None:
    cabinet = Cabinet.of(app)
    seeded: Seeded = app.extensions["test_seeded"]
    grant_permission(app, "student", ONLINE_LESSONS_VIEW)
    with cabinet.db.session() as session:
        session.add(ProfileLink(platform="vk", app_id=DEFAULT_APP_ID, user_id=_user_id(cabinet, "student"),
                                sferum_user_id=1001, linked_at=DEFAULT_NOW))  # fmt: skip
        session.execute(delete(Lesson))
    client = app.test_client()
    login(client, "student")

    add_lessons(cabinet, seeded, 5)
    client.get("/schedule")
    with count_queries(cabinet) as few:
        assert client.get("/schedule").get_data(as_text=True).count('class="lesson"') == 5
    with cabinet.db.session() as session:
        session.execute(delete(Lesson))
    add_lessons(cabinet, seeded, 50)
    with count_queries(cabinet) as many:
        assert client.get("/schedule").get_data(as_text=True).count('class="lesson"') == 50
    assert len(many) == len(few)


def test_an_outsider_never_receives_the_join_link(app: Flask) -> None:
    cabinet = Cabinet.of(app)
    seeded: Seeded = app.extensions["test_seeded"]
    for role in ("student", "employee"):
        grant_permission(app, role, ONLINE_LESSONS_VIEW)
    with cabinet.db.session() as session:
        session.execute(delete(Lesson))
    (lesson_id,) = add_lessons(cabinet, seeded, 3)[2:]  # index 2: Wednesday, the fake clock's today
    with cabinet.db.session() as session:
        lesson = session.get(Lesson, lesson_id)
        lesson.starts_at = DEFAULT_NOW - timedelta(minutes=10)
        lesson.ends_at = DEFAULT_NOW + timedelta(minutes=40)
        for username, sferum_id in (("teacher", 1002), ("student", 1001), ("employee", 1003)):
            session.add(ProfileLink(platform="vk", app_id=DEFAULT_APP_ID, user_id=_user_id(cabinet, username),
                                    sferum_user_id=sferum_id, linked_at=DEFAULT_NOW))  # fmt: skip
    teacher = app.test_client()
    login(teacher, "teacher")
    assert post(teacher, f"/m/sferum/lessons/{lesson_id}/start").status_code == 303

    outsider = app.test_client()
    login(outsider, "employee")
    refused = post(outsider, f"/m/sferum/lessons/{lesson_id}/join")
    assert refused.status_code == 403
    assert "/call/" not in refused.get_data(as_text=True)
    assert post(outsider, f"/m/sferum/lessons/{lesson_id}/end").status_code == 403

    student = app.test_client()
    login(student, "student")
    joined = post(student, f"/m/sferum/lessons/{lesson_id}/join")
    assert joined.status_code == 303
    assert "/call/" in joined.headers["Location"]
    assert student.post(f"/m/sferum/lessons/{lesson_id}/join").status_code == 400  # no CSRF token


def test_admin_sees_linked_profiles_and_unlinks_one(app: Flask) -> None:
    cabinet = Cabinet.of(app)
    with cabinet.db.session() as session:
        session.add(ProfileLink(platform="vk", app_id=DEFAULT_APP_ID, user_id=_user_id(cabinet, "student"),
                                sferum_user_id=1001, display_name="Анна Иванова", linked_at=DEFAULT_NOW))  # fmt: skip
    admin = app.test_client()
    login(admin, "admin")
    page = admin.get("/m/sferum/profiles").get_data(as_text=True)
    assert "Анна Иванова" in page
    student = app.test_client()
    login(student, "student")
    assert student.get("/m/sferum/profiles").status_code == 403
    assert post(student, f"/m/sferum/profiles/{_user_id(cabinet, 'student')}/unlink").status_code == 403

    assert post(admin, f"/m/sferum/profiles/{_user_id(cabinet, 'student')}/unlink").status_code == 303
    assert "Анна Иванова" not in admin.get("/m/sferum/profiles").get_data(as_text=True)


def _user_id(cabinet: Cabinet, username: str) -> int:
    from lms_host.models import User
    from sqlalchemy import select

    with cabinet.db.session() as session:
        return session.scalars(select(User.id).where(User.username == username)).one()


def test_a_group_chat_made_by_its_teacher_opens_in_sferum_for_its_members_only(
    app: Flask, sandbox: RunningSandbox
) -> None:
    import httpx

    cabinet = Cabinet.of(app)
    seeded: Seeded = app.extensions["test_seeded"]
    with cabinet.db.session() as session:
        for username, sferum_id in (("teacher", 1002), ("student", 1001), ("employee", 1003)):
            session.add(ProfileLink(platform="vk", app_id=DEFAULT_APP_ID, user_id=_user_id(cabinet, username),
                                    sferum_user_id=sferum_id, linked_at=DEFAULT_NOW))  # fmt: skip
    admin = app.test_client()
    login(admin, "admin")
    post(admin, "/admin/modules/main/settings", {"org_name": "Университет", "chat_type": "sferum"})

    teacher = app.test_client()
    login(teacher, "teacher")
    made = post(teacher, "/m/sferum/chats/new", {"kind": "group", "group_id": str(seeded.group_id),
                                                  "title": "ИВТ <b>21</b>"})  # fmt: skip
    assert made.status_code == 303
    (chat,) = httpx.get(f"{sandbox.url}/_sandbox/state").json()["chats"]
    assert chat["title"].startswith("ИВТ <b>21</b> [g")

    student = app.test_client()
    login(student, "student")
    listing = student.get("/chats").get_data(as_text=True)
    assert "ИВТ &lt;b&gt;21&lt;/b&gt;" in listing  # escaped by the host
    opened = re.search(r'href="(/m/sferum/chats/\d+/open)"', listing)
    assert opened is not None, listing
    assert "/join/" not in listing  # the invite link is on no page
    reply = student.get(opened.group(1))
    assert reply.status_code == 302
    assert reply.headers["Location"].startswith(f"{sandbox.url}/join/")
    assert reply.headers["Cache-Control"] == "no-store"

    outsider = app.test_client()
    login(outsider, "employee")  # linked, but neither in the group nor its teacher
    assert opened.group(1) not in outsider.get("/chats").get_data(as_text=True)
    assert outsider.get(opened.group(1)).status_code == 404
