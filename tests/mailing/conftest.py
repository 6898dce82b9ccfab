"""Fixtures of the mailing tests: an installed database, a directory with people, and a real SMTP server."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs
import pytest
from lms_host.demo.smtp_sink import MemorySink, start_smtp_server
from lms_host.services.mailer import SmtpMailer
from sqlalchemy import Engine

from hookspecs.types import Person, PersonKind, Viewer
from sferum_plugin.services.mailing import SendPolicy
from tests._db import installed_sqlite
from tests.host.conftest import app_factory, clock, fake_plugin, migrated_template  # noqa: F401 (the page tests' fixtures)
from tests.plugin.fakes import FakeDatabase, FakeDirectory, FakeHost

SENDER = "lms@university.example"
AUTHOR = Viewer(user_id=1, username="admin", full_name="Администратор", roles=frozenset({"admin"}))


@attrs.define
class ListingDirectory(FakeDirectory):
    """The fake directory with ``list_people``: the host's own filters are ``status`` and ``group``."""

    def list_people(self, kind: PersonKind, filters: Mapping[str, str]) -> Sequence[Person]:
        self.calls.append("list_people")
        people = [p for p in self.persons if p.kind == kind]
        if filters.get("status"):
            people = [p for p in people if p.status.value == filters["status"]]
        if filters.get("group", "").isdigit():
            people = [p for p in people if p.group_id == int(filters["group"])]
        return sorted(people, key=lambda p: (p.full_name, p.id))


def students(count: int, *, start: int = 1) -> list[Person]:
    """``count`` students with Cyrillic names and addresses ``s<id>@example.org``."""
    return [
        Person(
            id=number,
            kind=PersonKind.STUDENT,
            user_id=100 + number,
            full_name=f"Иванов Пётр {number:04d}",
            email=f"s{number}@example.org",
            group_id=1,
        )
        for number in range(start, start + count)
    ]


@pytest.fixture
def smtp() -> Iterator[Any]:
    """A real aiosmtpd server on a free loopback port, keeping messages in memory (``.handler.messages``)."""
    controller = start_smtp_server(MemorySink())
    yield controller
    controller.stop()


def make_host(engine: Engine, port: int, persons: Iterable[Person] = ()) -> FakeHost:
    host = FakeHost(db=FakeDatabase(engine), directory=ListingDirectory(persons=list(persons)))
    host.mailer = SmtpMailer("127.0.0.1", port, SENDER, timeout=5)
    host.settings.stored["sferum"] = {"app_id": "51234567", "service_token": "s" * 20, "app_token": "a" * 20}
    return host


@pytest.fixture
def engine(tmp_path) -> Iterator[Engine]:
    with installed_sqlite(tmp_path) as engine:
        yield engine


@pytest.fixture
def host(engine: Engine, smtp: Any) -> FakeHost:
    return make_host(engine, smtp.port, students(5))


class Waits:
    """Recorded instead of slept: the waits the sender asked for."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


def policy(**overrides: Any) -> SendPolicy:
    """A policy that never sleeps and never runs out of time, unless told otherwise."""
    return SendPolicy(**{"sleep": Waits(), "budget": 3600.0, **overrides})
