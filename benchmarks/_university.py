"""The host side of the sync benchmark: a database and a university's records in memory, as a host provides them.

What ``sferum_plugin.services.sync.run_pass`` asks of a host (``hookspecs.services.Database`` and ``Directory``;
the schedule and the people lists it never reads are stubs), kept apart from the test suite's fakes so that the
benchmark measures the same thing whatever the tests need.  Every query is answered by one scan of the records,
as a host's single bulk query would.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime

import attrs
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from hookspecs.types import GroupInfo, LessonRef, Person, PersonKind


@attrs.frozen
class Database:
    """``hookspecs.services.Database`` over one engine: a session commits when its block ends."""

    engine: Engine

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine) as session, session.begin():
            yield session


@attrs.define
class University:
    """``hookspecs.services.Directory``: students in groups, employees in units, the staff of each group."""

    persons: list[Person] = attrs.field(factory=list)
    group_titles: dict[int, str] = attrs.field(factory=dict)
    unit_titles: dict[int, str] = attrs.field(factory=dict)
    staff: dict[int, list[int]] = attrs.field(factory=dict)
    """Group id → the employees who teach or curate it."""

    def replace(self, person: Person) -> None:
        """Put ``person`` in place of the record with the same kind and id (an expulsion, say)."""
        for index, known in enumerate(self.persons):
            if (known.kind, known.id) == (person.kind, person.id):
                self.persons[index] = person
                return
        raise KeyError(f"no {person.kind} {person.id}")

    def people(self, kind: PersonKind, ids: Iterable[int]) -> Mapping[int, Person]:
        wanted = set(ids)
        return {p.id: p for p in self.persons if p.kind == kind and p.id in wanted}

    def people_by_user(self, user_ids: Iterable[int]) -> Mapping[int, Sequence[Person]]:
        wanted = set(user_ids)
        found: dict[int, list[Person]] = {}
        for person in self.persons:
            if person.user_id in wanted:
                found.setdefault(person.user_id, []).append(person)
        return found

    def group_members(self, group_ids: Iterable[int]) -> Mapping[int, Sequence[Person]]:
        return self._members(PersonKind.STUDENT, "group_id", group_ids)

    def unit_members(self, unit_ids: Iterable[int]) -> Mapping[int, Sequence[Person]]:
        return self._members(PersonKind.EMPLOYEE, "unit_id", unit_ids)

    def _members(self, kind: PersonKind, field: str, ids: Iterable[int]) -> Mapping[int, Sequence[Person]]:
        found: dict[int, list[Person]] = {key: [] for key in ids}
        for person in self.persons:
            key = getattr(person, field)
            if person.kind == kind and key in found:
                found[key].append(person)
        return found

    def group_staff(self, group_ids: Iterable[int]) -> Mapping[int, Sequence[Person]]:
        employees = {p.id: p for p in self.persons if p.kind == PersonKind.EMPLOYEE}
        return {gid: [employees[e] for e in self.staff.get(gid, ()) if e in employees] for gid in group_ids}

    def groups(self, ids: Iterable[int] | None = None) -> Mapping[int, str]:
        return _titles(self.group_titles, ids)

    def units(self, ids: Iterable[int] | None = None) -> Mapping[int, str]:
        return _titles(self.unit_titles, ids)

    def group_infos(self, ids: Iterable[int] | None = None) -> Mapping[int, GroupInfo]:
        return {gid: GroupInfo(id=gid, title=title) for gid, title in _titles(self.group_titles, ids).items()}

    def lessons(self, ids: Iterable[int]) -> Mapping[int, LessonRef]:
        return {}  # no schedule: the sync never asks for one

    def lessons_between(self, start: datetime, end: datetime) -> Sequence[LessonRef]:
        return []

    def search_people(self, query: str, limit: int = 20) -> Sequence[Person]:
        needle = query.casefold()
        return [p for p in self.persons if p.active and needle in p.full_name.casefold()][:limit]

    def list_people(self, kind: PersonKind, filters: Mapping[str, str]) -> Sequence[Person]:
        return [p for p in self.persons if p.kind == kind]


def _titles(titles: Mapping[int, str], ids: Iterable[int] | None) -> dict[int, str]:
    wanted = None if ids is None else set(ids)
    return {key: title for key, title in titles.items() if wanted is None or key in wanted}
