"""Services the host gives its plugins, as Protocols.

A plugin receives a :class:`Host` as a parameter of every hook that needs one; it never imports the host.
The example host (``examples/host_app``) implements each Protocol; tests can pass fakes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime, tzinfo
from email.message import EmailMessage
from typing import Protocol, runtime_checkable

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from hookspecs.types import GroupInfo, LessonRef, Person, PersonKind

__all__ = [
    "Clock",
    "Database",
    "Directory",
    "Host",
    "MailConnection",
    "Mailer",
    "ModuleSettings",
    "Translator",
    "UrlBuilder",
]


class Database(Protocol):
    """The host's database; plugins keep their own tables (with their own prefix) in it."""

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (SQLite or PostgreSQL)."""
        ...

    def session(self) -> AbstractContextManager[Session]:
        """A session that commits when the block ends without an exception and rolls back otherwise."""
        ...


class ModuleSettings(Protocol):
    """Stored settings of every module, secrets decrypted on read."""

    def get(self, module: str) -> Mapping[str, str]:
        """Every stored value of ``module`` (an empty mapping when nothing is stored)."""
        ...

    def is_installed(self, module: str) -> bool:
        """Whether ``module`` is installed."""
        ...


class Directory(Protocol):
    """The host's accounting records. Every query is bulk: one call answers for many ids."""

    def people(self, kind: PersonKind, ids: Iterable[int]) -> Mapping[int, Person]:
        """The records of the given people (missing ids are absent from the result)."""
        ...

    def people_by_user(self, user_ids: Iterable[int]) -> Mapping[int, Sequence[Person]]:
        """For each LMS account, its student and employee records."""
        ...

    def group_members(self, group_ids: Iterable[int]) -> Mapping[int, Sequence[Person]]:
        """For each study group, its students (every status)."""
        ...

    def unit_members(self, unit_ids: Iterable[int]) -> Mapping[int, Sequence[Person]]:
        """For each structural unit, its employees (every status)."""
        ...

    def group_staff(self, group_ids: Iterable[int]) -> Mapping[int, Sequence[Person]]:
        """For each study group, the employees who teach or curate it."""
        ...

    def groups(self, ids: Iterable[int] | None = None) -> Mapping[int, str]:
        """Titles of study groups (all of them when ``ids`` is ``None``)."""
        ...

    def units(self, ids: Iterable[int] | None = None) -> Mapping[int, str]:
        """Titles of structural units (all of them when ``ids`` is ``None``)."""
        ...

    def group_infos(self, ids: Iterable[int] | None = None) -> Mapping[int, GroupInfo]:
        """Study groups with their structural unit and year of study (all of them when ``ids`` is ``None``).

        Missing ids are absent from the result.
        """
        ...

    def lessons(self, ids: Iterable[int]) -> Mapping[int, LessonRef]:
        """The given lessons of the schedule."""
        ...

    def lessons_between(self, start: datetime, end: datetime) -> Sequence[LessonRef]:
        """Every lesson starting in ``[start, end)``."""
        ...

    def search_people(self, query: str, limit: int = 20) -> Sequence[Person]:
        """Active people whose name or e-mail contains ``query``, best matches first."""
        ...

    def list_people(self, kind: PersonKind, filters: Mapping[str, str]) -> Sequence[Person]:
        """Every person the Обучающиеся or Сотрудники list shows for ``filters``, across all pages, in list order.

        ``filters`` are the list's own query parameters (the ``filter.<name>`` values a selection action receives,
        without the prefix): ``q`` (text in the name or e-mail), ``status`` (a :class:`PersonStatus` value) and
        ``group`` (students) or ``unit`` (employees), an id; an empty value does not filter.  Unknown names, plugin
        filters among them, are ignored: the caller applies those, and refuses what it cannot apply rather than
        widen the list.
        """
        ...


class MailConnection(Protocol):
    """An open connection to the host's mail server."""

    def send(self, message: EmailMessage) -> None:
        """Send one message; raises :class:`smtplib.SMTPException` or :class:`OSError` on failure."""
        ...


class Mailer(Protocol):
    """The host's outgoing mail."""

    @property
    def sender(self) -> str:
        """The ``From`` address configured in the host."""
        ...

    def connect(self) -> AbstractContextManager[MailConnection]:
        """Open a connection that stays open for the block (many messages, one connection)."""
        ...


class Clock(Protocol):
    """The current time and the organisation's time zone ("today" is the organisation's day)."""

    @property
    def timezone(self) -> tzinfo:
        """The organisation's time zone."""
        ...

    def now(self) -> datetime:
        """The current time, timezone-aware, in the organisation's time zone."""
        ...

    def today(self) -> date:
        """The organisation's current date."""
        ...


class UrlBuilder(Protocol):
    """Builds URLs of the host and of plugin routes."""

    def for_route(self, module: str, endpoint: str, /, **params: object) -> str:
        """The path of a plugin route (``Route.endpoint``) with its placeholders filled."""
        ...

    def external(self, path: str) -> str:
        """An absolute URL (scheme and host) for a path, e.g. an OAuth ``redirect_uri``."""
        ...

    def host_page(self, name: str, /, **params: object) -> str:
        """The path of a host page.

        Names: ``"dashboard"``, ``"schedule"``, ``"modules"``, ``"module_settings"`` (``module=``), ``"roles"``,
        ``"chats"``, ``"students"``, ``"employees"``, ``"login"``.
        """
        ...


class Translator(Protocol):
    """The viewer's language."""

    @property
    def locale(self) -> str:
        """The current UI language code (``"ru"`` or ``"en"``)."""
        ...


@runtime_checkable
class Host(Protocol):
    """Everything a plugin may use of its host."""

    @property
    def db(self) -> Database:
        """The database."""
        ...

    @property
    def settings(self) -> ModuleSettings:
        """Module settings (secrets decrypted)."""
        ...

    @property
    def directory(self) -> Directory:
        """The accounting records."""
        ...

    @property
    def mailer(self) -> Mailer:
        """Outgoing mail."""
        ...

    @property
    def clock(self) -> Clock:
        """Time and the organisation's time zone."""
        ...

    @property
    def urls(self) -> UrlBuilder:
        """URL building."""
        ...

    @property
    def i18n(self) -> Translator:
        """The viewer's language."""
        ...


def iter_protocols() -> Iterator[type]:
    """Every host-service Protocol, for contract tests."""
    yield from (
        Database,
        ModuleSettings,
        Directory,
        MailConnection,
        Mailer,
        Clock,
        UrlBuilder,
        Translator,
        Host,
    )
