"""The seed's story in a real browser, through the example host and the Sferum sandbox over real HTTP.

The admin grants the section's right to Обучающийся and Сотрудник and writes the card hint; `teacher` creates a
Sferum educational profile on the sandbox's consent page and starts today's lesson; `student` links a profile and
joins; the hint shows on the active card; `teacher` ends the lesson; the card is idle again and the sandbox shows the
call finished. Screenshots for the user guide go to the ``shots`` directory (see conftest).
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.browser.conftest import configure_sferum, grant_online_lessons, link_profile, login

HINT = "Включите камеру <b>и микрофон</b>\nМатериалы: https://edu.example/physics"


def _today_cards(page):  # type: ignore[no-untyped-def]
    return page.locator("section.day.today article.lesson")


def test_teacher_starts_student_joins_teacher_ends(
    browser, live_server, demo_app_factory, sandbox, shots: Path
) -> None:
    box, running = sandbox
    server = live_server(demo_app_factory)
    app = server.app
    configure_sferum(app, running.url)

    admin = browser.new_context(locale="ru-RU").new_page()
    login(admin, server.url, "admin")
    grant_online_lessons(admin, server.url)
    admin.goto(f"{server.url}/admin/modules/schedule/settings")
    admin.fill("textarea[name=sferum_online_lesson_hint]", HINT)
    admin.get_by_role("button", name=re.compile("Сохранить")).click()
    admin.context.close()

    student = browser.new_context(locale="ru-RU").new_page()
    login(student, server.url, "student")
    student.goto(f"{server.url}/schedule")
    student_lessons = set(_today_cards(student).evaluate_all("cards => cards.map(c => c.dataset.lessonId)"))
    assert student_lessons, "the demo data must give `student` lessons today"

    teacher = browser.new_context(locale="ru-RU").new_page()
    login(teacher, server.url, "teacher")
    assert (
        teacher.get_by_role("navigation", name="Главное меню").get_by_role("link", name="Онлайн-занятия").is_visible()
    )
    teacher.goto(f"{server.url}/schedule")
    assert teacher.get_by_role("button", name="Начать онлайн-занятие в Сферум").count() == 0  # no profile yet
    link_profile(teacher, server.url, "Ирина", "Преподаватель")
    teacher.screenshot(path=str(shots / "online-lessons-linked.png"), full_page=True)

    teacher.goto(f"{server.url}/schedule")
    startable = _today_cards(teacher).filter(has=teacher.get_by_role("button", name="Начать онлайн-занятие в Сферум"))
    lesson_ids = startable.evaluate_all("cards => cards.map(c => c.dataset.lessonId)")
    shared = [lesson_id for lesson_id in lesson_ids if lesson_id in student_lessons]
    assert shared, "the demo data must have `teacher` teach `student`'s group today"
    card = teacher.locator(f"article.lesson[data-lesson-id='{shared[0]}']")
    card.get_by_role("button", name="Начать онлайн-занятие в Сферум").click()
    teacher.wait_for_load_state()
    card = teacher.locator(f"article.lesson[data-lesson-id='{shared[0]}']")
    assert card.get_by_role("button", name="Завершить онлайн-занятие в Сферум").is_visible()
    hint = card.locator(".lesson-hint")
    assert "<b>и микрофон</b>" in hint.inner_text()  # shown as text, not markup
    assert hint.locator("a[href='https://edu.example/physics']").count() == 1
    assert hint.locator("br").count() == 1
    card.screenshot(path=str(shots / "schedule-card-teacher-active.png"))
    assert [call["state"] for call in box.state()["calls"]] == ["active"]
    other_cards = _today_cards(teacher).locator(".lesson-hint")
    assert other_cards.count() == 1  # the hint is on the active card only

    link_profile(student, server.url, "Пётр", "Студентов")
    student.goto(f"{server.url}/schedule")
    student_card = student.locator(f"article.lesson[data-lesson-id='{shared[0]}']")
    assert "Включите камеру" in student_card.inner_text()
    student_card.screenshot(path=str(shots / "schedule-card-student-active.png"))
    student_card.get_by_role("button", name="Перейти в онлайн-занятие Сферум").click()
    student.wait_for_url(re.compile(r"/call/"))
    call_id = box.state()["calls"][0]["call_id"]
    assert call_id in student.url

    teacher.once("dialog", lambda dialog: dialog.accept())
    teacher.goto(f"{server.url}/schedule")
    card = teacher.locator(f"article.lesson[data-lesson-id='{shared[0]}']")
    card.get_by_role("button", name="Завершить онлайн-занятие в Сферум").click()
    teacher.wait_for_load_state()
    card = teacher.locator(f"article.lesson[data-lesson-id='{shared[0]}']")
    assert card.get_by_role("button", name="Начать онлайн-занятие в Сферум").is_visible()
    assert card.locator(".lesson-hint").count() == 0
    assert [call["state"] for call in box.state()["calls"]] == ["finished"]
