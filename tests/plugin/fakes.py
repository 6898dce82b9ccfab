"""Small in-memory implementations of the host services, for testing the plugin without the example host."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import attrs
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from hookspecs.types import LessonRef, Person, PersonKind

ORG_TZ = ZoneInfo("Europe/Moscow")


@attrs.define
class FakeDatabase:
    engine: Engine

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine) as session, session.begin():
            yield session


@attrs.define
class FakeSettings:
    stored: dict[str, dict[str, str]] = attrs.field(factory=dict)
    installed: set[str] = attrs.field(factory=set)

    def get(self, module: str) -> Mapping[str, str]:
        return dict(self.stored.get(module, {}))

    def is_installed(self, module: str) -> bool:
        return module in self.installed


@attrs.define
class FakeClock:
    current: datetime = datetime(2026, 11, 30, 10, 0, tzinfo=ORG_TZ)

    @property
    def timezone(self) -> tzinfo:
        return ORG_TZ

    def now(self) -> datetime:
        return self.current

    def today(self) -> date:
        return self.current.date()


class FakeUrls:
    def for_route(self, module: str, endpoint: str, /, **params: object) -> str:
        suffix = "".join(f"/{value}" for value in params.values())
        return f"/m/{module}/{endpoint}{suffix}"

    def external(self, path: str) -> str:
        return f"http://lms.test{path}"

    def host_page(self, name: str, /, **params: object) -> str:
        return f"/{name}"


@attrs.define
class FakeI18n:
    locale: str = "ru"


@attrs.define
class FakeDirectory:
    """People and lessons in memory; counts its calls so tests can check that queries are batched."""

    persons: list[Person] = attrs.field(factory=list)
    lesson_list: list[LessonRef] = attrs.field(factory=list)
    calls: list[str] = attrs.field(factory=list)

    def people(self, kind: PersonKind, ids: Iterable[int]) -> Mapping[int, Person]:
        self.calls.append("people")
        wanted = set(ids)
        return {p.id: p for p in self.persons if p.kind == kind and p.id in wanted}

    def people_by_user(self, user_ids: Iterable[int]) -> Mapping[int, Sequence[Person]]:
        self.calls.append("people_by_user")
        wanted = set(user_ids)
        result: dict[int, list[Person]] = {}
        for person in self.persons:
            if person.user_id in wanted:
                result.setdefault(person.user_id, []).append(person)
        return result

    def lessons(self, ids: Iterable[int]) -> Mapping[int, LessonRef]:
        self.calls.append("lessons")
        wanted = set(ids)
        return {lesson.id: lesson for lesson in self.lesson_list if lesson.id in wanted}

    def lessons_between(self, start: datetime, end: datetime) -> Sequence[LessonRef]:
        self.calls.append("lessons_between")
        return [lesson for lesson in self.lesson_list if start <= lesson.starts_at < end]


@attrs.define
class FakeHost:
    db: FakeDatabase
    settings: FakeSettings = attrs.field(factory=FakeSettings)
    clock: FakeClock = attrs.field(factory=FakeClock)
    urls: FakeUrls = attrs.field(factory=FakeUrls)
    i18n: FakeI18n = attrs.field(factory=FakeI18n)
    directory: FakeDirectory = attrs.field(factory=FakeDirectory)
    mailer: Any = None
