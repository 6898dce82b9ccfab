"""Outgoing mail over SMTP (one connection per block of messages)."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage

__all__ = ["SmtpConnection", "SmtpMailer"]


class SmtpConnection:
    """An open SMTP connection."""

    def __init__(self, smtp: smtplib.SMTP) -> None:
        self._smtp = smtp

    def send(self, message: EmailMessage) -> None:
        """Send one message; raises :class:`smtplib.SMTPException` or :class:`OSError` on failure."""
        self._smtp.send_message(message)


class SmtpMailer:
    """The :class:`hookspecs.services.Mailer` service, configured by ``LMS_SMTP_*`` and ``LMS_MAIL_FROM``.

    With ``starttls`` the connection is upgraded before anything else is said and the server's certificate is
    verified (``ca_file``: a PEM bundle of the organisation's CA, else the system's); the login, if any, happens
    only after that.
    """

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        starttls: bool = False,
        user: str = "",
        password: str = "",
        ca_file: str = "",
        timeout: float = 30.0,
    ) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._starttls = starttls
        self._user = user
        self._password = password
        self._ca_file = ca_file
        self._timeout = timeout

    @property
    def sender(self) -> str:
        """The ``From`` address configured in the host."""
        return self._sender

    @contextmanager
    def connect(self) -> Iterator[SmtpConnection]:
        """Open a connection that stays open for the block (many messages, one connection)."""
        with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
            if self._starttls:
                # The server's certificate is verified, against the system's CAs or the organisation's own.
                smtp.starttls(context=ssl.create_default_context(cafile=self._ca_file or None))
            if self._user:
                smtp.login(self._user, self._password)
            yield SmtpConnection(smtp)

    def __repr__(self) -> str:
        # The password stays out of reprs and therefore out of logs and tracebacks.
        return f"SmtpMailer(host={self._host!r}, port={self._port}, user={self._user!r})"
