"""E-mail mailing throughput and the web request's own time, against a real local SMTP server (aiosmtpd).

1. Sending: 5,000 recipients through the ``sferum.mailing`` job to aiosmtpd on 127.0.0.1 (in its own process), with
   the job's one reused SMTP connection, then with a new connection per message (the same job, a mailer that
   connects for each send).
   State is committed around every message in both cases (one commit per message, SQLite on disk).
2. The web request: «Отправить рассылку» POSTed to the example host (Flask test client, real host database and
   directory, the module installed) for audiences of 50, 500 and 5,000 students chosen by the list's filter.
   The request resolves the audience (one query), stores the mailing and one executemany of recipients, and
   returns; nothing is sent in it.

Run: ``python benchmarks/mailing.py [--recipients 5000] [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import re
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import insert, select

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "examples" / "host_app")]

from lms_host import Cabinet, create_app  # noqa: E402
from lms_host.demo.smtp_sink import free_port, start_smtp_server  # noqa: E402
from lms_host.models import Student, StudyGroup  # noqa: E402

from hookspecs.types import JobContext  # noqa: E402
from sferum_plugin.models import SferumMailing  # noqa: E402
from sferum_plugin.services.mailing import SendPolicy, run_mailings  # noqa: E402


class CountingSink:
    """Accepts and counts messages (no disk), so the figures are the sender's, not the sink's storage."""

    def __init__(self, counter: Any) -> None:
        self.counter = counter

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.counter.get_lock():
            self.counter.value += 1
        return "250 OK"


def _serve_sink(port: int, counter: Any, ready: Any) -> None:
    start_smtp_server(CountingSink(counter), port=port)
    ready.set()
    threading.Event().wait()  # until the benchmark terminates this process


class SinkProcess:
    """aiosmtpd in its own process, so that the server does not share the sender's interpreter lock."""

    def __init__(self) -> None:
        self.port = free_port()
        self._counter = multiprocessing.Value("i", 0)
        ready = multiprocessing.Event()
        self._process = multiprocessing.Process(target=_serve_sink, args=(self.port, self._counter, ready), daemon=True)
        self._process.start()
        assert ready.wait(30), "the SMTP sink did not start"

    @property
    def count(self) -> int:
        return int(self._counter.value)

    def reset(self) -> None:
        with self._counter.get_lock():
            self._counter.value = 0

    def stop(self) -> None:
        self._process.terminate()
        self._process.join(10)


class PerMessageMailer:
    """The host's mailer, but every ``send`` opens (and closes) its own SMTP connection."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    @property
    def sender(self) -> str:
        return str(self._inner.sender)

    @contextmanager
    def connect(self) -> Iterator[Any]:
        inner = self._inner

        class _Connection:
            def send(self, message: Any) -> None:
                with inner.connect() as connection:
                    connection.send(message)

        yield _Connection()


class HostWithMailer:
    """The host's services with another mailer."""

    def __init__(self, host: Any, mailer: Any) -> None:
        self._host, self.mailer = host, mailer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._host, name)


def _app(folder: Path, smtp_port: int, database_url: str) -> Any:
    app = create_app(
        {
            "TESTING": True,
            "LMS_INSTANCE_PATH": str(folder / "instance"),
            "LMS_DATABASE_URL": database_url or f"sqlite:///{folder / 'lms.sqlite3'}",
            "LMS_SECRET_KEY": "benchmark",
            "LMS_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "LMS_SMTP_HOST": "127.0.0.1",
            "LMS_SMTP_PORT": smtp_port,
            "LMS_MAIL_FROM": "lms@university.example",
            "LMS_BASE_URL": "http://lms.example",
        }
    )
    runner = app.test_cli_runner()
    for args in (["init-db"], ["demo-data"], ["modules", "install", "sferum"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    return app


def _group_of(cabinet: Cabinet, size: int, tag: str) -> int:
    """A new study group with ``size`` students, each with an address."""
    with cabinet.db.session() as session:
        group = StudyGroup(title=f"Бенчмарк-{tag}")
        session.add(group)
        session.flush()
        session.execute(
            insert(Student),
            [
                {"record_number": f"B{tag}-{n}", "full_name": f"Студентов Студент {tag}-{n:05d}",
                 "email": f"b{tag}.{n}@students.example.edu", "group_id": group.id, "status": "active"}
                for n in range(size)
            ],
        )  # fmt: skip
        return group.id


def _login(client: Any) -> str:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    client.post("/login", data={"csrf_token": token.group(1), "username": "admin", "password": "demo"})
    page = client.get("/students").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    return token.group(1)


def _request_ms(client: Any, token: str, group_id: int) -> float:
    form = {"csrf_token": token, "filter.group": str(group_id), "step": "send", "subject": "Тема {name}",
            "body": "Текст {link}"}  # fmt: skip
    start = time.perf_counter()
    response = client.post("/m/sferum/mailings/new/students", data=form)
    elapsed = (time.perf_counter() - start) * 1000
    assert response.status_code == 303, response.status_code
    return elapsed


def _drain(host: Any) -> float:
    start = time.perf_counter()
    run_mailings(JobContext(host=host, now=host.clock.now()), SendPolicy(budget=3600.0))
    return time.perf_counter() - start


def _cancel_all(cabinet: Cabinet) -> None:
    with cabinet.db.session() as session:
        for mailing in session.scalars(select(SferumMailing).where(SferumMailing.state.in_(("preparing", "sending")))):
            mailing.state = "cancelled"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=5000)
    parser.add_argument(
        "--postgres",
        default="",
        help="a PostgreSQL server URL (postgresql+psycopg://...); a fresh database is created on it and dropped",
    )
    args = parser.parse_args()
    if args.postgres:
        from tests._db import fresh_database_url

        with fresh_database_url(args.postgres) as url:
            return _run(args.recipients, url)
    return _run(args.recipients, "")


def _run(recipients: int, database_url: str) -> int:
    print("Database:", database_url.split("@")[-1] if database_url else "SQLite file (the example host's default)")
    sink = SinkProcess()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            app = _app(Path(tmp), sink.port, database_url)
            cabinet = Cabinet.of(app)
            client = app.test_client()
            token = _login(client)

            print("Web request «Отправить рассылку» (audience by the list's filter; median of 5):")
            for size in (50, 500, 5000):
                group_id = _group_of(cabinet, size, f"request-{size}")
                times = [_request_ms(client, token, group_id) for _ in range(5)]
                _cancel_all(cabinet)  # these mailings are not sent
                print(f"  {size:>6} recipients: {statistics.median(times):7.1f} ms")

            group_id = _group_of(cabinet, recipients, "send")
            _request_ms(client, token, group_id)
            seconds = _drain(cabinet.host)
            assert sink.count == recipients, sink.count
            print(f"Sending {recipients} messages, one reused SMTP connection: "
                  f"{seconds:6.1f} s, {recipients / seconds:7.1f} messages/s")  # fmt: skip

            sink.reset()
            _request_ms(client, token, group_id)
            per_message = HostWithMailer(cabinet.host, PerMessageMailer(cabinet.host.mailer))
            seconds = _drain(per_message)
            assert sink.count == recipients, sink.count
            print(f"Sending {recipients} messages, a new SMTP connection per message: "
                  f"{seconds:6.1f} s, {recipients / seconds:7.1f} messages/s")  # fmt: skip
            cabinet.dispose()
    finally:
        sink.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
