"""The mailing pages inside the example host: the action, the profile filter, the form, progress and controls."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lms_host import Cabinet
from lms_host.demo.smtp_sink import MemorySink, start_smtp_server
from lms_host.models import Student
from sferum_sandbox import DEFAULT_APP_ID, RunningSandbox, Sandbox, serve
from sqlalchemy import event, select

from hookspecs.types import JobContext
from sferum_plugin.models import ProfileLink, SferumMailing
from sferum_plugin.permissions import MAILING_SEND
from sferum_plugin.services.mailing import prepare_mailing, run_mailings
from tests.host.conftest import configure_sferum, grant_permission, login, post
from tests.host.people import seed_people
from tests.mailing.conftest import policy as send_policy

NEW = "/m/sferum/mailings/new/students"


@pytest.fixture
def smtp() -> Iterator[Any]:
    controller = start_smtp_server(MemorySink())
    yield controller
    controller.stop()


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    with serve(Sandbox(rate_limit_per_second=None)) as running:
        yield running


@pytest.fixture
def app(app_factory: Callable[..., Flask], sandbox: RunningSandbox, smtp: Any) -> Flask:
    app = app_factory(
        LOAD_ENTRYPOINTS=True, PLUGINS=[], LMS_SMTP_HOST="127.0.0.1", LMS_SMTP_PORT=smtp.port,
        LMS_MAIL_FROM="lms@university.example", LMS_BASE_URL="http://lms.test",
    )  # fmt: skip
    cabinet = Cabinet.of(app)
    seed_people(cabinet)
    admin = app.test_client()
    login(admin, "admin")
    post(admin, "/admin/modules/sferum/install")
    configure_sferum(admin, sandbox.url)
    with cabinet.db.session() as session:
        kuznetsov = session.scalars(select(Student).where(Student.record_number == "S-1")).one()
        user_id = kuznetsov.user_id
    assert user_id is not None
    with cabinet.db.session() as session:
        session.add(
            ProfileLink(
                platform="vk", app_id=DEFAULT_APP_ID, user_id=user_id, sferum_user_id=777, linked_at=datetime.now(UTC)
            )
        )
    return app


@pytest.fixture
def employee(app: Flask) -> FlaskClient:
    client = app.test_client()
    login(client, "employee")
    return client


def _names(page: str) -> list[str]:
    return re.findall(r'name="ids" value="\d+" aria-label="([^"]+)"', page)


def _send_job(app: Flask) -> None:
    cabinet = Cabinet.of(app)
    run_mailings(JobContext(host=cabinet.host, now=cabinet.host.clock.now()), send_policy())


def _mailing_id(response: Any) -> int:
    match = re.search(r"/m/sferum/mailings/(\d+)$", response.headers["Location"])
    assert match, response.headers.get("Location")
    return int(match.group(1))


def test_the_action_and_the_pages_need_the_permission(app: Flask, employee: FlaskClient) -> None:
    assert "Создать e-mail рассылку" not in employee.get("/students").get_data(as_text=True)
    assert post(employee, NEW, {"filter.sferum_profile": "none"}).status_code == 403
    assert employee.get("/m/sferum/mailings").status_code == 403
    grant_permission(app, "employee", MAILING_SEND)
    page = employee.get("/students").get_data(as_text=True)
    assert 'formaction="/m/sferum/mailings/new/students"' in page
    assert 'formaction="/m/sferum/mailings/new/employees"' in employee.get("/employees").get_data(as_text=True)
    assert employee.get("/m/sferum/mailings").status_code == 200
    assert employee.post(NEW, data={"filter.sferum_profile": "none"}).status_code == 400  # no CSRF token


def test_the_profile_filter_on_the_students_list(app: Flask, employee: FlaskClient) -> None:
    page = employee.get("/students?sferum_profile=none").get_data(as_text=True)
    assert "Без учебного профиля Сферум" in page
    assert _names(page) == ["Андреева Мария Олеговна", "Борисов Денис Андреевич", "Волкова Екатерина Юрьевна"]
    assert _names(employee.get("/students?sferum_profile=linked").get_data(as_text=True)) == [
        "Кузнецов Алексей Игоревич"
    ]


def test_create_preview_send_and_progress(app: Flask, employee: FlaskClient, smtp: Any) -> None:
    grant_permission(app, "employee", MAILING_SEND)
    audience = {"filter.sferum_profile": "none", "filter.q": "", "filter.status": "active"}
    form = post(employee, NEW, audience).get_data(as_text=True)
    assert "Всего: 2" in form
    assert "без адреса e-mail (будут пропущены): 1" in form
    assert "получат письмо: 1" in form
    assert "{name}" in form
    assert "{link}" in form
    assert "Создайте учебный профиль Сферум" in form
    assert 'name="filter.sferum_profile" value="none"' in form

    subject = "Профиль для {name}\r\nBcc: victim@evil.example"
    body = "Здравствуйте, {first_name}! Ссылка: {link}"
    preview = post(employee, NEW, {**audience, "step": "preview", "subject": subject, "body": body})
    text = preview.get_data(as_text=True)
    assert "Профиль для Андреева Мария Олеговна Bcc: victim@evil.example" in text
    assert "Здравствуйте, Мария! Ссылка: http://lms.test/m/sferum/online-lessons" in text
    assert smtp.handler.messages == []

    bad = post(employee, NEW, {**audience, "step": "send", "subject": "Тема {oops}", "body": body})
    assert "неизвестные подстановки" in bad.get_data(as_text=True)

    sent = post(employee, NEW, {**audience, "step": "send", "subject": subject, "body": body})
    assert sent.status_code == 303
    mailing_id = _mailing_id(sent)
    assert smtp.handler.messages == []  # the request only stored the mailing
    progress = employee.get(f"/m/sferum/mailings/{mailing_id}").get_data(as_text=True)
    assert 'http-equiv="refresh"' in progress
    assert "Готовится список получателей" in progress  # the job, not the request, expands the audience

    _send_job(app)
    progress = employee.get(f"/m/sferum/mailings/{mailing_id}").get_data(as_text=True)
    assert 'http-equiv="refresh"' not in progress
    assert "Завершена" in progress
    assert "100%" in progress
    assert "нет адреса e-mail" in progress
    assert "Борисов Денис Андреевич" in progress
    assert [recipients for recipients, _ in smtp.handler.messages] == [("andreeva@students.example.edu",)]
    message = BytesParser(policy=policy.default).parsebytes(smtp.handler.messages[0][1])
    assert message["Bcc"] is None
    assert message["From"] == "lms@university.example"
    assert message["Subject"] == "Профиль для Андреева Мария Олеговна Bcc: victim@evil.example"
    assert "Сидорова Анна Павловна" in employee.get("/m/sferum/mailings").get_data(as_text=True)


def test_selected_ids_are_the_audience(app: Flask, employee: FlaskClient, smtp: Any) -> None:
    grant_permission(app, "employee", MAILING_SEND)
    page = employee.get("/students").get_data(as_text=True)
    ids = re.findall(r'name="ids" value="(\d+)" aria-label="(?:Кузнецов|Волкова)', page)
    form = post(employee, NEW, {"ids": ids, "filter.q": ""}).get_data(as_text=True)
    assert "Получатели: выбранные в списке" in form
    assert "Всего: 2" in form
    sent = post(employee, NEW, {"ids": ids, "step": "send", "subject": "Тема", "body": "Текст"})
    _send_job(app)
    assert sorted(r for rs, _ in smtp.handler.messages for r in rs) == [
        "kuznetsov@students.example.edu",
        "volkova@students.example.edu",
    ]
    with Cabinet.of(app).db.session() as session:
        mailing = session.get(SferumMailing, _mailing_id(sent))
        assert mailing is not None
        assert mailing.author_name == "Сидорова Анна Павловна"
        assert mailing.sent == 2


def test_pause_resume_cancel_from_the_progress_page(app: Flask, employee: FlaskClient, smtp: Any) -> None:
    grant_permission(app, "employee", MAILING_SEND)
    sent = post(employee, NEW, {"filter.q": "", "step": "send", "subject": "Тема", "body": "Текст"})
    mailing_id = _mailing_id(sent)
    base = f"/m/sferum/mailings/{mailing_id}"
    cabinet = Cabinet.of(app)
    assert prepare_mailing(cabinet.host, mailing_id, now=cabinet.host.clock.now())  # the job's first step
    assert post(employee, f"{base}/pause").status_code == 303
    assert "Продолжить" in employee.get(base).get_data(as_text=True)
    _send_job(app)
    assert smtp.handler.messages == []
    assert employee.post(f"{base}/resume").status_code == 400  # CSRF checked by the host
    assert post(employee, f"{base}/resume").status_code == 303
    assert post(employee, f"{base}/cancel").status_code == 303
    assert post(employee, f"{base}/resume").status_code == 409
    _send_job(app)
    page = employee.get(base).get_data(as_text=True)
    assert smtp.handler.messages == []
    assert "Отменена" in page
    assert "рассылка отменена" in page


def test_the_requests_work_does_not_grow_with_the_audience(app: Flask, employee: FlaskClient) -> None:
    grant_permission(app, "employee", MAILING_SEND)
    cabinet = Cabinet.of(app)
    engine = cabinet.db.engine
    counts = []
    for extra in (10, 400):
        with cabinet.db.session() as session:
            session.add_all(
                Student(record_number=f"B{extra}-{n}", full_name=f"Яковлев {n}", email=f"y{extra}-{n}@example.org")
                for n in range(extra)
            )
        statements: list[str] = []

        def record(*args: Any, statements: list[str] = statements) -> None:
            statements.append(args[2])

        event.listen(engine, "before_cursor_execute", record)
        try:
            response = post(employee, NEW, {"filter.q": "", "step": "send", "subject": "Тема", "body": "Текст"})
        finally:
            event.remove(engine, "before_cursor_execute", record)
        assert response.status_code == 303
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


def test_a_mailing_cancelled_before_the_job_expands_it_gets_no_recipients(
    app: Flask, employee: FlaskClient, smtp: Any
) -> None:
    grant_permission(app, "employee", MAILING_SEND)
    mailing_id = _mailing_id(post(employee, NEW, {"filter.q": "", "step": "send", "subject": "Т", "body": "Т"}))
    assert post(employee, f"/m/sferum/mailings/{mailing_id}/cancel").status_code == 303
    _send_job(app)
    with Cabinet.of(app).db.session() as session:
        mailing = session.get(SferumMailing, mailing_id)
        assert mailing is not None
        assert (mailing.state, mailing.total) == ("cancelled", 0)
    assert smtp.handler.messages == []


EMPLOYEES_NEW = "/m/sferum/mailings/new/employees"
LETTER = {"step": "send", "subject": "Тема", "body": "Текст"}


def _unit_id(app: Flask, title: str) -> int:
    from lms_host.models import StructuralUnit

    with Cabinet.of(app).db.session() as session:
        return session.scalars(select(StructuralUnit.id).where(StructuralUnit.title == title)).one()


def _no_mailing_and_no_mail(app: Flask, smtp: Any) -> None:
    _send_job(app)  # had anything been stored, the job would send it now
    with Cabinet.of(app).db.session() as session:
        assert session.scalars(select(SferumMailing.id)).all() == []
    assert smtp.handler.messages == []


@pytest.mark.parametrize(
    ("url", "field", "value"),
    [
        (EMPLOYEES_NEW, "filter.unit", "-1"),
        (EMPLOYEES_NEW, "filter.unit", "١"),  # an Arabic-Indic one: int() reads it, the list does not
        (EMPLOYEES_NEW, "filter.unit", "999999"),  # no such unit
        (EMPLOYEES_NEW, "filter.group", "1"),  # the students' filter: the employees list has none such
        (EMPLOYEES_NEW, "filter.colour", "red"),  # a filter nobody here can apply
        (EMPLOYEES_NEW, "filter.sferum_profile", "everyone"),
        (EMPLOYEES_NEW, "filter.status", "retired"),
        (NEW, "filter.group", "١٢"),
        (NEW, "filter.q", "a\x00b"),  # PostgreSQL cannot even compare it
    ],
)
def test_a_filter_that_cannot_be_applied_refuses_the_mailing_and_names_the_field(
    app: Flask, employee: FlaskClient, smtp: Any, url: str, field: str, value: str
) -> None:
    grant_permission(app, "employee", MAILING_SEND)
    listed = {"filter.q": "", "filter.status": "active"}
    for step in ("", "preview", "send"):
        response = post(employee, url, {**listed, **LETTER, "step": step, field: value})
        assert response.status_code == 400, step
        page = response.get_data(as_text=True)
        assert field in page
        assert "Всего:" not in page  # no count of people the filter did not choose
    _no_mailing_and_no_mail(app, smtp)


def test_a_selection_none_of_whose_ids_can_be_read_is_not_the_whole_list(
    app: Flask, employee: FlaskClient, smtp: Any
) -> None:
    grant_permission(app, "employee", MAILING_SEND)
    response = post(employee, EMPLOYEES_NEW, {"ids": ["١", "-2"], "filter.q": "", **LETTER})
    assert response.status_code == 400
    assert "ids" in response.get_data(as_text=True)
    _no_mailing_and_no_mail(app, smtp)


def test_a_unit_filter_that_exists_narrows_the_mailing_to_the_unit(
    app: Flask, employee: FlaskClient, smtp: Any
) -> None:
    grant_permission(app, "employee", MAILING_SEND)
    unit = str(_unit_id(app, "Учебный отдел"))
    listed = {"filter.q": "", "filter.unit": unit, "filter.status": ""}
    assert "Всего: 1" in post(employee, EMPLOYEES_NEW, listed).get_data(as_text=True)
    sent = post(employee, EMPLOYEES_NEW, {**listed, **LETTER})
    assert sent.status_code == 303
    _send_job(app)
    assert [recipients for recipients, _ in smtp.handler.messages] == [("sidorova@example.edu",)]
    with Cabinet.of(app).db.session() as session:
        mailing = session.get(SferumMailing, _mailing_id(sent))
        assert mailing is not None
        assert f"unit={unit}" in mailing.audience
