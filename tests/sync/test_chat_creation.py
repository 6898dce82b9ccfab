"""Creating many chats: a fixed number of database round trips, and no duplicate whatever point a worker dies at."""

from __future__ import annotations

import contextlib
import itertools
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from hookspecs.types import PersonKind
from sferum_plugin.models import SferumChat
from sferum_plugin.services.sync import PassOptions, run_pass
from sferum_plugin.services.sync.creation import CHECKPOINT_SECONDS, Lease, realize_chats
from tests.sync.world import World

S, E = PersonKind.STUDENT, PersonKind.EMPLOYEE


class Crash(BaseException):
    """The worker process dies (nothing in the pass may catch it)."""


class CrashAfterSending:
    """A Sferum client whose process dies right after Sferum ran its ``nth`` batch of ``createChat`` calls, before
    anything is recorded."""

    def __init__(self, api: object, nth: int = 1) -> None:
        self._api, self._left = api, nth

    def __getattr__(self, name: str) -> object:
        return getattr(self._api, name)

    def execute_once(self, run):  # type: ignore[no-untyped-def]
        outcomes = self._api.execute_once(run)  # type: ignore[attr-defined]
        self._left -= 1
        if self._left == 0:
            raise Crash
        return outcomes


def _groups(world: World, count: int, size: int = 3) -> list[int]:
    pks = []
    for gid in range(1, count + 1):
        teacher = world.person(E, unit_id=1)
        world.group(gid, f"Группа {gid}", staff=(teacher.id,))
        for _ in range(size):
            world.person(S, group_id=gid)
        pks.append(world.request("group", gid))
    return pks


@contextlib.contextmanager
def _statements(world: World) -> Iterator[list[int]]:
    engine = world.host.db.engine  # type: ignore[attr-defined]
    count = [0]

    def listener(*_: object) -> None:
        count[0] += 1

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield count
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def _creation_round_trips(world: World, chats: int) -> int:
    pks = _groups(world, chats, size=0)
    with world.host.db.session() as session:
        rows = {pk: set() for pk in pks}
        assert len(list(session.scalars(select(SferumChat.id)))) == chats
    with _statements(world) as count:
        realized = realize_chats(world.host.db, world.api, rows, org_user_id=world.box.org_user_id,
                                 now=world.host.clock.now())  # fmt: skip
    assert realized.created == chats
    return count[0]


@pytest.fixture
def second_world(world: World, tmp_path) -> Iterator[World]:  # type: ignore[no-untyped-def]
    from tests._db import installed_sqlite
    from tests.plugin.fakes import FakeDatabase, FakeHost

    (tmp_path / "other").mkdir()
    with installed_sqlite(tmp_path / "other") as engine:
        yield World(host=FakeHost(db=FakeDatabase(engine)), box=world.box, api=world.api, app_id=world.app_id)


def _writes(world: World) -> int:
    return world.box.write_counts().get("messages.createChat", 0)


def test_creating_chats_costs_the_same_database_round_trips_for_3_and_for_60_chats(
    world: World, second_world: World
) -> None:
    few = _creation_round_trips(world, 3)
    many = _creation_round_trips(second_world, 60)  # three execute requests
    assert few == many
    assert len(world.box.state()["chats"]) == 63


def test_chats_are_created_25_to_an_execute_request_with_their_members(world: World) -> None:
    pks = _groups(world, 60, size=2)

    report = world.sync()

    assert report.created == 60
    # users.get learns the organisation account once; 60 createChat calls, members included, take 3 requests.
    assert world.box.request_counts() == {"users.get": 1, "execute": 3}
    assert world.box.write_counts() == {"messages.createChat": 60}
    for pk in (pks[0], pks[24], pks[25], pks[59]):
        assert world.chat(pk).state == "active"
        assert world.sferum_members(pk) == world.desired(pk)


def test_a_worker_dying_right_after_a_batch_is_sent_leaves_no_duplicate(world: World) -> None:
    pks = _groups(world, 30, size=1)
    dying = CrashAfterSending(world.api, nth=1)
    with contextlib.suppress(Crash):
        run_pass(world.host.db, world.host.directory, dying, account=world.account,  # type: ignore[arg-type]
                 now=world.host.clock.now(), options=PassOptions(lease=timedelta(minutes=1)))  # fmt: skip
    assert len(world.box.state()["chats"]) == 25  # Sferum holds the first batch's chats; nobody recorded them
    assert {world.chat(pk).state for pk in pks} == {"unknown"}  # every chat the pass was about to create
    world.host.clock.current += timedelta(minutes=2)  # the dead worker's leases run out
    requests, writes = world.box.request_counts()["execute"], _writes(world)
    report = world.sync()
    assert report.created == 30
    assert _writes(world) - writes == 5  # only the five never sent
    # 30 searches by marker (2 requests), the 5 missing chats (1), the 25 adopted chats' member lists (1)
    assert world.box.request_counts()["execute"] - requests == 4
    titles = [chat["title"] for chat in world.box.state()["chats"]]
    assert len(titles) == len(set(titles)) == 30
    world.sync(full=True)
    for pk in pks:
        assert world.chat(pk).state == "active"
        assert world.sferum_members(pk) == world.desired(pk)


AMBIGUOUS = {
    "dropped connection": {"drop": True},
    "HTTP 502": {"http_status": 502},
}


@pytest.mark.parametrize("fault", AMBIGUOUS.values(), ids=AMBIGUOUS.keys())
def test_a_batch_whose_outcome_is_unknown_is_searched_for_chat_by_chat_and_only_the_missing_are_created(
    world: World, fault: dict[str, object]
) -> None:
    pks = _groups(world, 4)
    # Sferum runs the first two createChat calls of the request, then the request fails as a whole.
    world.box.faults.inject("messages.createChat", delay=0, times=2)
    world.box.faults.inject("messages.createChat", **fault)  # type: ignore[arg-type]
    report = world.sync()
    assert report.created == 0
    assert world.box.request_counts()["execute"] == 1  # sent once: never repeated blindly
    assert len(world.box.state()["chats"]) == 2
    assert [world.chat(pk).state for pk in pks] == ["unknown"] * 4
    requests, writes = world.box.request_counts()["execute"], _writes(world)
    report = world.sync()
    assert report.created == 4
    assert _writes(world) - writes == 2  # the two Sferum never created; the other two were found
    # the 4 searches (1 request), the 2 missing chats (1), the 2 adopted chats' member lists (1)
    assert world.box.request_counts()["execute"] - requests == 3
    titles = [chat["title"] for chat in world.box.state()["chats"]]
    assert len(titles) == len(set(titles)) == 4
    world.sync(full=True)
    for pk in pks:
        assert world.chat(pk).state == "active"
        assert world.sferum_members(pk) == world.desired(pk)


def test_a_create_chat_refused_inside_a_batch_fails_alone_and_is_not_searched_for(world: World) -> None:
    pks = _groups(world, 3)
    world.box.faults.inject("messages.createChat", times=1, error_code=15)  # access denied, for the first chat
    report = world.sync()
    assert (report.created, report.failed) == (2, 1)
    assert world.box.request_counts().get("execute") == 1  # the three createChat calls shared one request
    assert [world.chat(pk).state for pk in pks] == ["failed", "active", "active"]
    assert world.chat(pks[0]).error
    requests = world.box.request_counts()
    world.sync()
    assert world.box.request_counts() == requests  # a refusal is neither ambiguous nor retried by itself


def test_a_create_chat_that_failed_inside_a_batch_after_it_may_have_run_alone_is_searched_for(world: World) -> None:
    pks = _groups(world, 3)
    world.box.faults.inject("messages.createChat", delay=0, times=1)
    world.box.faults.inject("messages.createChat", times=1, error_code=10)  # internal error: it may have run
    report = world.sync()
    assert report.created == 2
    assert [world.chat(pk).state for pk in pks] == ["active", "unknown", "active"]
    requests, writes = world.box.request_counts()["execute"], _writes(world)
    assert world.sync().created == 1
    assert _writes(world) - writes == 1  # searched for, not found, created once
    assert world.box.request_counts()["execute"] - requests == 2  # one search, one createChat
    assert len({chat["title"] for chat in world.box.state()["chats"]}) == len(world.box.state()["chats"]) == 3


def test_a_quota_stop_sends_the_chats_it_never_reached_back_to_creating(world: World) -> None:
    pks = _groups(world, 3)
    world.sync(chat_pks=(pks[0],))  # the organisation account is known; the first chat exists
    world.box.faults.inject("execute", times=1, error_code=9)  # the batch of the other two is refused
    report = world.sync()
    assert report.paused_until is not None
    assert [world.chat(pk).state for pk in pks] == ["active", "creating", "creating"]
    world.host.clock.current = report.paused_until + timedelta(seconds=1)
    requests = world.box.request_counts()["execute"]
    world.sync()
    assert world.box.request_counts()["execute"] - requests == 1  # nothing to search for: one createChat batch
    assert [world.chat(pk).state for pk in pks] == ["active"] * 3
    assert len(world.box.state()["chats"]) == 3


def test_a_quota_error_inside_a_batch_records_the_batch_and_sends_no_more(world: World) -> None:
    pks = _groups(world, 30, size=0)
    world.box.faults.inject("messages.createChat", times=1, error_code=9)  # flood control, for the first chat
    report = world.sync()
    assert report.paused_until is not None
    assert world.box.write_counts() == {"messages.createChat": 24}  # the rest of the first request ran
    states = [world.chat(pk).state for pk in pks]
    assert states == ["creating"] + ["active"] * 24 + ["creating"] * 5  # the last five were never sent
    world.host.clock.current = report.paused_until + timedelta(seconds=1)
    world.sync()
    assert [world.chat(pk).state for pk in pks] == ["active"] * 30
    assert world.box.write_counts() == {"messages.createChat": 30}


def test_a_chat_sferum_refuses_is_failed_with_its_reason_not_retried_and_can_be_created_again(world: World) -> None:
    from sferum_plugin.services import chats

    (pk,) = _groups(world, 1)
    world.box.faults.inject("messages.createChat", times=1, error_code=15)  # access denied
    report = world.sync()
    assert (report.created, report.failed) == (0, 1)
    chat = world.chat(pk)
    assert chat.state == "failed"
    assert chat.error
    sent = world.box.request_counts()
    world.sync(chat_pks=(pk,))
    assert world.box.request_counts() == sent  # a refusal is not retried by itself
    assert chats.recreate(world.host, pk, world.host.clock.now())
    assert world.sync().created == 1
    assert world.chat(pk).state == "active"


def _states(world: World, pks: list[int]) -> dict[str, int]:
    return dict(Counter(world.chat(pk).state for pk in pks))


def test_a_long_creation_pass_writes_checkpoints_and_renews_its_leases(world: World) -> None:
    pks = _groups(world, 51, size=0)  # three execute requests: 25, 25 and 1 createChat
    ticks = itertools.count(step=CHECKPOINT_SECONDS)  # every request takes a checkpoint interval
    lease = Lease(holder="me", length=timedelta(minutes=10), chat_pks=tuple(pks))
    now = world.host.clock.now()
    from sferum_plugin.services.sync import claim_chats

    with world.host.db.session() as session:
        claim_chats(session, account=world.account, holder="me", now=now, until=now + lease.length, pks=pks)
    recorded: list[dict[str, int]] = []
    api = world.api

    class Watching:
        def __getattr__(self, name: str) -> object:
            return getattr(api, name)

        def execute_once(self, run):  # type: ignore[no-untyped-def]
            recorded.append(_states(world, pks))
            return api.execute_once(run)

    realized = realize_chats(world.host.db, Watching(), {pk: set() for pk in pks},  # type: ignore[arg-type]
                             org_user_id=world.box.org_user_id, now=now, lease=lease,
                             clock=lambda: float(next(ticks)))  # fmt: skip
    assert realized.created == 51
    assert realized.checkpoints == 2  # before the 2nd and the 3rd request
    # What the database showed when each batch was sent: a crash then would search only unrecorded chats.
    assert recorded == [{"unknown": 51}, {"active": 25, "unknown": 26}, {"active": 50, "unknown": 1}]
    assert all(world.chat(pk).lease_until > now + lease.length for pk in pks)  # renewed from a later time


def test_each_checkpoint_costs_a_fixed_handful_of_statements(world: World, second_world: World) -> None:
    def statements(target: World, clock: Callable[[], float]) -> tuple[int, int]:
        pks = _groups(target, 51, size=0)
        desired = {pk: {target.sferum_of[p.user_id] for p in target.host.directory.persons[:10]} for pk in pks}
        lease = Lease(holder="me", length=timedelta(minutes=10), chat_pks=tuple(pks))
        with _statements(target) as count:
            realized = realize_chats(target.host.db, target.api, desired, org_user_id=target.box.org_user_id,
                                     now=target.host.clock.now(), lease=lease, clock=clock)  # fmt: skip
        return count[0], realized.checkpoints

    ticks = itertools.count(step=CHECKPOINT_SECONDS)
    with_checkpoints, checkpoints = statements(world, lambda: float(next(ticks)))
    without, none = statements(second_world, lambda: 0.0)
    assert (checkpoints, none) == (2, 0)
    # Per checkpoint: the chats' states, their known members (delete, insert), the recorded adds, and the renewal
    # of the chat leases and of the worker row. docs/performance.md quotes this figure.
    assert (with_checkpoints - without) / checkpoints == 6
