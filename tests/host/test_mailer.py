"""The mailer sends through a real SMTP server (aiosmtpd on a free loopback port)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from lms_host import Cabinet


class Inbox:
    """An aiosmtpd handler that keeps each message with the client address of its connection."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.peers: list[object] = []

    async def handle_DATA(self, server: object, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=default))  # type: ignore[arg-type]
        self.peers.append(session.peer)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def test_messages_are_sent_over_one_connection(
    app_factory: Callable[..., Flask], smtp_server: tuple[Inbox, int]
) -> None:
    inbox, port = smtp_server
    app = app_factory(LMS_SMTP_HOST="127.0.0.1", LMS_SMTP_PORT=str(port), LMS_MAIL_FROM="lk@university.example")
    mailer = Cabinet.of(app).host.mailer
    assert mailer.sender == "lk@university.example"
    with mailer.connect() as connection:
        for index in range(3):
            message = EmailMessage()
            message["From"] = mailer.sender
            message["To"] = f"student{index}@students.example.edu"
            message["Subject"] = "Рассылка"
            message.set_content(f"Текст {index}")
            connection.send(message)
    assert len(inbox.messages) == 3
    assert len(set(inbox.peers)) == 1  # one connection for the block
    first = inbox.messages[0]
    assert first["To"] == "student0@students.example.edu"
    assert first["Subject"] == "Рассылка"
    assert first.get_content().strip() == "Текст 0"


def test_password_never_appears_in_the_mailer_repr(app_factory: Callable[..., Flask]) -> None:
    app = app_factory(LMS_SMTP_USER="robot", LMS_SMTP_PASSWORD="smtp-pass-123")
    assert "smtp-pass-123" not in repr(Cabinet.of(app).host.mailer)
