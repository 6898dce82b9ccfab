"""Random sequences of directory changes, profile links, chat creation, injected faults and worker crashes, on both
platforms: VK Messenger (the in-process Sferum sandbox) and MAX (the MAX sandbox over real HTTP, with MAX's faults,
people whose privacy refuses adds, and the bot removed from chats).

After the faults stop and the service catches up, every chat holds exactly its desired members plus the unmanaged
people it held (on MAX: but those whose privacy refuses adds), there is one chat per chat row, and no unmanaged
member was removed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sferum_sandbox import DEFAULT_APP_ID, Sandbox
from sferum_sandbox.max import MaxSandbox, RunningMaxSandbox, serve
from sqlalchemy import create_engine, delete, select, update
from sqlalchemy.pool import StaticPool

from hookspecs.types import PersonKind, PersonStatus
from sferum_plugin.gateway.errors import SferumError
from sferum_plugin.models import Base, ProfileLink, SferumChat, SferumChatMember, SferumSyncOperation
from sferum_plugin.services import inbox
from sferum_plugin.services.explain import MAX_CHAT_PROBLEMS, MAX_SYNC_CHAT_DENIED
from sferum_plugin.services.sync import PassOptions, run_pass
from sferum_plugin.services.sync.queue import NOT_MANAGEABLE
from tests.plugin.fakes import FakeDatabase, FakeHost
from tests.sync.conftest import make_client
from tests.sync.max_world import MaxWorld, max_client
from tests.sync.world import Records, World

GROUPS, UNITS = (1, 2, 3), (10, 11)
FAULTS = st.sampled_from(
    [
        {"error_code": 6},
        {"error_code": 9},
        {"error_code": 10},
        {"http_status": 502},
        {"drop": True},
        {"drop_after_apply": True},
    ]
)
METHODS = st.sampled_from(["execute", "messages.createChat", "messages.searchConversations", "*"])

BOX = Sandbox(rate_limit_per_second=None)


class Crash(BaseException):
    """The worker process dies (not an Exception: nothing in the pass may catch it)."""


class CrashAfterSend:
    """A Sferum client that dies right after Sferum applied an execute batch, before anything is recorded."""

    def __init__(self, api: object) -> None:
        self._api = api

    def __getattr__(self, name: str) -> object:
        return getattr(self._api, name)

    def execute_batch(self, batch):  # type: ignore[no-untyped-def]
        outcomes = self._api.execute_batch(batch)  # type: ignore[attr-defined]
        if any(op.method not in ("messages.getConversationMembers", "messages.searchConversations") for op in batch):
            raise Crash
        return outcomes


class CrashAfterCreate:
    """A Sferum client that dies right after Sferum ran a batch of createChat calls, before the outcomes are
    recorded."""

    def __init__(self, api: object) -> None:
        self._api = api

    def __getattr__(self, name: str) -> object:
        return getattr(self._api, name)

    def execute_once(self, run):  # type: ignore[no-untyped-def]
        self._api.execute_once(run)  # type: ignore[attr-defined]
        raise Crash


class HostChanges(RuleBasedStateMachine):
    """What happens in the host's records, whichever platform the chats are on: people enrolled, expelled, moved,
    hired, dismissed, profiles linked and unlinked.  A machine keeps its ``world`` (:class:`~tests.sync.world.
    Records`) and the ``unmanaged`` members that must stay, and says which chats hold a person."""

    world: Records
    unmanaged: set[tuple[int, int]]  # (the platform's chat id, its user id) that must stay

    def _chats_holding(self, sferum_id: int) -> list[int]:
        raise NotImplementedError

    def _people(self, kind: PersonKind, active: bool = True) -> list:
        return [p for p in self.world.host.directory.persons if p.kind == kind and p.active == active]

    @rule(data=st.data())
    def expel(self, data: st.DataObject) -> None:
        students = self._people(PersonKind.STUDENT)
        if students:
            person = data.draw(st.sampled_from(students))
            self.world.set_status(person, PersonStatus.EXPELLED)
            self.world.notify(f"student:{person.id}")

    @rule(data=st.data(), group=st.sampled_from(GROUPS))
    def move(self, data: st.DataObject, group: int) -> None:
        students = self._people(PersonKind.STUDENT)
        if students:
            person = data.draw(st.sampled_from(students))
            self.world.replace(person, group_id=group)
            self.world.notify(f"group:{person.group_id}", f"group:{group}")

    @rule(unit=st.sampled_from(UNITS), teaches=st.sampled_from((None, *GROUPS)))
    def hire(self, unit: int, teaches: int | None) -> None:
        person = self.world.person(PersonKind.EMPLOYEE, unit_id=unit)
        if teaches is not None:
            self.world.host.directory.staff[teaches].append(person.id)
        self.world.notify(f"employee:{person.id}")

    @rule(data=st.data())
    def dismiss(self, data: st.DataObject) -> None:
        employees = self._people(PersonKind.EMPLOYEE)
        if employees:
            person = data.draw(st.sampled_from(employees))
            self.world.set_status(person, PersonStatus.DISMISSED)
            self.world.notify(f"employee:{person.id}")

    def _linked(self) -> set[int]:
        with self.world.host.db.session() as session:
            return set(session.scalars(select(ProfileLink.user_id)))

    @rule(data=st.data())
    def link(self, data: st.DataObject) -> None:
        unlinked = sorted(set(self.world.sferum_of) - self._linked())
        if unlinked:
            user_id = data.draw(st.sampled_from(unlinked))
            self.world.link(user_id)
            sferum_id = self.world.sferum_of[user_id]
            self.unmanaged = {pair for pair in self.unmanaged if pair[1] != sferum_id}

    @rule(data=st.data())
    def unlink(self, data: st.DataObject) -> None:
        linked = sorted(self._linked())
        if linked:
            user_id = data.draw(st.sampled_from(linked))
            self.world.unlink(user_id)
            sferum_id = self.world.sferum_of[user_id]
            self.unmanaged.update((chat_id, sferum_id) for chat_id in self._chats_holding(sferum_id))


class SyncMachine(HostChanges):
    def __init__(self) -> None:
        super().__init__()
        BOX.reset()
        self.engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
        Base.metadata.create_all(self.engine)
        self.http = httpx.Client(transport=httpx.WSGITransport(app=BOX.wsgi_app))
        host = FakeHost(db=FakeDatabase(self.engine))
        self.world = World(host=host, box=BOX, api=make_client(BOX, self.http), app_id=DEFAULT_APP_ID)
        for gid in GROUPS:
            self.world.group(gid)
        for uid in UNITS:
            self.world.unit(uid)
        self.unmanaged: set[tuple[int, int]] = set()  # (Sferum chat id, Sferum user id) that must stay

    def teardown(self) -> None:
        self.http.close()
        self.engine.dispose()
        BOX.faults.clear()

    @initialize(linked=st.lists(st.booleans(), min_size=6, max_size=6))
    def a_university_with_two_group_chats(self, linked: list[bool]) -> None:
        for index, is_linked in enumerate(linked):
            self.world.person(PersonKind.STUDENT, group_id=GROUPS[index % 2], linked=is_linked)
        teacher = self.world.person(PersonKind.EMPLOYEE, unit_id=UNITS[0])
        self.world.host.directory.staff[GROUPS[0]].append(teacher.id)
        self.world.request("group", GROUPS[0])
        self.world.request("group", GROUPS[1])

    # -- the host's records ---------------------------------------------------------------------------------

    @rule(group=st.sampled_from(GROUPS), linked=st.booleans())
    def enrol(self, group: int, linked: bool) -> None:
        person = self.world.person(PersonKind.STUDENT, group_id=group, linked=linked)
        self.world.notify(f"student:{person.id}")

    def _chats_holding(self, sferum_id: int) -> list[int]:
        return [chat["chat_id"] for chat in BOX.state()["chats"]
                if any(m["member_id"] == sferum_id for m in chat["members"])]  # fmt: skip

    # -- chats, faults, workers ---------------------------------------------------------------------------------

    @rule(
        kind=st.sampled_from(["group", "unit", "custom"]),
        index=st.integers(0, 2),
        fault=st.none() | FAULTS,
    )
    def create_chat(self, kind: str, index: int, fault: dict | None) -> None:
        if fault is not None:
            BOX.faults.inject("messages.createChat", **fault)
        if kind == "group":
            self.world.request("group", GROUPS[index])
        elif kind == "unit":
            self.world.request("unit", UNITS[index % len(UNITS)])
        else:
            # The picker offers people with an active record; the first three of them.
            active = sorted({p.user_id for p in self.world.host.directory.persons if p.active and p.user_id})
            self.world.request("custom", None, "Проект", tuple(active[:3]))

    @rule(method=METHODS, fault=FAULTS, times=st.integers(1, 3))
    def inject_fault(self, method: str, fault: dict, times: int) -> None:
        BOX.faults.inject(method, times=times, **fault)

    @rule()
    def queue_pass(self) -> None:
        self.world.sync()

    @rule()
    def full_pass(self) -> None:
        self.world.sync(full=True)

    @rule(after=st.sampled_from(["execute", "createChat"]), new_chat=st.booleans())
    def worker_crashes_after_sending(self, after: str, new_chat: bool) -> None:
        if new_chat:  # make sure the crash can hit a creation: a custom chat is always a new one
            self.world.request("custom", None, "Новый проект")
        api = CrashAfterSend(self.world.api) if after == "execute" else CrashAfterCreate(self.world.api)
        with contextlib.suppress(Crash):
            run_pass(self.world.host.db, self.world.host.directory, api,  # type: ignore[arg-type]
                     account=self.world.account, now=self.world.host.clock.now(),
                     options=PassOptions(lease=timedelta(minutes=1)))  # fmt: skip

    @rule()
    def time_passes(self) -> None:
        self.world.host.clock.current += timedelta(minutes=7)

    @invariant()
    def one_sferum_chat_per_row(self) -> None:
        titles = [chat["title"] for chat in BOX.state()["chats"]]
        assert len(titles) == len(set(titles)), titles

    def settle_and_check(self) -> None:
        BOX.faults.clear()
        for _ in range(3):
            self.world.host.clock.current += timedelta(hours=2)
            self.world.sync(full=True)
        linked = {self.world.sferum_of[u] for u in self._linked()}
        present = {(c["chat_id"], m["member_id"]) for c in BOX.state()["chats"] for m in c["members"]}
        assert self.unmanaged <= present, "an unmanaged member was removed"
        with self.world.host.db.session() as session:
            rows = session.scalars(select(SferumChat)).all()
            assert all(row.state == "active" for row in rows), [(row.id, row.state, row.error) for row in rows]
        for pk in self.world.chat_pks():
            members, desired = self.world.sferum_members(pk), self.world.desired(pk)
            assert desired <= members
            assert not ((members - desired) & linked), "a managed member who is not desired is still there"


class CheckedSyncMachine(SyncMachine):
    def teardown(self) -> None:
        try:
            self.settle_and_check()
        finally:
            super().teardown()


CheckedSyncMachine.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_sync_converges_under_random_changes_faults_and_crashes = CheckedSyncMachine.TestCase


# -- the same on MAX: the bot administers chats people created by tapping its button --------------------------------

MAX_BOX = MaxSandbox(seed=11, rate_limit_per_second=None, long_poll_max_wait=0.1)
_SERVED: list[RunningMaxSandbox] = []
MAX_FAULTS = st.sampled_from(
    [
        {"status": 429},
        {"status": 429, "retry_after": 0},
        {"status": 503},
        {"http_status": 502},
        {"drop": True},
        {"drop_after_apply": True},
    ]
)
MAX_OPERATIONS = st.sampled_from(
    ["POST /chats/{chatId}/members", "DELETE /chats/{chatId}/members", "GET /chats/{chatId}/members", "GET /me", "*"]
)


def _max_url() -> str:
    """The MAX sandbox served over real HTTP, started once for the module's examples."""
    if not _SERVED:
        _SERVED.append(serve(MAX_BOX, deliver_webhooks=False))
    return _SERVED[0].url


@pytest.fixture(scope="module", autouse=True)
def _stop_the_max_sandbox() -> Iterator[None]:
    yield
    while _SERVED:
        _SERVED.pop().stop()


class DiesAfterMaxApplied:
    """A MAX client that dies right after MAX applied an add or a removal, before anything is recorded."""

    def __init__(self, client: object) -> None:
        self._client = client

    def __getattr__(self, name: str) -> object:
        return getattr(self._client, name)

    def add_members(self, chat_id, user_ids):  # type: ignore[no-untyped-def]
        self._client.add_members(chat_id, user_ids)  # type: ignore[attr-defined]
        raise Crash

    def remove_member(self, chat_id, user_id):  # type: ignore[no-untyped-def]
        self._client.remove_member(chat_id, user_id)  # type: ignore[attr-defined]
        raise Crash


class MaxSyncMachine(HostChanges):
    """The sync on MAX under random changes, MAX's faults, people whose privacy refuses adds, the bot losing its
    chats, people leaving chats by themselves, MAX's events arriving (duplicated, or lost), and worker crashes."""

    def __init__(self) -> None:
        super().__init__()
        MAX_BOX.reset()
        self.engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
        Base.metadata.create_all(self.engine)
        self.http = httpx.Client(timeout=10.0)
        host = FakeHost(db=FakeDatabase(self.engine))
        self.world = MaxWorld(host=host, box=MAX_BOX, client=max_client(_max_url(), self.http))
        for gid in GROUPS:
            self.world.group(gid)
        for uid in UNITS:
            self.world.unit(uid)
        self.refusing: set[int] = set()  # MAX ids whose privacy refuses being added
        self.unmanaged: set[tuple[int, int]] = set()  # (MAX chat id, MAX user id) that must stay
        self.lost: set[int] = set()  # chat rows whose bot was removed
        self.marker: int | None = None  # the position of the events read so far (GET /updates)

    def teardown(self) -> None:
        self.http.close()
        self.engine.dispose()
        MAX_BOX.faults.clear()

    @initialize(linked=st.lists(st.booleans(), min_size=6, max_size=6))
    def a_university_with_two_group_chats(self, linked: list[bool]) -> None:
        for index, is_linked in enumerate(linked):
            self.world.person(PersonKind.STUDENT, group_id=GROUPS[index % 2], linked=is_linked)
        teacher = self.world.person(PersonKind.EMPLOYEE, unit_id=UNITS[0])
        self.world.host.directory.staff[GROUPS[0]].append(teacher.id)
        self.world.chat("group", GROUPS[0])
        self.world.chat("group", GROUPS[1])

    def _chats_holding(self, sferum_id: int) -> list[int]:
        return [chat["chat_id"] for chat in MAX_BOX.state()["chats"]
                if any(m["user_id"] == sferum_id for m in chat["members"])]  # fmt: skip

    @rule(group=st.sampled_from(GROUPS), linked=st.booleans(), private=st.booleans())
    def enrol(self, group: int, linked: bool, private: bool) -> None:
        person = self.world.person(PersonKind.STUDENT, group_id=group, linked=linked, refuses_adds=private)
        if private:
            self.refusing.add(self.world.sferum_of[person.id])
        self.world.notify(f"student:{person.id}")

    @rule(data=st.data())
    def a_person_forbids_adds(self, data: st.DataObject) -> None:
        people = sorted(self.world.sferum_of.values())
        max_id = data.draw(st.sampled_from(people))
        MAX_BOX.set_privacy(max_id)
        self.refusing.add(max_id)

    # -- chats, faults, workers ---------------------------------------------------------------------------------

    @rule(kind=st.sampled_from(["group", "unit", "custom"]), index=st.integers(0, 2))
    def a_chat_is_created_by_a_tap(self, kind: str, index: int) -> None:
        target = {"group": GROUPS[index], "unit": UNITS[index % len(UNITS)], "custom": None}[kind]
        with self.world.host.db.session() as session:
            taken = session.scalar(select(SferumChat.id).where(SferumChat.kind == kind, SferumChat.target_id == target))
        if taken is not None and target is not None:
            return  # one chat per group and unit
        active = sorted({p.user_id for p in self.world.host.directory.persons if p.active and p.user_id})
        self.world.chat(kind, target, title="Проект", listed=tuple(active[:3]) if kind == "custom" else ())

    @rule(data=st.data())
    def the_bot_is_removed_from_a_chat(self, data: st.DataObject) -> None:
        rows = [pk for pk in self.world.chat_pks() if pk not in self.lost]
        if rows:
            pk = data.draw(st.sampled_from(rows))
            chat_id = self.world.row(pk).chat_id
            assert chat_id is not None
            MAX_BOX.remove_bot(chat_id)
            self.lost.add(pk)

    @rule(data=st.data())
    def a_member_leaves_a_chat(self, data: st.DataObject) -> None:
        """A person the module manages leaves a chat by themselves in MAX (``user_removed``)."""
        linked = {self.world.sferum_of[u] for u in self._linked()}
        present = sorted(
            (c["chat_id"], m["user_id"])
            for c in MAX_BOX.state()["chats"]
            for m in c["members"]
            if m["user_id"] in linked
        )
        if present:
            chat_id, user = data.draw(st.sampled_from(present))
            MAX_BOX.leave_chat(chat_id, user)

    @rule(fate=st.lists(st.sampled_from(["delivered", "duplicated", "lost"]), min_size=1, max_size=30))
    def events_arrive(self, fate: list[str]) -> None:
        """MAX's events since the last read reach the inbox — some twice, some never — and the inbox job handles
        them (``user_removed`` and ``user_added`` ask a pass of the chat; ``bot_removed`` marks it)."""
        with contextlib.suppress(SferumError):  # an injected fault on GET /updates: the events wait
            page = self.world.client.get_updates(self.marker, timeout=0)  # type: ignore[attr-defined]
            self.marker = page.marker
            now = self.world.host.clock.now()
            with self.world.host.db.session() as session:
                for index, body in enumerate(page.bodies):
                    for _ in range({"delivered": 1, "duplicated": 2, "lost": 0}[fate[index % len(fate)]]):
                        inbox.store_update(session, "max", body, now)
        inbox.process_inbox(self.world.host, self.world.account, self.world.host.clock.now())

    @rule(operation=MAX_OPERATIONS, fault=MAX_FAULTS, times=st.integers(1, 3))
    def inject_fault(self, operation: str, fault: dict, times: int) -> None:
        MAX_BOX.faults.inject(operation, times=times, **fault)

    @rule()
    def queue_pass(self) -> None:
        self.world.sync()

    @rule()
    def full_pass(self) -> None:
        self.world.sync(full=True)

    @rule()
    def worker_crashes_after_max_applied(self) -> None:
        with contextlib.suppress(Crash):
            self.world.sync(api=DiesAfterMaxApplied(self.world.client), lease=timedelta(minutes=1))  # type: ignore[arg-type]

    @rule()
    def time_passes(self) -> None:
        self.world.host.clock.current += timedelta(minutes=7)

    def settle_and_check(self) -> None:
        MAX_BOX.faults.clear()
        self.world.host.clock.current += timedelta(hours=2)
        self.world.sync(full=True)  # meets every chat the bot lost
        for pk in sorted(self.lost):
            row = self.world.row(pk)
            # The sync's 403 or the bot_removed event, whichever came first: both say what to do.
            assert row.state == NOT_MANAGEABLE, (pk, row.state, row.error)
            assert row.error in (MAX_SYNC_CHAT_DENIED, MAX_CHAT_PROBLEMS["bot_removed"]), (pk, row.error)
            self._link_another_chat(pk)  # what the administrator does about it
        for _ in range(2):
            self.world.host.clock.current += timedelta(hours=2)
            self.world.sync(full=True)
        self._check()

    def _link_another_chat(self, pk: int) -> None:
        """The administrator links a new chat with the bot as administrator to the row (services.max_chats)."""
        chat_id = MAX_BOX.seed_chat("Новый чат", owner_id=self.world.owner)
        now = self.world.host.clock.now()
        with self.world.host.db.session() as session:
            row = session.get(SferumChat, pk)
            assert row is not None
            row.chat_id, row.state, row.error, row.needs_verify = chat_id, "active", None, True
            session.execute(delete(SferumChatMember).where(SferumChatMember.chat_pk == pk))
            session.execute(
                update(SferumSyncOperation)
                .where(SferumSyncOperation.chat_pk == pk, SferumSyncOperation.state.in_(("pending", "failed")))
                .values(state="obsolete", updated_at=now)
            )

    def _check(self) -> None:
        linked = {self.world.sferum_of[u] for u in self._linked()}
        present = {(c["chat_id"], m["user_id"]) for c in MAX_BOX.state()["chats"] for m in c["members"]}
        assert self.unmanaged <= present, "an unmanaged member was removed"
        with self.world.host.db.session() as session:
            rows = session.scalars(select(SferumChat)).all()
            assert all(row.state == "active" for row in rows), [(row.id, row.state, row.error) for row in rows]
        for pk in self.world.chat_pks():
            members, desired = self.world.max_members(pk), self.world.desired(pk)
            assert desired - self.refusing <= members, "a desired member is missing"
            assert not ((members - desired) & linked), "a managed member who is not desired is still there"
            assert {self.world.owner, MAX_BOX.bot_user_id} <= members


class CheckedMaxSyncMachine(MaxSyncMachine):
    def teardown(self) -> None:
        try:
            self.settle_and_check()
        finally:
            super().teardown()


CheckedMaxSyncMachine.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_the_max_sync_converges_under_random_changes_faults_and_crashes = CheckedMaxSyncMachine.TestCase
