"""The mailer sends through a real SMTP server (aiosmtpd on a free loopback port)."""

from __future__ import annotations

import smtplib
import socket
import ssl
from collections.abc import Callable, Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from lms_host import Cabinet
from lms_host.services.mailer import SmtpMailer


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


def _certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (the test's own CA), written as PEM files."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "smtp.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp.pem", directory / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[Inbox, int, Path, list[tuple[bytes, bytes, bool]]]]:
    """aiosmtpd that requires STARTTLS before anything, and a login (only over TLS) as lk / s3cret."""
    from aiosmtpd.smtp import AuthResult, LoginPassword

    cert_path, key_path = _certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    logins: list[tuple[bytes, bytes, bool]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        assert isinstance(data, LoginPassword)
        logins.append((data.login, data.password, session.ssl is not None))
        return AuthResult(success=(data.login, data.password) == (b"lk", b"s3cret"), handled=False)

    inbox, port = Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
                            auth_required=True, auth_require_tls=True, authenticator=authenticator)  # fmt: skip
    controller.start()
    try:
        yield inbox, port, cert_path, logins
    finally:
        controller.stop()


def _one_message(mailer: SmtpMailer) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = mailer.sender, "a@students.example.edu", "TLS"
    message.set_content("Через STARTTLS.")
    with mailer.connect() as connection:
        connection.send(message)


def test_starttls_verifies_the_server_and_logs_in_only_over_tls(tls_server) -> None:  # type: ignore[no-untyped-def]
    inbox, port, cert_path, logins = tls_server
    mailer = SmtpMailer("127.0.0.1", port, "lk@university.example", starttls=True, user="lk", password="s3cret",
                        ca_file=str(cert_path))  # fmt: skip
    _one_message(mailer)
    assert [m["Subject"] for m in inbox.messages] == ["TLS"]
    assert logins == [(b"lk", b"s3cret", True)]  # the password crossed the wire encrypted
    assert "s3cret" not in repr(mailer)


def test_starttls_refuses_a_server_it_cannot_verify_before_sending_the_password(tls_server) -> None:  # type: ignore[no-untyped-def]
    inbox, port, _, logins = tls_server
    mailer = SmtpMailer("127.0.0.1", port, "lk@university.example", starttls=True, user="lk", password="s3cret")
    with pytest.raises(ssl.SSLCertVerificationError):
        _one_message(mailer)
    assert (inbox.messages, logins) == ([], [])


def test_a_wrong_password_is_an_error_and_sends_nothing(tls_server) -> None:  # type: ignore[no-untyped-def]
    inbox, port, cert_path, _ = tls_server
    mailer = SmtpMailer("127.0.0.1", port, "lk@university.example", starttls=True, user="lk", password="wrong",
                        ca_file=str(cert_path))  # fmt: skip
    with pytest.raises(smtplib.SMTPAuthenticationError) as raised:
        _one_message(mailer)
    assert "wrong" not in str(raised.value)
    assert inbox.messages == []
