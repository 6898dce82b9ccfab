"""Creating many chats: a fixed number of database round trips, and no duplicate whatever point a worker dies at."""

from __future__ import annotations

import contextlib
import itertools
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


class CrashAfterCreating:
    """A Sferum client whose process dies right after Sferum created the ``nth`` chat, before anything is recorded."""

    def __init__(self, api: object, nth: int) -> None:
        self._api, self._left = api, nth

    def __getattr__(self, name: str) -> object:
        return getattr(self._api, name)

    def create_chat(self, title, member_ids):  # type: ignore[no-untyped-def]
        created = self._api.create_chat(title, member_ids)  # type: ignore[attr-defined]
        self._left -= 1
        if self._left == 0:
            raise Crash
        return created


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
    pks = _groups(world, chats)
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


def test_creating_chats_costs_the_same_database_round_trips_for_3_and_for_12_chats(
    world: World, second_world: World
) -> None:
    few = _creation_round_trips(world, 3)
    many = _creation_round_trips(second_world, 12)
    assert few == many
    assert len(world.box.state()["chats"]) == 15


def test_a_worker_dying_right_after_create_chat_leaves_no_duplicate(world: World) -> None:
    pks = _groups(world, 4)
    dying = CrashAfterCreating(world.api, nth=2)
    with contextlib.suppress(Crash):
        run_pass(world.host.db, world.host.directory, dying, app_id=world.app_id,  # type: ignore[arg-type]
                 now=world.host.clock.now(), options=PassOptions(lease=timedelta(minutes=1)))  # fmt: skip
    assert len(world.box.state()["chats"]) == 2  # Sferum has two chats nobody recorded
    assert {world.chat(pk).state for pk in pks} == {"unknown"}  # every chat the pass was about to create
    world.host.clock.current += timedelta(minutes=2)  # the dead worker's leases run out
    before = world.box.request_counts()
    report = world.sync()
    after = world.box.request_counts()
    assert report.created == 4
    assert after["messages.searchConversations"] - before.get("messages.searchConversations", 0) == 4
    assert after["messages.createChat"] - before["messages.createChat"] == 2  # only the two never created
    titles = [chat["title"] for chat in world.box.state()["chats"]]
    assert len(titles) == len(set(titles)) == 4
    world.sync(full=True)
    for pk in pks:
        assert world.chat(pk).state == "active"
        assert world.sferum_members(pk) == world.desired(pk)


def test_a_quota_stop_sends_the_chats_it_never_reached_back_to_creating(world: World) -> None:
    pks = _groups(world, 3)
    world.sync(chat_pks=(pks[0],))  # the organisation account is known; the first chat exists
    world.box.faults.inject("messages.createChat", times=1, error_code=9)
    report = world.sync()
    assert report.paused_until is not None
    assert [world.chat(pk).state for pk in pks] == ["active", "creating", "creating"]
    world.host.clock.current = report.paused_until + timedelta(seconds=1)
    before = world.box.request_counts().get("messages.searchConversations", 0)
    world.sync()
    assert world.box.request_counts().get("messages.searchConversations", 0) == before  # nothing to search for
    assert [world.chat(pk).state for pk in pks] == ["active"] * 3
    assert len(world.box.state()["chats"]) == 3


def test_a_long_creation_pass_writes_checkpoints_and_renews_its_leases(world: World) -> None:
    pks = _groups(world, 5)
    ticks = itertools.count(step=CHECKPOINT_SECONDS / 2)  # every chat takes half a checkpoint interval
    lease = Lease(holder="me", length=timedelta(minutes=10), chat_pks=tuple(pks))
    now = world.host.clock.now()
    from sferum_plugin.services.sync import claim_chats

    with world.host.db.session() as session:
        claim_chats(session, app_id=world.app_id, holder="me", now=now, until=now + lease.length, pks=pks)
    recorded: list[list[str]] = []
    api = world.api

    class Watching:
        def __getattr__(self, name: str) -> object:
            return getattr(api, name)

        def create_chat(self, title, member_ids):  # type: ignore[no-untyped-def]
            recorded.append([world.chat(pk).state for pk in pks])
            return api.create_chat(title, member_ids)

    realized = realize_chats(world.host.db, Watching(), {pk: set() for pk in pks},  # type: ignore[arg-type]
                             org_user_id=world.box.org_user_id, now=now, lease=lease,
                             clock=lambda: float(next(ticks)))  # fmt: skip
    assert realized.created == 5
    assert realized.checkpoints == 2  # after the 2nd and the 4th chat
    # What the database showed when each createChat was sent: a crash then would search only unrecorded chats.
    assert recorded[2] == ["active", "active", "unknown", "unknown", "unknown"]
    assert recorded[4] == ["active", "active", "active", "active", "unknown"]
    assert all(world.chat(pk).lease_until > now + lease.length for pk in pks)  # renewed from a later time


def test_a_chat_sferum_refuses_is_failed_with_its_reason_not_retried_and_can_be_created_again(world: World) -> None:
    from sferum_plugin.services import chats

    (pk,) = _groups(world, 1)
    world.box.faults.inject("messages.createChat", times=1, error_code=15)  # access denied
    report = world.sync()
    assert (report.created, report.failed) == (0, 1)
    chat = world.chat(pk)
    assert chat.state == "failed"
    assert chat.error
    sent = world.box.request_counts()["messages.createChat"]
    world.sync(chat_pks=(pk,))
    assert world.box.request_counts()["messages.createChat"] == sent  # a refusal is not retried by itself
    assert chats.recreate(world.host, pk, world.host.clock.now())
    assert world.sync().created == 1
    assert world.chat(pk).state == "active"


def test_each_checkpoint_costs_a_fixed_handful_of_statements(world: World, second_world: World) -> None:
    def statements(target: World, clock: Callable[[], float]) -> tuple[int, int]:
        pks = _groups(target, 5)
        desired = {pk: {target.sferum_of[p.user_id] for p in target.host.directory.persons} for pk in pks}
        lease = Lease(holder="me", length=timedelta(minutes=10), chat_pks=tuple(pks))
        with _statements(target) as count:
            realized = realize_chats(target.host.db, target.api, desired, org_user_id=target.box.org_user_id,
                                     now=target.host.clock.now(), lease=lease, clock=clock)  # fmt: skip
        return count[0], realized.checkpoints

    ticks = itertools.count(step=CHECKPOINT_SECONDS / 2)
    with_checkpoints, checkpoints = statements(world, lambda: float(next(ticks)))
    without, none = statements(second_world, lambda: 0.0)
    assert (checkpoints, none) == (2, 0)
    # Per checkpoint: the chats' states, their known members (delete, insert), the recorded adds, and the renewal
    # of the chat leases and of the worker row. docs/performance.md quotes this figure.
    assert (with_checkpoints - without) / checkpoints == 6
