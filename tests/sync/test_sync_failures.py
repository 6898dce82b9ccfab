"""What a pass met on its way to Sferum: the history counts failed attempts, and the page says when it got nowhere."""

from __future__ import annotations

import re
from datetime import timedelta

import attrs
import pytest
from sferum_sandbox import DEFAULT_APP_TOKEN, DEFAULT_SERVICE_TOKEN
from sqlalchemy import select

from hookspecs.types import HttpRequest, Page, PersonKind, Viewer
from sferum_plugin.models import SferumSyncOperation, SferumSyncPass
from sferum_plugin.views import sync_admin
from tests.sync.world import World

S, E = PersonKind.STUDENT, PersonKind.EMPLOYEE
ADMIN = Viewer(user_id=1, username="a", full_name="Админ", roles=frozenset({"admin"}))
ATTEMPTS = 3  # the world's client tries each request three times (tests/sync/conftest.py)


@pytest.fixture
def chat(world: World) -> int:
    world.host.settings.stored["sferum"] = {
        "app_id": str(world.app_id), "service_token": DEFAULT_SERVICE_TOKEN, "app_token": DEFAULT_APP_TOKEN,
        "api_base_url": "http://sferum.test", "id_base_url": "http://sferum.test",
    }  # fmt: skip
    teacher = world.person(E, unit_id=5)
    world.group(17, "ИВТ-21", staff=(teacher.id,))
    world.person(S, group_id=17)
    pk = world.request("group", 17)
    world.sync()
    return pk


def _newcomer_pass(world: World, **fault: object) -> None:
    """A student joins the group, and the pass that adds them meets ``fault`` on its ``execute``."""
    world.person(S, group_id=17)
    world.notify("group:17")
    world.box.faults.clear()
    if fault:
        world.box.faults.inject("execute", **fault)  # type: ignore[arg-type]
    world.sync()
    world.box.faults.clear()


def _latest(world: World) -> SferumSyncPass:
    with world.host.db.session() as session:
        row = session.scalars(select(SferumSyncPass).order_by(SferumSyncPass.id.desc()).limit(1)).one()
        session.expunge(row)
        return row


def _page(world: World, locale: str = "ru") -> str:
    viewer = attrs.evolve(ADMIN, locale=locale)
    page = sync_admin.sync_page(HttpRequest(method="GET", path="/", viewer=viewer, host=world.host))
    assert isinstance(page, Page)
    return page.body_html


def _history_cells(body: str) -> tuple[int, int, int]:
    """The newest history row's connection, «too often» and quota counts."""
    row = body[body.index('<table class="sferum-sync-passes">') :]
    counts = [
        int(re.search(rf'<td class="sferum-{name}">(\d+)</td>', row).group(1))  # type: ignore[union-attr]
        for name in ("connection-errors", "rate-limited", "quota-errors")
    ]
    return counts[0], counts[1], counts[2]


def test_a_pass_that_could_not_reach_sferum_is_counted_and_bannered_until_one_gets_through(
    world: World, chat: int
) -> None:
    assert "не смогла связаться со Сферумом" not in _page(world)

    _newcomer_pass(world, drop=True, times=ATTEMPTS)  # every attempt of the execute loses its connection

    latest = _latest(world)
    assert (latest.connection_errors, latest.rate_limited, latest.quota_errors, latest.unreachable) == (
        ATTEMPTS, 0, 0, True,
    )  # fmt: skip
    body = _page(world)
    assert re.search(r"Последняя синхронизация \(30\.11\.2026 10:00\) не смогла связаться со Сферумом", body)
    assert "Следующая попытка будет сделана автоматически" in body
    assert _history_cells(body) == (ATTEMPTS, 0, 0)
    assert "The last sync (30.11.2026 10:00) could not reach Sferum" in _page(world, "en")
    with world.host.db.session() as session:
        reasons = set(session.scalars(select(SferumSyncOperation.last_error).where(
            SferumSyncOperation.state == "pending")))  # fmt: skip
    assert reasons == {"Сферум не отвечает: операция будет повторена автоматически."}  # the worker does retry

    world.host.clock.current += timedelta(minutes=5)  # the operation's backoff has run out
    world.sync()
    assert not _latest(world).unreachable
    assert "не смогла связаться со Сферумом" not in _page(world)
    assert world.sferum_members(chat) == world.desired(chat)


def test_too_many_requests_that_the_gateway_rode_out_are_still_counted(world: World, chat: int) -> None:
    _newcomer_pass(world, error_code=6, times=ATTEMPTS - 1)

    latest = _latest(world)
    assert (latest.connection_errors, latest.rate_limited, latest.quota_errors, latest.unreachable) == (
        0, ATTEMPTS - 1, 0, False,
    )  # fmt: skip
    assert latest.added == 1
    assert _history_cells(_page(world)) == (0, ATTEMPTS - 1, 0)
    assert world.sferum_members(chat) == world.desired(chat)


def test_flood_control_is_counted_and_the_pause_names_its_end(world: World, chat: int) -> None:
    _newcomer_pass(world, error_code=9)

    latest = _latest(world)
    assert (latest.connection_errors, latest.rate_limited, latest.quota_errors, latest.unreachable) == (0, 0, 1, False)
    body = _page(world)
    assert _history_cells(body) == (0, 0, 1)
    match = re.search(r"синхронизация приостановлена до (\d\d\.\d\d\.\d{4} \d\d:\d\d)", body)
    assert match, body
    assert match.group(1) > "30.11.2026 10:00"
    assert "указанного времени" not in body
    assert body.count(match.group(1)) >= 2  # the banner and the waiting operation's reason name the same end
