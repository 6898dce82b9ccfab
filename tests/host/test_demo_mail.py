"""The demo SMTP server's messages on Администрирование → «Почта (демо)» (demo mode, administrators only)."""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

from flask import Flask
from lms_host import Cabinet
from lms_host.demo.smtp_sink import FolderSink, read_folder, start_smtp_server

from tests.host.conftest import login
from tests.host.people import seed_people


def _send_to_sink(folder: Path) -> None:
    controller = start_smtp_server(FolderSink(folder))
    try:
        message = EmailMessage()
        message["From"] = "lms@university.example"
        message["To"] = "Андреева Мария <andreeva@example.org>"
        message["Subject"] = "Создайте учебный профиль Сферум"
        message.set_content("Здравствуйте!")
        with smtplib.SMTP("127.0.0.1", controller.port, timeout=5) as smtp:
            smtp.send_message(message)
    finally:
        controller.stop()


def test_the_demo_mail_page_lists_what_the_sink_received(app_factory: Callable[..., Flask], tmp_path: Path) -> None:
    app = app_factory(LMS_DEMO_MODE=True, LMS_INSTANCE_PATH=str(tmp_path / "instance"))
    seed_people(Cabinet.of(app))
    _send_to_sink(tmp_path / "instance" / "mail")
    (stored,) = read_folder(tmp_path / "instance" / "mail")
    assert stored.envelope_to == ("andreeva@example.org",)
    assert stored.subject == "Создайте учебный профиль Сферум"

    admin = app.test_client()
    login(admin, "admin")
    page = admin.get("/admin/demo-mail").get_data(as_text=True)
    assert "Создайте учебный профиль Сферум" in page
    assert "Андреева Мария" in page
    assert "Здравствуйте!" in page
    assert "/admin/demo-mail" in admin.get("/admin/modules").get_data(as_text=True)
    employee = app.test_client()
    login(employee, "employee")
    assert employee.get("/admin/demo-mail").status_code == 403


def test_the_demo_mail_page_is_absent_outside_demo_mode(app: Flask) -> None:
    admin = app.test_client()
    login(admin, "admin")
    assert admin.get("/admin/demo-mail").status_code == 404
    assert "/admin/demo-mail" not in admin.get("/admin/modules").get_data(as_text=True)
