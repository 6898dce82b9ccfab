"""How the chat membership sync scales: a university of 20,000 linked students against the in-process sandbox.

Scenarios: (a) creating 800 group chats of 25 and 50 unit chats with their members, (b) a pass after 1% churn
(200 expelled, 200 enrolled), (c) a pass with no changes, (d) a full drift verification (with 100 members
removed behind our back).  Columns:

- *requests*: Sferum requests the pass made, counted by the sandbox (an ``execute`` of 25 calls is one);
- *minimum*: the fewest requests the design allows for the scenario's work, with ``execute`` carrying 25 calls:
  (a) one ``users.get`` (the organisation account, learned once) + ⌈chats ÷ 25⌉ executes of ``createChat`` (each
  carries its first 200 members; members beyond those would add ⌈extra ÷ 25⌉); (b) ⌈(adds + removes) ÷ 25⌉ (calls
  for different chats share a request); (c) 0; (d) ⌈member-list pages ÷ 25⌉ (one ``getConversationMembers`` per
  1000 members of a chat) + ⌈repairs ÷ 25⌉ (a repair depends on the list read, so it cannot share its request);
  the adds and removes are counted from the plan, the pages and repairs from the sandbox;
- *over minimum*: requests − minimum;
- *calls*: API calls Sferum ran, each call inside an ``execute`` counted, by the sandbox: what a client sending
  one request per call would send;
- *writes*: the calls that changed Sferum (``createChat``, ``addChatUser``, ``removeChatUser`` ...), by the sandbox;
- *at 3 req/s*: how long the requests take at the default pace, and the calls sent one per request;
- *our CPU*: the process's CPU time, the sandbox's own (measured inside its WSGI app) subtracted;
- *DB round trips*: cursor executions (a ``before_cursor_execute`` listener; an ``executemany`` is one);
- *peak RSS*: the process's peak resident memory (sandbox and records in memory included, so an upper bound).

``--platform max`` runs the same university on MAX (the MAX sandbox in-process), where the bot administers chats
that people created by tapping its chat button: (a) is the first pass over the 850 chats just created that way
(seeded in the sandbox with their owner and the bot; the sync reads each new chat's list, as after
``message_chat_created``, then adds its members), then (b), (c) and (d) as above.  Columns: *requests* counted by the
MAX sandbox; *minimum*: what MAX's API allows: ⌈adds ÷ 100⌉ per chat (``POST /chats/{chatId}/members`` takes 100
people), one request per removal (``DELETE`` takes one person), one per page of 100 members read (``GET
/chats/{chatId}/members``), and (a) one ``GET /me`` for the bot's id; *writes*: people added and removed (by the
sandbox's member lists); *at 30 req/s*: how long the requests take at MAX's limit of 30 requests per second per bot.

Run: ``python benchmarks/sync_scale.py [--platform vk|max] [--groups 800 --group-size 25 --units 50 --unit-size 10]``.
"""

from __future__ import annotations

import argparse
import math
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import attrs
import httpx
import tenacity
from sferum_sandbox import DEFAULT_APP_ID, DEFAULT_APP_TOKEN, Sandbox
from sferum_sandbox.max import MaxSandbox
from sqlalchemy import create_engine, event, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _university import Database, University

from hookspecs.types import Person, PersonKind, PersonStatus
from sferum_plugin.account import MAX_SPACE, Account
from sferum_plugin.gateway import GatewayConfig, RetryPolicy, SferumClient
from sferum_plugin.gateway.batch import EXECUTE_MAX_CALLS
from sferum_plugin.gateway.max import MEMBERS_PER_REQUEST, MaxClient, MaxConfig
from sferum_plugin.gateway.operations import MEMBERS_PAGE_MAX
from sferum_plugin.models import ProfileLink, SferumChat
from sferum_plugin.services import install
from sferum_plugin.services.sync import PassOptions, PassReport, enqueue, make_plan, run_pass
from sferum_plugin.services.sync.creation import CREATE_MEMBERS_MAX
from sferum_plugin.services.sync.max_membership import MaxMembership
from sferum_plugin.services.sync.plan import Plan

RATE = 3.0
ADMIN_USER_ID = 10**6
"""The administrator who asks for every chat at once (no Sferum profile: waiting in each chat, never a member)."""
NOW = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
HEADER = ["scenario", "requests", "minimum", "over minimum", "calls", "writes", "requests at 3 req/s",
          "calls at 3 req/s", "our CPU", "DB round trips", "peak RSS"]  # fmt: skip


def executes(calls: int) -> int:
    """``execute`` requests that ``calls`` calls take, 25 to a request."""
    return math.ceil(calls / EXECUTE_MAX_CALLS)


class TimedApp:
    """The sandbox's WSGI app, timing its own CPU so that it can be subtracted from ours."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app, self.cpu = app, 0.0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        started = time.process_time()
        try:
            return list(self.app(environ, start_response))
        finally:
            self.cpu += time.process_time() - started


@attrs.define
class Row:
    scenario: str
    requests: int
    minimum: int
    calls: int
    writes: int
    cpu: float
    db: int
    peak_mb: float

    def cells(self) -> list[str]:
        counts = [str(self.requests), str(self.minimum), f"{self.requests - self.minimum:+d}", str(self.calls),
                  str(self.writes)]  # fmt: skip
        paced = [f"{self.requests / RATE:.0f} s", f"{self.calls / RATE:.0f} s"]
        return [self.scenario, *counts, *paced, f"{self.cpu:.2f} s", str(self.db), f"{self.peak_mb:.0f} MB"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=800)
    parser.add_argument("--group-size", type=int, default=25)
    parser.add_argument("--units", type=int, default=50)
    parser.add_argument("--unit-size", type=int, default=10)
    parser.add_argument("--churn", type=int, default=200)
    parser.add_argument("--drift", type=int, default=100)
    parser.add_argument("--platform", choices=("vk", "max"), default="vk")
    args = parser.parse_args(argv)
    rows: list[Row] | list[MaxRow]
    if args.platform == "max":
        rows, planning = run_max(args)
        header = MAX_HEADER
    else:
        rows, planning = run(args)
        header = HEADER
    print(f"university: {args.groups} groups × {args.group_size} students, {args.units} units × {args.unit_size}")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row.cells()) + " |")
    print(f"planning a full pass (desired + known + diff for every chat): {planning:.2f} s CPU")
    return 0


class Campus:
    """What both platforms' benches share: the university's people and links, the plan, the statement counter.

    A bench says whose rows it writes (``account``) and who the organisation account is (``organisation_id``).
    """

    account: ClassVar[Account]
    box: Sandbox | MaxSandbox
    db: Database
    directory: University
    statements: int
    links: list[dict[str, object]]
    next_id: Iterator[int]

    @property
    def organisation_id(self) -> int:
        raise NotImplementedError

    def person(self, kind: PersonKind, **where: int) -> Person:
        pid = next(self.next_id)
        self.links.append({**self.account.columns(), "user_id": pid, "linked_at": NOW,
                           "sferum_user_id": self.box.add_user("U", str(pid))})  # fmt: skip
        found = Person(id=pid, kind=kind, user_id=pid, full_name=f"P{pid}", **where)  # type: ignore[arg-type]
        self.directory.persons.append(found)
        return found

    def count_statement(self, *_: object) -> None:
        self.statements += 1

    def store_links(self) -> None:
        with self.db.session() as session:
            session.execute(insert(ProfileLink), self.links)
        self.links.clear()

    def plan(self) -> Plan:
        with self.db.session() as session:
            pks = list(session.scalars(select(SferumChat.id)))
            return make_plan(session, self.directory, account=self.account, chat_pks=pks,
                             org_user_id=self.organisation_id, strict=False, now=NOW)  # fmt: skip


@attrs.define
class Bench(Campus):
    """The university, its database, Sferum in-process, and what is counted."""

    box: Sandbox
    app: TimedApp
    db: Database
    directory: University
    api: SferumClient
    statements: int = 0
    links: list[dict[str, object]] = attrs.field(factory=list)
    next_id: Iterator[int] = attrs.field(factory=lambda: iter(range(1, 10**7)))

    account = Account("vk", DEFAULT_APP_ID)

    @property
    def organisation_id(self) -> int:
        return self.box.org_user_id

    def sync(self, **options: Any) -> None:
        run_pass(
            self.db,
            self.directory,
            self.api,
            account=self.account,
            now=NOW,
            options=PassOptions(**options),
        )

    def measure(self, name: str, minimum: int, action: Callable[[], object]) -> Row:
        box = self.box
        requests, calls, writes = box.request_counts(), box.call_counts(), box.write_counts()
        statements, sandbox_cpu = self.statements, self.app.cpu
        started = time.process_time()
        action()
        cpu = time.process_time() - started - (self.app.cpu - sandbox_cpu)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
        return Row(name, _grown(requests, box.request_counts()), minimum, _grown(calls, box.call_counts()),
                   _grown(writes, box.write_counts()), cpu, self.statements - statements, peak)  # fmt: skip


def _grown(before: dict[str, int], after: dict[str, int]) -> int:
    return sum(after.values()) - sum(before.values())


def run(args: argparse.Namespace) -> tuple[list[Row], float]:
    rng = random.Random(5)
    box = Sandbox(rate_limit_per_second=None)
    app = TimedApp(box.wsgi_app)
    with tempfile.TemporaryDirectory() as tmp, httpx.Client(transport=httpx.WSGITransport(app=app)) as http:
        engine = create_engine(f"sqlite:///{Path(tmp) / 'lms.sqlite3'}")
        install.install(engine)
        config = GatewayConfig(api_base_url="http://sferum.test", requests_per_second=1e6, burst=10**9)
        retry = RetryPolicy(wait=tenacity.wait_none(), sleep=lambda _: None)
        api = SferumClient(config, DEFAULT_APP_TOKEN, http=http, retry=retry)
        bench = Bench(box, app, Database(engine), University(), api)
        event.listen(engine, "before_cursor_execute", bench.count_statement)
        rows = _scenarios(bench, args, rng)
        started = time.process_time()
        bench.plan()
        planning = time.process_time() - started
        engine.dispose()
    return rows, planning


def _scenarios(bench: Bench, args: argparse.Namespace, rng: random.Random) -> list[Row]:
    box, directory = bench.box, bench.directory
    for uid in range(1, args.units + 1):
        directory.unit_titles[uid] = f"Unit {uid}"
        for _ in range(args.unit_size):
            bench.person(PersonKind.EMPLOYEE, unit_id=uid)
    employees = [p.id for p in directory.persons]
    for gid in range(1, args.groups + 1):
        directory.group_titles[gid] = f"G-{gid}"
        directory.staff[gid] = [rng.choice(employees)]
        for _ in range(args.group_size):
            bench.person(PersonKind.STUDENT, group_id=gid)
    bench.store_links()
    with bench.db.session() as session:
        session.execute(
            insert(SferumChat),
            [{"platform": "vk", "app_id": DEFAULT_APP_ID, "kind": kind, "target_id": tid, "title": f"{kind} {tid}",
              "marker": f"{kind[0]}{tid}", "state": "creating", "created_by": ADMIN_USER_ID, "created_at": NOW,
              "needs_verify": False}
             for kind, count in (("group", args.groups), ("unit", args.units)) for tid in range(1, count + 1)],
        )  # fmt: skip
    org = box.org_user_id
    # (a) one users.get, then the chats 25 to an execute; members past the first 200 of a chat are added after.
    overflow = sum(max(0, len(c.desired.members - {org}) - CREATE_MEMBERS_MAX) for c in bench.plan().chats.values())
    chats = args.groups + args.units
    rows = [bench.measure("(a) create all chats", 1 + executes(chats) + executes(overflow), bench.sync)]
    # (b) churn: expel some, enrol as many (linked) into random groups
    students = [p for p in directory.persons if p.kind == PersonKind.STUDENT]
    expelled = rng.sample(students, args.churn)
    for person in expelled:
        directory.replace(attrs.evolve(person, status=PersonStatus.EXPELLED))
    enrolled = [bench.person(PersonKind.STUDENT, group_id=rng.randint(1, args.groups)) for _ in range(args.churn)]
    bench.store_links()
    with bench.db.session() as session:
        enqueue(session, [f"student:{p.id}" for p in [*expelled, *enrolled]], NOW)
    changes = sum(len(c.diff.add) + len(c.diff.remove) for c in bench.plan().chats.values())
    rows.append(bench.measure("(b) 1% churn", executes(changes), bench.sync))
    with bench.db.session() as session:
        enqueue(session, ["all"], NOW)
    rows.append(bench.measure("(c) no changes", 0, bench.sync))
    # (d) drift: members removed in Sferum behind our back, then a full verification
    drifted = 0
    for chat in box.state()["chats"][: args.drift]:
        victim = next(m["member_id"] for m in chat["members"] if m["member_id"] != chat["owner_id"])
        box.remove_chat_member(chat["chat_id"], victim)
        drifted += 1
    pages = sum(max(1, math.ceil(len(chat["members"]) / MEMBERS_PAGE_MAX)) for chat in box.state()["chats"])
    rows.append(bench.measure("(d) full drift verification", executes(pages) + executes(drifted),
                              lambda: bench.sync(full=True)))  # fmt: skip
    return rows


# -- MAX -----------------------------------------------------------------------------------------------------------

MAX_RATE = 30.0
MAX_ACCOUNT = Account("max", MAX_SPACE)
MAX_HEADER = ["scenario", "requests", "minimum", "over minimum", "people added + removed", "requests at 30 req/s",
              "our CPU", "DB round trips", "peak RSS"]  # fmt: skip


def pages(members: int) -> int:
    """Requests that reading a member list of ``members`` takes, 100 to a page (an empty list is still one)."""
    return max(1, math.ceil(members / MEMBERS_PER_REQUEST))


@attrs.define
class MaxRow:
    scenario: str
    requests: int
    minimum: int
    writes: int
    cpu: float
    db: int
    peak_mb: float

    def cells(self) -> list[str]:
        return [self.scenario, str(self.requests), str(self.minimum), f"{self.requests - self.minimum:+d}",
                str(self.writes), f"{self.requests / MAX_RATE:.0f} s", f"{self.cpu:.2f} s", str(self.db),
                f"{self.peak_mb:.0f} MB"]  # fmt: skip


@attrs.define
class MaxBench(Campus):
    """The university, its database, MAX in-process, and what is counted."""

    box: MaxSandbox
    app: TimedApp
    db: Database
    directory: University
    client: MaxClient
    owner: int = 0
    statements: int = 0
    links: list[dict[str, object]] = attrs.field(factory=list)
    next_id: Iterator[int] = attrs.field(factory=lambda: iter(range(1, 10**7)))

    account = MAX_ACCOUNT

    @property
    def organisation_id(self) -> int:
        return self.box.bot_user_id

    def sync(self, **options: Any) -> PassReport:
        membership = MaxMembership(self.client, credential="benchmark")
        return run_pass(self.db, self.directory, membership, account=MAX_ACCOUNT, now=NOW,
                        options=PassOptions(**options))  # fmt: skip

    def measure(self, name: str, minimum: int, action: Callable[[], PassReport]) -> MaxRow:
        requests, statements, sandbox_cpu = self.box.request_counts(), self.statements, self.app.cpu
        started = time.process_time()
        report = action()
        cpu = time.process_time() - started - (self.app.cpu - sandbox_cpu)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
        return MaxRow(name, _grown(requests, self.box.request_counts()), minimum, report.added + report.removed,
                      cpu, self.statements - statements, peak)  # fmt: skip

    def member_counts(self) -> list[int]:
        return [len(chat["members"]) for chat in self.box.state()["chats"]]


def run_max(args: argparse.Namespace) -> tuple[list[MaxRow], float]:
    rng = random.Random(5)
    box = MaxSandbox(rate_limit_per_second=None)
    app = TimedApp(box.wsgi_app)
    with tempfile.TemporaryDirectory() as tmp, httpx.Client(transport=httpx.WSGITransport(app=app)) as http:
        engine = create_engine(f"sqlite:///{Path(tmp) / 'lms.sqlite3'}")
        install.install(engine)
        config = MaxConfig(base_url="http://max.test", requests_per_second=1e6, burst=10**9)
        client = MaxClient(config, "max-sandbox-bot-token-00000000000000000000000000", http=http,
                           retry=RetryPolicy(wait=tenacity.wait_none(), sleep=lambda _: None))  # fmt: skip
        bench = MaxBench(box, app, Database(engine), University(), client)
        event.listen(engine, "before_cursor_execute", bench.count_statement)
        rows = _max_scenarios(bench, args, rng)
        started = time.process_time()
        bench.plan()
        planning = time.process_time() - started
        engine.dispose()
    return rows, planning


def _max_university(bench: MaxBench, args: argparse.Namespace, rng: random.Random) -> None:
    """The people, and the chats as the taps on the bot's buttons left them: the owner and the bot in each."""
    directory = bench.directory
    for uid in range(1, args.units + 1):
        directory.unit_titles[uid] = f"Unit {uid}"
        for _ in range(args.unit_size):
            bench.person(PersonKind.EMPLOYEE, unit_id=uid)
    employees = [p.id for p in directory.persons]
    for gid in range(1, args.groups + 1):
        directory.group_titles[gid] = f"G-{gid}"
        directory.staff[gid] = [rng.choice(employees)]
        for _ in range(args.group_size):
            bench.person(PersonKind.STUDENT, group_id=gid)
    bench.store_links()
    bench.owner = bench.box.add_user("Администратор", "Чатов")
    rows = []
    for kind, count in (("group", args.groups), ("unit", args.units)):
        for tid in range(1, count + 1):
            chat_id = bench.box.seed_chat(f"{kind} {tid}", owner_id=bench.owner)
            rows.append({**MAX_ACCOUNT.columns(), "kind": kind, "target_id": tid, "title": f"{kind} {tid}",
                         "marker": f"{kind[0]}{tid}", "state": "active", "chat_id": chat_id,
                         "created_by": ADMIN_USER_ID, "created_at": NOW, "needs_verify": True})  # fmt: skip
    with bench.db.session() as session:
        session.execute(insert(SferumChat), rows)
        enqueue(session, [f"chat:{pk}" for pk in session.scalars(select(SferumChat.id))], NOW)


def _max_scenarios(bench: MaxBench, args: argparse.Namespace, rng: random.Random) -> list[MaxRow]:
    box, directory = bench.box, bench.directory
    _max_university(bench, args, rng)
    org = box.bot_user_id
    # (a) the bot's id, each new chat's list (owner and bot: one page), then its members 100 to a request
    adds = [math.ceil(len(c.desired.members - {org}) / MEMBERS_PER_REQUEST) for c in bench.plan().chats.values()]
    minimum = 1 + sum(pages(n) for n in bench.member_counts()) + sum(adds)
    rows = [bench.measure(f"(a) first pass over {len(adds)} chats created by taps", minimum, bench.sync)]
    # (b) churn: expel some, enrol as many (linked) into random groups
    students = [p for p in directory.persons if p.kind == PersonKind.STUDENT]
    expelled = rng.sample(students, args.churn)
    for person in expelled:
        directory.replace(attrs.evolve(person, status=PersonStatus.EXPELLED))
    enrolled = [bench.person(PersonKind.STUDENT, group_id=rng.randint(1, args.groups)) for _ in range(args.churn)]
    bench.store_links()
    with bench.db.session() as session:
        enqueue(session, [f"student:{p.id}" for p in [*expelled, *enrolled]], NOW)
    planned = bench.plan().chats.values()
    minimum = sum(math.ceil(len(c.diff.add) / MEMBERS_PER_REQUEST) + len(c.diff.remove) for c in planned)
    rows.append(bench.measure("(b) 1% churn", minimum, bench.sync))
    with bench.db.session() as session:
        enqueue(session, ["all"], NOW)
    rows.append(bench.measure("(c) no changes", 0, bench.sync))
    # (d) drift: members removed in MAX behind our back (by the chats' owner), then a full verification
    drifted = 0
    for chat in box.state()["chats"][: args.drift]:
        victim = next(m["user_id"] for m in chat["members"] if m["user_id"] not in (bench.owner, org))
        box.remove_member(chat["chat_id"], victim, by_user_id=bench.owner)
        drifted += 1
    minimum = sum(pages(n) for n in bench.member_counts()) + drifted  # one add request per drifted chat
    rows.append(bench.measure("(d) full drift verification", minimum, lambda: bench.sync(full=True)))
    return rows


if __name__ == "__main__":
    sys.exit(main())
