"""Profiles and online lessons through the real gateway, against the Sferum sandbox over real HTTP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sferum_sandbox import (
    DEFAULT_APP_ID,
    DEFAULT_APP_TOKEN,
    DEFAULT_SERVICE_TOKEN,
    RunningSandbox,
    Sandbox,
    serve,
)

from sferum_plugin.models import ProfileLink
from sferum_plugin.services import install, lessons, profiles
from sferum_plugin.services.connection import SferumAccess
from sferum_plugin.settings import SferumSettings
from tests.plugin.fakes import FakeHost
from tests.plugin.test_lessons import NOW, STUDENT, TEACHER, _lesson

REDIRECT = "http://lms.test/m/sferum/profile/callback"


@pytest.fixture
def sandbox() -> Iterator[tuple[Sandbox, RunningSandbox]]:
    box = Sandbox(rate_limit_per_second=None)
    with serve(box) as running:
        yield box, running


@pytest.fixture
def settings(sandbox: tuple[Sandbox, RunningSandbox]) -> SferumSettings:
    _, running = sandbox
    return SferumSettings(
        app_id=DEFAULT_APP_ID,
        service_token=DEFAULT_SERVICE_TOKEN,
        app_token=DEFAULT_APP_TOKEN,
        api_base_url=running.url,
        id_base_url=running.url,
    )


def _consent(authorize_url: str, sferum_user_id: int) -> dict[str, str]:
    """What a person does on the sandbox's consent page: pick their profile and allow."""
    with httpx.Client() as browser:
        page = browser.get(authorize_url)
        assert page.status_code == 200
        nonce = re.search(r'name="nonce" value="([^"]+)"', page.text)
        assert nonce is not None
        action = str(page.url).split("?")[0]
        reply = browser.post(
            action, data={"nonce": nonce.group(1), "decision": "allow", "user_id": str(sferum_user_id)}
        )
    assert reply.status_code == 302
    location = reply.headers["location"]
    assert location.startswith(REDIRECT)
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def test_a_profile_is_linked_through_vk_id_and_the_token_is_not_kept(
    host: FakeHost, sandbox: tuple[Sandbox, RunningSandbox], settings: SferumSettings
) -> None:
    box, _ = sandbox
    install.install(host.db.engine)
    anna = box.add_user("Анна", "Смирнова")
    with SferumAccess().profiles(settings) as api:
        start = profiles.start_linking(
            host.db, api, user_id=7, account=settings.account, redirect_uri=REDIRECT, now=host.clock.now()
        )
        granted = _consent(start.authorize_url, anna)
        linked = profiles.complete_link(
            host.db, api, user_id=7, account=settings.account, state=granted["state"], session_state=start.state,
            code=granted["code"], device_id=granted["device_id"], now=host.clock.now(),
        )  # fmt: skip
    assert (linked.sferum_user_id, linked.display_name) == (anna, "Анна Смирнова")
    with host.db.engine.connect() as connection_:
        dump = "\n".join(str(row) for table in ("sferum_profile_links", "sferum_link_requests")
                         for row in connection_.exec_driver_sql(f"SELECT * FROM {table}"))  # fmt: skip
    assert "vk1" not in dump
    assert "access" not in dump


def test_teacher_starts_student_joins_teacher_ends_and_sferum_sees_it(
    host: FakeHost, sandbox: tuple[Sandbox, RunningSandbox], settings: SferumSettings
) -> None:
    box, _ = sandbox
    install.install(host.db.engine)
    host.clock.current = NOW
    from hookspecs.types import Person, PersonKind

    host.directory.persons = [Person(id=20, kind=PersonKind.STUDENT, user_id=3, full_name="Студент", group_id=100)]
    host.directory.lesson_list = [_lesson(1)]
    with host.db.session() as session:
        for user_id in (TEACHER.user_id, STUDENT.user_id):
            session.add(
                ProfileLink(
                    platform="vk", app_id=settings.app_id, user_id=user_id, sferum_user_id=2000 + user_id, linked_at=NOW
                )
            )

    with SferumAccess().calls() as calls:
        online = lessons.start_lesson(host, TEACHER, 1, settings, calls)
    call = box.state()["calls"][0]
    assert online.call_id == call["call_id"]
    assert len(call["call_id"]) == 36
    assert lessons.join_link(host, STUDENT, 1, settings) == online.join_link

    with SferumAccess().calls() as calls:
        ended = lessons.end_lesson(host, TEACHER, 1, settings, calls)
    assert ended.state == "ended"
    assert box.state()["calls"][0]["state"] == "finished"


def test_sferum_refusing_the_call_is_reported_and_nothing_stays_active(
    host: FakeHost, sandbox: tuple[Sandbox, RunningSandbox], settings: SferumSettings
) -> None:
    box, _ = sandbox
    install.install(host.db.engine)
    host.clock.current = NOW
    host.directory.lesson_list = [_lesson(1)]
    with host.db.session() as session:
        session.add(
            ProfileLink(
                platform="vk", app_id=settings.app_id, user_id=TEACHER.user_id, sferum_user_id=2001, linked_at=NOW
            )
        )
    box.faults.inject("calls.start", error_code=15, times=1)
    with SferumAccess().calls() as calls, pytest.raises(lessons.LessonRefused, match="Сферум отказал"):
        lessons.start_lesson(host, TEACHER, 1, settings, calls)
    box.faults.inject("calls.start", drop=True, times=1)
    with SferumAccess().calls() as calls, pytest.raises(lessons.LessonRefused, match="не подтвердил"):
        lessons.start_lesson(host, TEACHER, 1, settings, calls)
    assert box.request_counts().get("calls.start") == 2  # the dropped call was not repeated blindly


@pytest.mark.parametrize("how", ["ended in Sferum", "unknown to Sferum"])
def test_ending_a_lesson_whose_call_sferum_no_longer_has_running_ends_it(
    host: FakeHost, sandbox: tuple[Sandbox, RunningSandbox], settings: SferumSettings, how: str
) -> None:
    box, running = sandbox
    install.install(host.db.engine)
    host.clock.current = NOW
    host.directory.lesson_list = [_lesson(1)]
    with host.db.session() as session:
        session.add(
            ProfileLink(
                platform="vk", app_id=settings.app_id, user_id=TEACHER.user_id, sferum_user_id=2001, linked_at=NOW
            )
        )
    with SferumAccess().calls() as calls:
        online = lessons.start_lesson(host, TEACHER, 1, settings, calls)
    if how == "ended in Sferum":  # someone ended the call in Sferum itself
        with httpx.Client(base_url=running.url) as http:
            form = {"access_token": DEFAULT_APP_TOKEN, "v": "5.199", "call_id": online.call_id}
            assert http.post("/method/calls.forceFinish", data=form).json() == {"response": 1}
    else:
        box.reset()  # Sferum has no record of the call at all

    with SferumAccess().calls() as calls:
        ended = lessons.end_lesson(host, TEACHER, 1, settings, calls)  # Sferum answers 104, "Not found"

    assert ended.state == "ended"
    assert box.request_counts()["calls.forceFinish"] == 1 + (how == "ended in Sferum")
