"""Issue 6 in a real browser: the responsible employee filters the students who have no Sferum profile, creates
an e-mail mailing with a preview, watches its progress page refresh itself to 100%, and the SMTP server holds one
message per recipient."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from lms_host import Cabinet
from lms_host.demo.smtp_sink import MemorySink, start_smtp_server
from lms_host.models import User
from sferum_sandbox import DEFAULT_APP_ID
from sqlalchemy import select

from hookspecs.types import JobContext, PersonKind
from sferum_plugin.models import ProfileLink
from sferum_plugin.services.mailing import SendPolicy, filter_by_profile, run_mailings
from tests.browser.conftest import configure_sferum, login

PERMISSION_LABEL = "Сотрудник: Создание e-mail рассылок обучающимся и сотрудникам (Сферум)"


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    controller = start_smtp_server(MemorySink())
    monkeypatch.setenv("LMS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("LMS_SMTP_PORT", str(controller.port))
    monkeypatch.setenv("LMS_MAIL_FROM", "lms@university.example")
    yield controller
    controller.stop()


def test_employee_mails_the_students_without_a_profile(
    browser, live_server, demo_app_factory, smtp, sandbox, shots: Path
) -> None:
    server = live_server(demo_app_factory)
    app = server.app
    _, running = sandbox
    configure_sferum(app, running.url)
    cabinet = Cabinet.of(app)
    with cabinet.db.session() as session:
        student_user = session.scalars(select(User).where(User.username == "student")).one().id
        session.add(
            ProfileLink(
                platform="vk",
                app_id=DEFAULT_APP_ID,
                user_id=student_user,
                sferum_user_id=5,
                linked_at=datetime.now(UTC),
            )
        )
    everyone = cabinet.host.directory.list_people(PersonKind.STUDENT, {"status": "active"})
    without = set(filter_by_profile(cabinet.host, "none", everyone) or ())
    expected = sorted(p.email for p in everyone if p.id in without and p.email)
    assert expected
    assert len(without) < len(everyone)

    admin = browser.new_context(locale="ru-RU").new_page()
    login(admin, server.url, "admin")
    admin.goto(f"{server.url}/admin/roles")
    admin.get_by_label(PERMISSION_LABEL).check()
    admin.get_by_role("button", name="Сохранить").click()
    admin.context.close()

    page = browser.new_context(locale="ru-RU").new_page()
    login(page, server.url, "employee")
    page.goto(f"{server.url}/students")
    page.get_by_label("Статус").select_option("active")
    page.get_by_label("Учебный профиль Сферум").select_option(label="Без учебного профиля Сферум")
    page.get_by_role("button", name="Найти").click()
    page.wait_for_url(re.compile(r"sferum_profile=none"))
    assert f"Найдено: {len(without)}" in page.content()
    page.locator("summary", has_text="Действия").click()
    page.get_by_role("button", name="Создать e-mail рассылку").click()
    page.wait_for_url(re.compile(r"/m/sferum/mailings/new/students"))
    assert page.get_by_test_id("audience-total").inner_text() == f"Всего: {len(without)}"
    assert page.get_by_test_id("audience-sendable").inner_text() == f"получат письмо: {len(expected)}"
    assert "{name}" in page.locator(".sferum-placeholders").inner_text()

    page.fill("input[name=subject]", "Учебный профиль Сферум для {name}")
    page.get_by_role("button", name="Предпросмотр").click()
    preview_subject = page.get_by_test_id("preview-subject").inner_text()
    assert preview_subject.startswith("Учебный профиль Сферум для ")
    assert "{name}" not in preview_subject
    assert "/m/sferum/online-lessons" in page.get_by_test_id("preview-body").inner_text()
    page.screenshot(path=str(shots / "mailing-new.png"), full_page=True)

    page.get_by_role("button", name=re.compile(r"Отправить рассылку")).click()
    page.wait_for_url(re.compile(r"/m/sferum/mailings/\d+$"))
    assert page.get_by_test_id("mailing-state").inner_text() == "Готовится список получателей"
    assert smtp.handler.messages == []  # the request stored the mailing; the job sends it

    run_mailings(JobContext(host=cabinet.host, now=cabinet.host.clock.now()), SendPolicy(sleep=lambda _: None))
    # No reload from the test: the page refreshes itself while the mailing runs.
    page.get_by_test_id("mailing-percent").filter(has_text="100%").wait_for(timeout=10_000)
    assert page.get_by_test_id("mailing-state").inner_text() == "Завершена"
    assert page.get_by_test_id("count-sent").inner_text() == str(len(expected))
    page.screenshot(path=str(shots / "mailing-progress.png"), full_page=True)

    received = sorted(address for recipients, _ in smtp.handler.messages for address in recipients)
    assert received == expected  # one message per recipient, nobody twice
    first = BytesParser(policy=policy.default).parsebytes(smtp.handler.messages[0][1])
    assert first["Subject"].startswith("Учебный профиль Сферум для ")
    page.goto(f"{server.url}/m/sferum/mailings")
    assert "Учебный профиль Сферум для {name}" in page.content()
    page.context.close()
