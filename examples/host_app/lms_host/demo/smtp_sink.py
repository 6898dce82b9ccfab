"""A local SMTP server that keeps what it receives: ``make demo``'s mail server, and the tests' one.

:class:`FolderSink` writes each received message to a folder as an ``.eml`` file (the demo's «Почта (демо)» page
lists them); :class:`MemorySink` keeps them in a list.  :func:`start_smtp_server` runs aiosmtpd on 127.0.0.1.
"""

from __future__ import annotations

import itertools
import socket
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import attrs
from aiosmtpd.controller import Controller

__all__ = ["FolderSink", "MemorySink", "StoredMessage", "free_port", "read_folder", "start_smtp_server"]


@attrs.frozen
class StoredMessage:
    """A received message, parsed for a listing."""

    name: str
    envelope_to: tuple[str, ...]
    sender: str
    to: str
    subject: str
    date: str
    body: str


class MemorySink:
    """An aiosmtpd handler that keeps ``(envelope recipients, raw bytes)`` of each message in memory."""

    def __init__(self) -> None:
        self.messages: list[tuple[tuple[str, ...], bytes]] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.messages.append((tuple(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 Message accepted for delivery"


class FolderSink:
    """An aiosmtpd handler that writes each message to ``folder`` as ``<time>-<n>.eml``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._counter = itertools.count(1)
        folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        path = self.folder / f"{stamp}-{next(self._counter):06d}.eml"
        recipients = "".join(f"X-Envelope-To: {address}\r\n" for address in envelope.rcpt_tos).encode("ascii")
        path.write_bytes(recipients + bytes(envelope.content))
        return "250 Message accepted for delivery"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_smtp_server(handler: object, port: int = 0) -> Controller:
    """Start aiosmtpd on 127.0.0.1 (``port`` 0: a free one); the caller calls ``stop()``; ``.port`` is the port."""
    controller = Controller(handler, hostname="127.0.0.1", port=port or free_port())
    controller.start()
    return controller


def read_folder(folder: Path, limit: int = 200) -> Sequence[StoredMessage]:
    """The messages stored in ``folder``, newest first."""
    if not folder.is_dir():
        return []
    parser = BytesParser(policy=policy.default)
    result: list[StoredMessage] = []
    for path in sorted(folder.glob("*.eml"), reverse=True)[:limit]:
        with path.open("rb") as handle:
            message = parser.parse(handle)
        part = message.get_body(preferencelist=("plain",))
        result.append(
            StoredMessage(
                name=path.name,
                envelope_to=tuple(str(value) for value in message.get_all("X-Envelope-To", [])),
                sender=str(message.get("From", "")),
                to=str(message.get("To", "")),
                subject=str(message.get("Subject", "")),
                date=str(message.get("Date", "")),
                body=part.get_content() if part is not None else "",
            )
        )
    return result
