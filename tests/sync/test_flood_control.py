"""Flood control (error 9) that comes back at once pauses the sync longer each time, across passes."""

from __future__ import annotations

from datetime import timedelta

from hookspecs.types import PersonKind
from sferum_plugin.models import SferumSyncService
from tests.sync.world import World

S, E = PersonKind.STUDENT, PersonKind.EMPLOYEE
LADDER = [timedelta(minutes=10), timedelta(minutes=30), timedelta(hours=2), timedelta(hours=6), timedelta(hours=6)]


def _chat_with_students(world: World) -> int:
    teacher = world.person(E, unit_id=5)
    world.group(17, "ИВТ-21", staff=(teacher.id,))
    for _ in range(3):
        world.person(S, group_id=17)
    pk = world.request("group", 17)
    world.sync()
    return pk


def _pass_meeting(world: World, error_code: int | None) -> timedelta | None:
    """A pass with a change to send (a new student); Sferum answers its ``execute`` with ``error_code``.
    Returns how long the service is paused for, then lets the pause run out."""
    world.person(S, group_id=17)
    if error_code is not None:
        world.box.faults.inject("execute", error_code=error_code)
    world.notify("group:17")
    started = world.host.clock.current
    report = world.sync()
    if report.paused_until is None:
        return None
    world.host.clock.current = report.paused_until + timedelta(seconds=1)
    return report.paused_until - started


def _strikes(world: World) -> int:
    with world.host.db.session() as session:
        return session.get(SferumSyncService, ("vk", world.app_id)).flood_strikes


def test_flood_control_in_a_row_pauses_10_min_30_min_2_h_then_6_h_at_most(world: World) -> None:
    _chat_with_students(world)

    pauses = [_pass_meeting(world, 9) for _ in LADDER]

    assert pauses == LADDER
    assert _strikes(world) == len(LADDER)


def test_a_pass_sferum_answers_starts_the_ladder_again(world: World) -> None:
    pk = _chat_with_students(world)
    assert [_pass_meeting(world, 9) for _ in range(3)] == LADDER[:3]

    assert _pass_meeting(world, None) is None
    assert _strikes(world) == 0
    assert world.sferum_members(pk) == world.desired(pk)
    assert _pass_meeting(world, 9) == LADDER[0]


def test_a_method_quota_pauses_an_hour_and_leaves_the_flood_count_alone(world: World) -> None:
    _chat_with_students(world)
    assert _pass_meeting(world, 9) == LADDER[0]

    assert _pass_meeting(world, 29) == timedelta(hours=1)
    assert _strikes(world) == 1
    assert _pass_meeting(world, 9) == LADDER[1]


def test_the_pause_the_sync_page_shows_is_the_escalated_one(world: World) -> None:
    _chat_with_students(world)
    _pass_meeting(world, 9)
    world.person(S, group_id=17)
    world.box.faults.inject("execute", error_code=9)
    world.notify("group:17")
    report = world.sync()

    # The page reads the service's row (sync_overview) and shows «Синхронизация приостановлена до …».
    with world.host.db.session() as session:
        row = session.get(SferumSyncService, ("vk", world.app_id))
        assert row.paused_until == report.paused_until == world.host.clock.current + LADDER[1]
        assert row.pause_reason
