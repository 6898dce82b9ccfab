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

from hookspecs.types import GroupInfo, LessonRef, Person, PersonKind

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
    staff: dict[int, list[int]] = attrs.field(factory=dict)  # group id → employee ids who teach or curate it
    group_titles: dict[int, str] = attrs.field(factory=dict)
    unit_titles: dict[int, str] = attrs.field(factory=dict)
    group_units: dict[int, int] = attrs.field(factory=dict)  # group id → structural unit id
    group_years: dict[int, int] = attrs.field(factory=dict)  # group id → year of study

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

    def group_members(self, group_ids: Iterable[int]) -> Mapping[int, Sequence[Person]]:
        self.calls.append("group_members")
        wanted = set(group_ids)
        result: dict[int, list[Person]] = {gid: [] for gid in wanted}
        for person in self.persons:
            if person.kind == PersonKind.STUDENT and person.group_id in wanted:
                result[person.group_id].append(person)
        return result

    def unit_members(self, unit_ids: Iterable[int]) -> Mapping[int, Sequence[Person]]:
        self.calls.append("unit_members")
        wanted = set(unit_ids)
        result: dict[int, list[Person]] = {uid: [] for uid in wanted}
        for person in self.persons:
            if person.kind == PersonKind.EMPLOYEE and person.unit_id in wanted:
                result[person.unit_id].append(person)
        return result

    def group_staff(self, group_ids: Iterable[int]) -> Mapping[int, Sequence[Person]]:
        self.calls.append("group_staff")
        employees = {p.id: p for p in self.persons if p.kind == PersonKind.EMPLOYEE}
        return {gid: [employees[e] for e in self.staff.get(gid, ()) if e in employees] for gid in group_ids}

    def groups(self, ids: Iterable[int] | None = None) -> Mapping[int, str]:
        self.calls.append("groups")
        wanted = None if ids is None else set(ids)
        return {k: v for k, v in self.group_titles.items() if wanted is None or k in wanted}

    def units(self, ids: Iterable[int] | None = None) -> Mapping[int, str]:
        self.calls.append("units")
        wanted = None if ids is None else set(ids)
        return {k: v for k, v in self.unit_titles.items() if wanted is None or k in wanted}

    def group_infos(self, ids: Iterable[int] | None = None) -> Mapping[int, GroupInfo]:
        self.calls.append("group_infos")
        wanted = None if ids is None else set(ids)
        return {
            gid: GroupInfo(id=gid, title=title, unit_id=self.group_units.get(gid), year=self.group_years.get(gid))
            for gid, title in self.group_titles.items()
            if wanted is None or gid in wanted
        }

    def search_people(self, query: str, limit: int = 20) -> Sequence[Person]:
        self.calls.append("search_people")
        needle = query.casefold()
        found = [p for p in self.persons if p.active and (needle in p.full_name.casefold() or needle in p.email)]
        return found[:limit]

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
