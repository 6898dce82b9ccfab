"""Fixtures of the chats-on-MAX tests: an installed database, a people directory, the module configured for MAX, and
the MAX sandbox served over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import attrs
import pytest
from sferum_sandbox.max import DEFAULT_BOT_TOKEN, MaxSandbox, RunningMaxSandbox, serve
from sqlalchemy import Engine, select

from hookspecs.types import HttpRequest, Person, PersonKind, Viewer
from sferum_plugin.gateway.max import MaxUpdate, UpdatesPage
from sferum_plugin.models import ProfileLink, SferumChat
from sferum_plugin.permissions import CHATS_CREATE_CUSTOM, CHATS_CREATE_GROUP, CHATS_MANAGE
from sferum_plugin.plugin import SferumModule
from sferum_plugin.services.connection import SferumAccess
from sferum_plugin.settings import MaxSettings
from tests._db import installed_sqlite
from tests._sferum import no_wait_module
from tests.plugin.fakes import FakeDatabase, FakeHost

TEACHER = Viewer(user_id=10, username="t", full_name="Преподаватель", roles=frozenset({"employee"}),
                 permissions=frozenset({CHATS_CREATE_GROUP}), employee_id=1)  # fmt: skip
STUDENT = Viewer(user_id=20, username="s", full_name="Студент", roles=frozenset({"student"}),
                 permissions=frozenset({CHATS_CREATE_CUSTOM}), student_id=2)  # fmt: skip
MANAGER = Viewer(user_id=40, username="m", full_name="Методист", roles=frozenset({"employee"}),
                 permissions=frozenset({CHATS_MANAGE}), employee_id=4)  # fmt: skip


@attrs.define
class MaxWorld:
    """The host, the served sandbox, the module's way in to MAX, and the MAX ids of the linked people."""

    host: FakeHost
    box: MaxSandbox
    sferum: SferumAccess
    module: SferumModule
    max_ids: dict[int, int]
    """LMS user id → MAX user id, for everyone the sandbox knows (linked or not)."""
    marker: int | None = None
    """Where the module's long polling is (the sandbox keeps its read position only by the marker)."""

    @property
    def settings(self) -> MaxSettings:
        settings = MaxSettings.from_stored(self.host.settings.get("sferum"))
        assert settings is not None
        return settings

    def request(self, viewer: Viewer, method: str = "GET", **kwargs: object) -> HttpRequest:
        return HttpRequest(method=method, path="/", viewer=viewer, host=self.host, csrf_token="tok", **kwargs)  # type: ignore[arg-type]

    def chats(self) -> list[SferumChat]:
        with self.host.db.session() as session:
            rows = list(session.scalars(select(SferumChat).order_by(SferumChat.id)))
            session.expunge_all()
            return rows

    def page(self) -> UpdatesPage:
        """The updates waiting in the sandbox, read by the module's client (long polling), the marker moved on."""
        with self.sferum.bot(self.settings) as client:
            page = client.get_updates(self.marker, timeout=0)
        self.marker = page.marker
        return page

    def updates(self, update_type: str) -> list[MaxUpdate]:
        """The waiting updates of ``update_type`` (the others are read past)."""
        return [update for update in self.page().updates if update.update_type == update_type]

    def link(self, user_id: int) -> None:
        with self.host.db.session() as session:
            session.add(ProfileLink(platform="max", app_id=0, user_id=user_id, sferum_user_id=self.max_ids[user_id],
                                    display_name=f"U {user_id}", linked_at=self.host.clock.now()))  # fmt: skip


@pytest.fixture
def sqlite_engine(tmp_path) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    with installed_sqlite(tmp_path) as engine:
        yield engine


@pytest.fixture
def box() -> MaxSandbox:
    return MaxSandbox(seed=3, rate_limit_per_second=None, long_poll_max_wait=0.0)


@pytest.fixture
def running(box: MaxSandbox) -> Iterator[RunningMaxSandbox]:
    with serve(box, deliver_webhooks=False) as running:
        yield running


@pytest.fixture
def world(sqlite_engine: Engine, box: MaxSandbox, running: RunningMaxSandbox) -> MaxWorld:
    host = FakeHost(db=FakeDatabase(sqlite_engine))
    host.settings.installed.add("sferum")
    host.settings.stored["sferum"] = {"platform": "max", "max_bot_token": DEFAULT_BOT_TOKEN,
                                      "max_api_url": running.url, "max_updates": "polling"}  # fmt: skip
    directory = host.directory
    directory.group_titles = {17: "ИВТ-21", 18: "ИВТ-22"}
    directory.unit_titles = {5: "Кафедра ИВТ"}
    directory.staff = {17: [1]}
    directory.persons = [
        Person(id=1, kind=PersonKind.EMPLOYEE, user_id=10, full_name="Иван Петров", unit_id=5),
        Person(id=2, kind=PersonKind.STUDENT, user_id=20, full_name="Анна Смирнова", group_id=17),
        Person(id=3, kind=PersonKind.STUDENT, user_id=30, full_name="Борис Орлов", group_id=17),
        Person(id=4, kind=PersonKind.EMPLOYEE, user_id=40, full_name="Мария Иванова", unit_id=5),
    ]
    max_ids = {user_id: box.add_user("U", str(user_id)) for user_id in (10, 20, 30, 40)}
    module = no_wait_module()
    made = MaxWorld(host=host, box=box, sferum=module.sferum, module=module, max_ids=max_ids)
    for user_id in (10, 40):  # the teacher and the manager linked their MAX profiles and pressed Start
        made.link(user_id)
        box.press_start(max_ids[user_id])
    made.updates("bot_started")  # read past them
    return made


# The example host's fixtures, for the tests that go through its routes (CSRF, the host's permission check).
from tests.host.conftest import app_factory, clock, fake_plugin, migrated_template  # noqa: E402, F401
