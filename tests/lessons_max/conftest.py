"""Online lessons on MAX against the MAX sandbox over real HTTP: the module's services with an in-memory host, a
served sandbox, and a group whose MAX chat the bot administers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import attrs
import pytest
from sferum_sandbox.max import DEFAULT_BOT_TOKEN, MaxSandbox, RunningMaxSandbox, serve
from sqlalchemy import Engine, create_engine

from hookspecs.types import LessonRef, Person, PersonKind, Viewer
from sferum_plugin.models import ProfileLink, SferumChat
from sferum_plugin.permissions import ONLINE_LESSONS_VIEW
from sferum_plugin.services import install
from sferum_plugin.services.connection import SferumAccess
from sferum_plugin.settings import POLLING, MaxSettings
from tests._sferum import no_wait_access
from tests.plugin.fakes import ORG_TZ, FakeDatabase, FakeHost

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=ORG_TZ)
GROUP, OTHER_GROUP = 100, 200
GRANT = frozenset({ONLINE_LESSONS_VIEW})
TEACHER = Viewer(user_id=1, username="teacher", full_name="Петров Иван", employee_id=10, permissions=GRANT)
OTHER_TEACHER = Viewer(user_id=2, username="t2", full_name="Другой", employee_id=11, permissions=GRANT)
STUDENT = Viewer(user_id=3, username="student", full_name="Студент", student_id=20, permissions=GRANT)
OUTSIDER = Viewer(user_id=4, username="s2", full_name="Чужой студент", student_id=21, permissions=GRANT)
ADMIN = Viewer(user_id=5, username="admin", full_name="Админ", roles=frozenset({"admin"}))


def lesson(lesson_id: int, day_offset: int = 0, hour: int = 9, group_id: int = GROUP) -> LessonRef:
    starts = NOW.replace(hour=hour, minute=0) + timedelta(days=day_offset)
    return LessonRef(id=lesson_id, subject="Физика", starts_at=starts, ends_at=starts + timedelta(minutes=90),
                     group_id=group_id, teacher_id=10)  # fmt: skip


@attrs.define
class World:
    """The organisation, its MAX (the sandbox) and the module's settings for it."""

    host: FakeHost
    sandbox: MaxSandbox
    running: RunningMaxSandbox
    settings: MaxSettings
    access: SferumAccess
    chat_id: int
    max_ids: dict[str, int]

    @property
    def stored(self) -> dict[str, str]:
        return self.host.settings.get("sferum")  # type: ignore[return-value]

    def chat(self) -> dict[str, Any]:
        (chat,) = [c for c in self.sandbox.state()["chats"] if c["chat_id"] == self.chat_id]
        return chat

    def messages(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        wanted = self.chat_id if chat_id is None else chat_id
        return [m for m in self.sandbox.state()["messages"] if m["chat_id"] == wanted]

    def posts(self) -> int:
        """``POST /messages`` requests MAX received (failed ones included)."""
        return self.sandbox.request_counts().get("POST /messages", 0)


@pytest.fixture
def sqlite_engine(tmp_path: Any) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'lms.sqlite3'}")
    yield engine
    engine.dispose()


@pytest.fixture
def max_sandbox() -> MaxSandbox:
    return MaxSandbox(rate_limit_per_second=None)


@pytest.fixture
def running(max_sandbox: MaxSandbox) -> Iterator[RunningMaxSandbox]:
    with serve(max_sandbox, deliver_webhooks=False) as running:
        yield running


def add_group_chat(host: FakeHost, chat_id: int | None, *, group_id: int = GROUP, state: str = "active",
                   platform: str = "max", app_id: int = 0, kind: str = "group") -> None:  # fmt: skip
    """The module's row of a group's chat (as the chats pages leave it once the chat exists in MAX)."""
    with host.db.session() as session:
        session.add(SferumChat(platform=platform, app_id=app_id, kind=kind, target_id=group_id, title="ИВТ-21",
                               marker=f"m{group_id}{kind}{platform}", state=state, chat_id=chat_id, created_by=1,
                               created_at=NOW))  # fmt: skip


@pytest.fixture
def world(sqlite_engine: Engine, max_sandbox: MaxSandbox, running: RunningMaxSandbox) -> World:
    host = FakeHost(db=FakeDatabase(sqlite_engine))
    install.install(host.db.engine)
    host.clock.current = NOW
    host.directory.persons = [
        Person(id=20, kind=PersonKind.STUDENT, user_id=3, full_name="Студент", group_id=GROUP),
        Person(id=21, kind=PersonKind.STUDENT, user_id=4, full_name="Чужой", group_id=OTHER_GROUP),
    ]
    host.directory.group_titles = {GROUP: "ИВТ-21", OTHER_GROUP: "ПМ-22"}
    host.directory.lesson_list = [lesson(1), lesson(2, day_offset=-1), lesson(3, day_offset=1), lesson(4, hour=12)]
    max_ids = {name: max_sandbox.add_user(name.capitalize()) for name in ("teacher", "other", "student", "outsider")}
    with host.db.session() as session:
        for user_id, name in ((1, "teacher"), (2, "other"), (3, "student"), (4, "outsider")):
            session.add(ProfileLink(platform="max", app_id=0, user_id=user_id, sferum_user_id=max_ids[name],
                                    linked_at=NOW))  # fmt: skip
    chat_id = max_sandbox.seed_chat("ИВТ-21", owner_id=max_ids["teacher"], member_ids=[max_ids["student"]])
    add_group_chat(host, chat_id)
    host.settings.stored = {
        "sferum": {"platform": "max", "max_bot_token": DEFAULT_BOT_TOKEN, "max_api_url": running.url,
                   "max_updates": POLLING},
        "schedule": {"sferum_online_lesson_hint": "Включите камеру"},
    }  # fmt: skip
    settings = MaxSettings.from_stored(host.settings.get("sferum"))
    assert settings is not None
    return World(host=host, sandbox=max_sandbox, running=running, settings=settings, access=no_wait_access(),
                 chat_id=chat_id, max_ids=max_ids)  # fmt: skip
