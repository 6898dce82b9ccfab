"""Sferum chats in a real browser, through the example host and the Sferum sandbox over real HTTP.

The admin switches the ЛК's chat type to «Внешняя система «Сферум»» (the ЛК's own chats disappear from Чаты);
`teacher` and `student` link profiles; `teacher` creates the chat of `student`'s group; `student` finds it in Чаты
and «Открыть в Сферум» takes them to the chat's invite page in the sandbox; the admin's «Синхронизация чатов» shows
the chat and a preview with nothing to change; switching back to «Чаты ЛК» shows the ЛК's own chats again.
Screenshots for the user guide go to the ``shots`` directory (see conftest).
"""

from __future__ import annotations

import re
from pathlib import Path

from lms_host import Cabinet
from lms_host.models import Student, User
from sqlalchemy import select

from tests.browser.conftest import configure_sferum, grant_online_lessons, link_profile, login

NATIVE_CHAT = "ИВТ-21 — общий чат"  # one of the demo data's own ЛК chats


def _group_of(app, username: str) -> str:  # type: ignore[no-untyped-def]
    with Cabinet.of(app).db.session() as session:
        student = session.scalars(
            select(Student).join(User, Student.user_id == User.id).where(User.username == username)
        ).one()
        assert student.group is not None
        return student.group.title


def _set_chat_type(page, base_url: str, label: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base_url}/admin/modules/main/settings")
    page.get_by_label("Тип чатов").select_option(label=label)
    page.get_by_role("button", name=re.compile("Сохранить")).click()
    page.wait_for_load_state()
    assert "Настройки сохранены" in page.content()


def test_teacher_creates_the_group_chat_and_the_student_opens_it_in_sferum(
    browser, live_server, demo_app_factory, sandbox, shots: Path
) -> None:
    box, running = sandbox
    server = live_server(demo_app_factory)
    app = server.app
    configure_sferum(app, running.url)
    group = _group_of(app, "student")

    admin = browser.new_context(locale="ru-RU").new_page()
    login(admin, server.url, "admin")
    grant_online_lessons(admin, server.url)

    student = browser.new_context(locale="ru-RU").new_page()
    login(student, server.url, "student")
    student.goto(f"{server.url}/chats")
    assert student.get_by_text(NATIVE_CHAT).is_visible()
    _set_chat_type(admin, server.url, "Внешняя система «Сферум»")
    student.goto(f"{server.url}/chats")
    assert student.get_by_text("Тип чатов: Внешняя система «Сферум»").is_visible()
    assert student.get_by_text(NATIVE_CHAT).count() == 0  # hidden, not deleted
    assert "У вас пока нет чатов." in student.content()

    teacher = browser.new_context(locale="ru-RU").new_page()
    login(teacher, server.url, "teacher")
    link_profile(teacher, server.url, "Ирина", "Преподаватель")
    link_profile(student, server.url, "Пётр", "Студентов")

    teacher.goto(f"{server.url}/chats")
    teacher.get_by_role("link", name="Создать чат в Сферум").click()
    teacher.get_by_label("Название чата").fill(f"{group} <учебный чат>")
    teacher.get_by_label("Чат учебной группы").check()
    teacher.get_by_label("Учебная группа").select_option(label=group)
    teacher.get_by_role("button", name="Создать чат в Сферум").click()
    teacher.wait_for_load_state()
    assert teacher.get_by_text("Чат создан в Сферуме.").is_visible()
    teacher.screenshot(path=str(shots / "chat-created.png"), full_page=True)
    (chat,) = box.state()["chats"]
    assert chat["title"].startswith(f"{group} <учебный чат> [g")
    assert len(chat["members"]) >= 3  # the organisation account, the teacher and the student at least

    student.goto(f"{server.url}/chats")
    row = student.locator("table.backend-chats tr", has_text=f"{group} <учебный чат>")
    assert row.count() == 1  # the title is shown as text (escaped), not markup
    assert "Учебная группа" in row.inner_text()
    student.screenshot(path=str(shots / "chats-list.png"), full_page=True)
    assert "/join/" not in student.content()  # the invite link is on no page
    row.get_by_role("link", name="Открыть в Сферум").click()
    student.wait_for_url(re.compile(re.escape(running.url) + r"/join/"))

    admin.goto(f"{server.url}/m/sferum/sync")
    assert admin.get_by_role("heading", name="Синхронизация чатов", level=1).is_visible()
    assert f"{group} <учебный чат>" in admin.locator("main").inner_text()
    admin.get_by_role("link", name="Предпросмотр следующей синхронизации").click()
    admin.wait_for_load_state()
    assert "Изменений нет." in admin.content()
    admin.screenshot(path=str(shots / "sync-admin.png"), full_page=True)

    _set_chat_type(admin, server.url, "Чаты ЛК")
    student.goto(f"{server.url}/chats")
    assert student.get_by_text(NATIVE_CHAT).is_visible()  # the ЛК's own chats are back
