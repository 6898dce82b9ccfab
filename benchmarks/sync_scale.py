"""How the chat membership sync scales: a university of 20,000 linked students against the in-process sandbox.

Scenarios: (a) creating 800 group chats of 25 and 50 unit chats with their members, (b) a pass after 1% churn
(200 expelled, 200 enrolled), (c) a pass with no changes, (d) a full drift verification (with 100 members
removed behind our back).  For each: the Sferum requests made, the lower bound (operations ÷ 25, rounded up),
what a one-call-per-operation client would send, how long the requests take at 3 requests/s, our own CPU time
(the sandbox's CPU excluded), database round trips (cursor executions), and the process's peak resident memory
(sandbox and fake directory included, so an upper bound).

Run: ``python benchmarks/sync_scale.py [--groups 800 --group-size 25 --units 50 --unit-size 10]``.
"""

from __future__ import annotations

import argparse
import math
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import attrs
import httpx
import tenacity
from sferum_sandbox import DEFAULT_APP_ID, DEFAULT_APP_TOKEN, Sandbox
from sqlalchemy import create_engine, event, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hookspecs.types import Person, PersonKind, PersonStatus
from sferum_plugin.gateway import GatewayConfig, RetryPolicy, SferumClient
from sferum_plugin.models import ProfileLink, SferumChat
from sferum_plugin.services import install
from sferum_plugin.services.sync import PassOptions, enqueue, make_plan, run_pass
from tests.plugin.fakes import FakeDatabase, FakeHost

RATE = 3.0
ADMIN_USER_ID = 10**6
"""The administrator who asks for every chat at once (no Sferum profile: waiting in each chat, never a member)."""


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
    writes: int
    lower_bound: int
    naive: int
    cpu: float
    db: int
    peak_mb: float

    def cells(self) -> list[str]:
        within = f"{(self.requests / self.lower_bound - 1) * 100:+.1f}%" if self.lower_bound else "—"
        counts = [str(n) for n in (self.requests, self.writes, self.lower_bound)]
        timing = [f"{self.requests / RATE:.0f} s", f"{self.cpu:.2f} s", str(self.db), f"{self.peak_mb:.0f} MB"]
        return [self.scenario, *counts, within, str(self.naive), *timing]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=800)
    parser.add_argument("--group-size", type=int, default=25)
    parser.add_argument("--units", type=int, default=50)
    parser.add_argument("--unit-size", type=int, default=10)
    parser.add_argument("--churn", type=int, default=200)
    parser.add_argument("--drift", type=int, default=100)
    args = parser.parse_args(argv)
    rows, planning = run(args)
    header = ["scenario", "requests", "writes", "lower bound", "vs bound", "1 call/op", "at 3 req/s", "our CPU",
              "DB round trips", "peak RSS"]  # fmt: skip
    print(f"university: {args.groups} groups × {args.group_size} students, {args.units} units × {args.unit_size}")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row.cells()) + " |")
    print(f"planning a full pass (desired + known + diff for every chat): {planning:.2f} s CPU")
    return 0


def run(args: argparse.Namespace) -> tuple[list[Row], float]:
    rng = random.Random(5)
    box = Sandbox(rate_limit_per_second=None)
    app = TimedApp(box.wsgi_app)
    with tempfile.TemporaryDirectory() as tmp, httpx.Client(transport=httpx.WSGITransport(app=app)) as http:
        engine = create_engine(f"sqlite:///{Path(tmp) / 'lms.sqlite3'}")
        install.install(engine)
        statements = [0]
        event.listen(engine, "before_cursor_execute", lambda *a: statements.__setitem__(0, statements[0] + 1))
        host = FakeHost(db=FakeDatabase(engine))
        config = GatewayConfig(api_base_url="http://sferum.test", requests_per_second=1e6, burst=10**9)
        retry = RetryPolicy(wait=tenacity.wait_none(), sleep=lambda _: None)
        api = SferumClient(config, DEFAULT_APP_TOKEN, http=http, retry=retry)
        directory = host.directory
        links: list[dict[str, object]] = []
        next_id = iter(range(1, 10**7))

        def person(kind: PersonKind, **where: int) -> Person:
            pid = next(next_id)
            links.append({"app_id": DEFAULT_APP_ID, "user_id": pid, "sferum_user_id": box.add_user("U", str(pid)),
                          "linked_at": host.clock.now()})  # fmt: skip
            found = Person(id=pid, kind=kind, user_id=pid, full_name=f"P{pid}", **where)  # type: ignore[arg-type]
            directory.persons.append(found)
            return found

        for uid in range(1, args.units + 1):
            directory.unit_titles[uid] = f"Unit {uid}"
            for _ in range(args.unit_size):
                person(PersonKind.EMPLOYEE, unit_id=uid)
        employees = [p.id for p in directory.persons]
        for gid in range(1, args.groups + 1):
            directory.group_titles[gid] = f"G-{gid}"
            directory.staff[gid] = [rng.choice(employees)]
            for _ in range(args.group_size):
                person(PersonKind.STUDENT, group_id=gid)
        now = host.clock.now()
        with host.db.session() as session:
            session.execute(insert(ProfileLink), links)
            session.execute(
                insert(SferumChat),
                [{"app_id": DEFAULT_APP_ID, "kind": kind, "target_id": tid, "title": f"{kind} {tid}",
                  "marker": f"{kind[0]}{tid}", "state": "creating", "created_by": ADMIN_USER_ID, "created_at": now,
                  "needs_verify": False}
                 for kind, count in (("group", args.groups), ("unit", args.units)) for tid in range(1, count + 1)],
            )  # fmt: skip
        # Members to put in the chats, counted from the plan itself (students, teachers, employees with a profile).
        with host.db.session() as session:
            pks = list(session.scalars(select(SferumChat.id)))
            planned = make_plan(session, directory, app_id=DEFAULT_APP_ID, chat_pks=pks, org_user_id=box.org_user_id,
                                strict=False, now=host.clock.now())  # fmt: skip
        members = sum(len(chat.desired.members - {box.org_user_id}) for chat in planned.chats.values())
        chats = args.groups + args.units

        def measure(name: str, operations: int, naive: int, action: Callable[[], object]) -> Row:
            before, db_before, sandbox_cpu = sum(box.request_counts().values()), statements[0], app.cpu
            started = time.process_time()
            action()
            cpu = time.process_time() - started - (app.cpu - sandbox_cpu)
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
            requests = sum(box.request_counts().values()) - before
            return Row(name, requests, pass_writes[0], math.ceil(operations / 25), naive, cpu,
                       statements[0] - db_before, peak)  # fmt: skip

        pass_writes = [0]

        def sync(**options: Any) -> None:
            report = run_pass(host.db, directory, api, app_id=DEFAULT_APP_ID, now=host.clock.now(),
                              options=PassOptions(**options))  # fmt: skip
            # Requests that change Sferum: each createChat, and the execute batches of adds and removes.
            pass_writes[0] = report.created + math.ceil((report.added + report.removed) / 25)

        rows = [measure("(a) create all chats", chats + members, chats + members, sync)]
        # (b) churn: expel some, enrol as many (linked) into random groups
        students = [p for p in directory.persons if p.kind == PersonKind.STUDENT]
        expelled = rng.sample(students, args.churn)
        index = {(p.kind, p.id): i for i, p in enumerate(directory.persons)}
        for p in expelled:
            directory.persons[index[(p.kind, p.id)]] = attrs.evolve(p, status=PersonStatus.EXPELLED)
        links.clear()
        enrolled = [person(PersonKind.STUDENT, group_id=rng.randint(1, args.groups)) for _ in range(args.churn)]
        with host.db.session() as session:
            session.execute(insert(ProfileLink), links)
            enqueue(session, [f"student:{p.id}" for p in [*expelled, *enrolled]], host.clock.now())
        rows.append(measure("(b) 1% churn", 2 * args.churn, 2 * args.churn, sync))
        with host.db.session() as session:
            enqueue(session, ["all"], host.clock.now())
        rows.append(measure("(c) no changes", 0, 0, sync))
        # (d) drift: members removed in Sferum behind our back, then a full verification
        drifted = 0
        for chat in box.state()["chats"][: args.drift]:
            victim = next(m["member_id"] for m in chat["members"] if m["member_id"] != chat["owner_id"])
            box.remove_chat_member(chat["chat_id"], victim)
            drifted += 1
        rows.append(measure("(d) full drift verification", chats + drifted, chats + drifted,
                            lambda: sync(full=True)))  # fmt: skip
        started = time.process_time()
        with host.db.session() as session:
            pks = list(session.scalars(select(SferumChat.id)))
            make_plan(session, directory, app_id=DEFAULT_APP_ID, chat_pks=pks, org_user_id=box.org_user_id,
                      strict=False, now=host.clock.now())  # fmt: skip
        planning = time.process_time() - started
        engine.dispose()
    return rows, planning


if __name__ == "__main__":
    sys.exit(main())
