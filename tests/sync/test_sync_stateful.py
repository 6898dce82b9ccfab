"""Random sequences of directory changes, profile links, chat creation, injected faults and worker crashes.

After the faults stop and the service catches up, every chat in Sferum holds exactly its desired members plus
the unmanaged people it held, there is one Sferum chat per chat row, and no unmanaged member was removed.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sferum_sandbox import DEFAULT_APP_ID, Sandbox
from sqlalchemy import create_engine, select
from sqlalchemy.pool import StaticPool

from hookspecs.types import PersonKind, PersonStatus
from sferum_plugin.models import Base, ProfileLink, SferumChat
from sferum_plugin.services.sync import PassOptions, run_pass
from tests.plugin.fakes import FakeDatabase, FakeHost
from tests.sync.conftest import make_client
from tests.sync.world import World

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


class SyncMachine(RuleBasedStateMachine):
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

    def _people(self, kind: PersonKind, active: bool = True) -> list:
        return [p for p in self.world.host.directory.persons if p.kind == kind and p.active == active]

    @rule(group=st.sampled_from(GROUPS), linked=st.booleans())
    def enrol(self, group: int, linked: bool) -> None:
        person = self.world.person(PersonKind.STUDENT, group_id=group, linked=linked)
        self.world.notify(f"student:{person.id}")

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
            for chat in BOX.state()["chats"]:
                if any(m["member_id"] == sferum_id for m in chat["members"]):
                    self.unmanaged.add((chat["chat_id"], sferum_id))

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
