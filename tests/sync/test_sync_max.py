"""The membership sync on MAX, against the MAX sandbox over real HTTP: request counts (adds 100 to a request,
removals one each, member lists by pages of 100, nothing when nothing changed), people MAX refuses, MAX's faults,
a refused token, chats the bot lost, and chats MAX has not created yet."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sferum_sandbox.max import DEFAULT_BOT_TOKEN, MaxSandbox, RunningMaxSandbox
from sqlalchemy import select

from hookspecs.types import PersonKind, PersonStatus
from sferum_plugin.models import SferumChatMember, SferumSyncOperation, SferumSyncService
from sferum_plugin.services.explain import (
    MAX_SYNC_ADD_REFUSED,
    MAX_SYNC_CHAT_DENIED,
    MAX_SYNC_CHAT_GONE,
    MAX_SYNC_REMOVE_REFUSED,
    MAX_SYNC_TOKEN_REFUSED,
)
from sferum_plugin.services.sync.cli import run_sync_command
from sferum_plugin.services.sync.jobs import run_for_host
from sferum_plugin.services.sync.overview import sync_overview
from sferum_plugin.services.sync.queue import CREDENTIALS_PAUSE
from tests._sferum import no_wait_access
from tests.plugin.fakes import FakeHost
from tests.sync.max_world import Counted, MaxWorld, bot_connection

ADD = "POST /chats/{chatId}/members"
REMOVE = "DELETE /chats/{chatId}/members"
PAGE = "GET /chats/{chatId}/members"
ME = "GET /me"


def _ops(world: MaxWorld, **where: object) -> list[SferumSyncOperation]:
    with world.host.db.session() as session:
        query = select(SferumSyncOperation).filter_by(**where).order_by(SferumSyncOperation.id)
        ops = list(session.scalars(query))
        session.expunge_all()
        return ops


def test_adds_go_100_to_a_request_removals_one_each_and_lists_by_pages_of_100(max_world: MaxWorld) -> None:
    world = max_world
    world.group(1)
    students = world.students(250, group_id=1)
    chat = world.chat("group", 1, verify=False)  # a new chat: its owner and the bot

    counted = Counted(world.box)
    report = world.sync()
    assert counted.grown() == {ME: 1, ADD: 3}  # 250 people: 100 + 100 + 50
    assert (report.added, report.requests) == (250, 4)
    assert world.max_members(chat) == world.ids(students) | {world.owner, world.box.bot_user_id}

    for person in students[:3]:
        world.set_status(person, PersonStatus.EXPELLED)
        world.notify(f"student:{person.id}")
    counted = Counted(world.box)
    report = world.sync()
    assert counted.grown() == {REMOVE: 3}
    assert (report.removed, report.requests) == (3, 3)

    counted = Counted(world.box)
    report = world.sync(full=True)  # 247 students, the owner and the bot: 249 members, 3 pages
    assert counted.grown() == {PAGE: 3}
    assert (report.verified, report.added, report.removed) == (1, 0, 0)

    world.notify("all")
    counted = Counted(world.box)
    assert world.sync().requests == 0  # a pass with no change asks MAX nothing
    assert counted.grown() == {}


def test_a_person_max_refuses_is_recorded_with_the_reason_and_not_retried(max_world: MaxWorld) -> None:
    world = max_world
    world.group(1)
    keen = world.students(3, group_id=1)
    private = world.person(PersonKind.STUDENT, group_id=1, refuses_adds=True)
    chat = world.chat("group", 1)

    report = world.sync()
    assert report.added == 3
    assert report.failed == 1
    assert world.max_members(chat) == world.ids(keen) | {world.owner, world.box.bot_user_id}
    [refused] = _ops(world, sferum_user_id=world.sferum_of[private.id])
    assert (refused.action, refused.state) == ("add", "failed")
    assert refused.last_error == MAX_SYNC_ADD_REFUSED["add.participant.privacy"]

    [row] = sync_overview(world.host, account=world.account).chats
    assert [(p.sferum_user_id, p.state, p.reason) for p in row.problems] == [
        (world.sferum_of[private.id], "failed", MAX_SYNC_ADD_REFUSED["add.participant.privacy"])
    ]

    world.host.clock.current += timedelta(days=1)
    world.notify("all", f"chat:{chat}")
    counted = Counted(world.box)
    world.sync()
    world.sync(full=True)
    assert ADD not in counted.grown()  # never sent again on its own


def test_a_person_max_does_not_know_fails_alone(max_world: MaxWorld) -> None:
    world = max_world
    world.group(1)
    [known] = world.students(1, group_id=1)
    chat = world.chat("group", 1, verify=False)
    ghost = world.person(PersonKind.STUDENT, group_id=1, linked=False)
    world.sferum_of[ghost.id] = 987_654_321  # a linked id MAX has no user for
    world.link(ghost.id)

    report = world.sync()
    assert (report.added, report.failed) == (1, 1)
    assert world.sferum_of[known.id] in world.max_members(chat)
    [op] = _ops(world, sferum_user_id=987_654_321)
    assert (op.state, op.last_error) == ("failed", MAX_SYNC_ADD_REFUSED["add.participant.not.found"])


@pytest.mark.parametrize("status", [429, 503])
def test_a_passing_fault_is_retried_by_the_client(max_world: MaxWorld, status: int) -> None:
    world = max_world
    world.group(1)
    students = world.students(5, group_id=1)
    chat = world.chat("group", 1, verify=False)
    world.box.faults.inject(ADD, status=status, times=2, retry_after=0 if status == 429 else None)

    report = world.sync()
    assert report.added == 5
    assert world.ids(students) <= world.max_members(chat)


@pytest.mark.parametrize("status", [429, 503])
def test_a_lasting_fault_leaves_the_changes_pending_with_a_backoff_and_loses_nothing(
    max_world: MaxWorld, status: int
) -> None:
    world = max_world
    world.group(1)
    world.group(2)
    first = world.students(5, group_id=1)
    second = world.students(5, group_id=2)
    chats = [world.chat("group", 1, verify=False), world.chat("group", 2, verify=False)]
    world.box.faults.inject(ADD, status=status, times=3)  # the client's 3 attempts of the first request

    counted = Counted(world.box)
    report = world.sync()
    assert counted.grown() == {ME: 1, ADD: 3}  # the sending stopped at the lasting failure
    assert report.added == 0
    assert report.failures.attempts == 2
    ops = _ops(world)
    assert {op.state for op in ops} == {"pending"}
    assert len(ops) == 10
    assert all(op.next_attempt_at is not None and op.attempts == 1 for op in ops)

    # The backoff is not over: nothing is sent.  After a 503 (which may have applied the request) the chat's list
    # is read first; a 429 refused it before anything was done.
    assert world.sync().requests == {429: 0, 503: 1}[status]
    world.host.clock.current += timedelta(minutes=5)
    world.sync()
    assert world.ids(first) <= world.max_members(chats[0])
    assert world.ids(second) <= world.max_members(chats[1])
    assert {op.state for op in _ops(world)} == {"done"}


def test_a_refused_token_pauses_the_service_until_the_token_changes(
    max_world: MaxWorld, max_running: RunningMaxSandbox
) -> None:
    world = max_world
    world.group(1)
    students = world.students(3, group_id=1)
    chat = world.chat("group", 1, verify=False)
    with bot_connection(max_running, token="a-revoked-token-0000000000") as revoked:
        counted = Counted(world.box)
        report = world.sync(api=revoked)
        assert counted.grown() == {ME: 1}
        assert report.paused_until == world.host.clock.now() + CREDENTIALS_PAUSE
        overview = sync_overview(world.host, account=world.account)
        assert overview.pause_reason == MAX_SYNC_TOKEN_REFUSED
        assert overview.paused_until == report.paused_until

        world.host.clock.current += timedelta(days=3)
        world.notify("all")
        counted = Counted(world.box)
        assert world.sync(api=revoked).paused_until == report.paused_until
        assert world.sync(api=revoked, full=True).requests == 0
        assert counted.grown() == {}  # not a single request with the refused token

    world.credential = "bot-token-key-2"  # the administrator saved another token
    report = world.sync()
    assert report.paused_until is None
    assert report.added == 3
    assert world.ids(students) <= world.max_members(chat)
    assert sync_overview(world.host, account=world.account).pause_reason is None


def test_a_new_token_makes_the_next_pass_learn_the_bot_again(max_world: MaxWorld) -> None:
    world = max_world
    world.group(1)
    world.students(2, group_id=1)
    world.chat("group", 1, verify=False)
    counted = Counted(world.box)
    world.sync()
    assert counted.grown()[ME] == 1  # the bot's id is learned once...
    world.notify("all")
    counted = Counted(world.box)
    world.sync()
    assert ME not in counted.grown()  # ...and kept while the token stays

    world.credential = "bot-token-key-2"  # another token, perhaps another bot, saved without any refusal first
    world.notify("all")
    counted = Counted(world.box)
    world.sync()
    assert counted.grown()[ME] == 1


def test_a_token_refused_while_sending_keeps_the_changes_for_after_the_pause(max_world: MaxWorld) -> None:
    world = max_world
    world.group(1)
    world.students(3, group_id=1)
    world.chat("group", 1, verify=False)
    world.sync()  # learns the bot's id
    world.students(2, group_id=1)
    world.notify("group:1")
    world.box.faults.inject(ADD, status=401)

    report = world.sync()
    assert report.paused_until is not None
    assert report.note == MAX_SYNC_TOKEN_REFUSED
    pending = _ops(world, state="pending")
    assert len(pending) == 2
    assert all(op.attempts == 0 for op in pending)

    from sferum_plugin.services.sync.triggers import request_sync

    world.host.settings.installed.add("sferum")
    world.host.settings.stored["sferum"] = {"platform": "max", "max_bot_token": "x" * 40}
    request_sync(world.host, ["all"])  # «Синхронизировать сейчас»: the administrator resumes
    report = world.sync()
    assert report.added == 2
    assert report.paused_until is None


def test_a_chat_whose_bot_was_removed_stops_and_says_what_to_do_the_others_go_on(max_world: MaxWorld) -> None:
    world = max_world
    world.group(1)
    world.group(2)
    world.students(2, group_id=1)
    second = world.students(2, group_id=2)
    lost, kept = world.chat("group", 1), world.chat("group", 2)
    lost_id = world.row(lost).chat_id
    assert lost_id is not None
    world.box.remove_bot(lost_id)

    report = world.sync()
    assert world.row(lost).state == "bot_removed"
    assert world.row(lost).error == MAX_SYNC_CHAT_DENIED
    assert world.ids(second) <= world.max_members(kept)
    assert report.added == 2

    world.notify("all", f"chat:{lost}")
    counted = Counted(world.box)
    world.sync(full=True)
    assert counted.grown() == {PAGE: 1}  # the kept chat's list only: the lost one is left alone


def test_a_chat_whose_bot_lost_its_rights_while_adding_is_marked(max_world: MaxWorld) -> None:
    world = max_world
    world.group(1)
    world.group(2)
    world.students(2, group_id=1)
    chat = world.chat("group", 1, verify=False)
    other = world.chat("group", 2, verify=False)
    second = world.students(2, group_id=2)
    chat_id = world.row(chat).chat_id
    assert chat_id is not None
    world.box.set_bot_admin(chat_id, False)

    report = world.sync()
    assert (world.row(chat).state, world.row(chat).error) == ("bot_removed", MAX_SYNC_CHAT_DENIED)
    assert world.ids(second) <= world.max_members(other)
    assert report.added == 2
    assert {op.state for op in _ops(world, chat_pk=chat)} == {"pending"}  # kept for when the bot is back


def test_a_chat_max_does_not_know_is_marked_gone(max_world: MaxWorld) -> None:
    world = max_world
    world.group(1)
    world.students(2, group_id=1)
    chat = world.chat("group", 1)
    with world.host.db.session() as session:
        from sferum_plugin.models import SferumChat

        row = session.get(SferumChat, chat)
        assert row is not None
        row.chat_id = -4_000_000_000_001  # a chat deleted in MAX
    world.sync()
    assert (world.row(chat).state, world.row(chat).error) == ("vanished", MAX_SYNC_CHAT_GONE)


def test_the_owner_max_will_not_remove_fails_alone_the_chat_stays_active(max_world: MaxWorld) -> None:
    world = max_world
    world.group(1)
    owner = world.person(PersonKind.STUDENT, group_id=1, linked=False)
    world.owner = world.sferum_of[owner.id]
    world.link(owner.id)
    others = world.students(2, group_id=1)
    chat = world.chat("group", 1)
    world.sync()
    for person in (owner, others[0]):
        world.set_status(person, PersonStatus.EXPELLED)
    world.notify("group:1")

    counted = Counted(world.box)
    report = world.sync()
    assert counted.grown() == {REMOVE: 2, "GET /chats/{chatId}/members/me": 1}
    assert (report.removed, report.failed) == (1, 1)
    assert world.row(chat).state == "active"
    [op] = _ops(world, sferum_user_id=world.owner, action="remove")
    assert (op.state, op.last_error) == ("failed", MAX_SYNC_REMOVE_REFUSED)


def test_chats_max_has_not_created_cost_no_request_and_are_not_taken(max_world: MaxWorld) -> None:
    world = max_world
    world.group(1)
    world.group(2)
    world.students(2, group_id=1)
    awaiting = world.chat("group", 1, state="awaiting")
    creating = world.chat("group", 2, state="creating")
    world.notify("all", f"chat:{awaiting}", f"chat:{creating}")

    counted = Counted(world.box)
    assert world.sync().chats == 0
    assert world.sync(full=True).chats == 0
    assert counted.grown() == {}
    assert (world.row(awaiting).state, world.row(creating).state) == ("awaiting", "creating")
    assert world.row(awaiting).lease_holder is None


def test_a_crash_after_max_applied_is_settled_by_reading_the_list(max_world: MaxWorld) -> None:
    world = max_world
    world.group(1)
    students = world.students(4, group_id=1)
    chat = world.chat("group", 1, verify=False)

    class Crash(BaseException):
        pass

    class Dying:
        def __getattr__(self, name: str) -> object:
            return getattr(world.client, name)

        def add_members(self, chat_id: int, user_ids: list[int]) -> object:
            world.client.add_members(chat_id, user_ids)
            raise Crash

    with pytest.raises(Crash):
        world.sync(api=Dying(), lease=timedelta(minutes=1))  # type: ignore[arg-type]
    assert {op.state for op in _ops(world)} == {"sending"}
    world.host.clock.current += timedelta(minutes=2)
    counted = Counted(world.box)
    world.sync()
    assert counted.grown() == {PAGE: 1}  # the list says the adds took effect: nothing sent again
    assert {op.state for op in _ops(world)} == {"done"}
    assert world.ids(students) <= world.max_members(chat)
    with world.host.db.session() as session:
        known = set(session.scalars(select(SferumChatMember.sferum_user_id).where(SferumChatMember.chat_pk == chat)))
    assert world.ids(students) <= known


def test_the_bot_is_the_organisation_account(max_world: MaxWorld, max_sandbox: MaxSandbox) -> None:
    world = max_world
    world.group(1)
    world.chat("group", 1)
    world.sync(strict=True)
    with world.host.db.session() as session:
        service = session.get(SferumSyncService, ("max", 0))
        assert service is not None
        assert service.org_user_id == max_sandbox.bot_user_id
    assert max_sandbox.bot_user_id in world.max_members(world.chat_pks()[0])  # strict mode keeps the bot


def _configure_max(world: MaxWorld, running: RunningMaxSandbox, **extra: str) -> None:
    world.host.settings.installed.add("sferum")
    world.host.settings.stored["sferum"] = {"platform": "max", "max_bot_token": DEFAULT_BOT_TOKEN,
                                            "max_api_url": running.url, **extra}  # fmt: skip


HOST: FakeHost | None = None


def make_host() -> FakeHost:
    assert HOST is not None
    return HOST


def test_the_jobs_and_the_command_sync_max_when_max_is_chosen(
    max_world: MaxWorld, max_running: RunningMaxSandbox, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    world = max_world
    world.group(1)
    students = world.students(3, group_id=1)
    chat = world.chat("group", 1)
    _configure_max(world, max_running, sync_strict="1")
    access = no_wait_access()

    dry = run_for_host(world.host, access, dry_run=True)
    assert dry is not None
    assert dry.preview[chat].add == world.ids(students)

    counted = Counted(world.box)
    report = run_for_host(world.host, access)
    assert report is not None
    assert (report.added, report.verified, report.failed) == (3, 1, 1)
    # Strict mode («Строгий режим» of the settings) removes whoever is not desired: the chat's owner here, who has
    # no linked profile; MAX refuses that, and the bot's rights say it is this person alone.
    assert counted.grown() == {ME: 1, PAGE: 1, ADD: 1, REMOVE: 1, "GET /chats/{chatId}/members/me": 1}
    assert world.ids(students) <= world.max_members(chat)

    global HOST
    HOST = world.host
    monkeypatch.setenv("SFERUM_HOST", f"{__name__}:make_host")
    world.set_status(students[0], PersonStatus.EXPELLED)
    world.notify(f"student:{students[0].id}")
    assert run_sync_command(sferum=access, host_spec=None, loop=False, full=False, dry_run=False, chat_ids=()) == 0
    assert "removed=1" in capsys.readouterr().out
    assert world.sferum_of[students[0].id] not in world.max_members(chat)


def test_the_jobs_do_nothing_while_max_has_no_bot_token(max_world: MaxWorld) -> None:
    world = max_world
    world.host.settings.installed.add("sferum")
    world.host.settings.stored["sferum"] = {"platform": "max"}
    counted = Counted(world.box)
    assert run_for_host(world.host, no_wait_access()) is None
    assert counted.grown() == {}
