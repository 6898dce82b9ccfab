"""A small university whose chats live in MAX: the host's records, MAX profiles in the MAX sandbox (served over real
HTTP), chats seeded in the sandbox as if a person had tapped the bot's chat button, and passes of the sync."""

from __future__ import annotations

import collections
import itertools
from collections.abc import Iterator
from contextlib import contextmanager

import attrs
import httpx
import tenacity
from sferum_sandbox.max import DEFAULT_BOT_TOKEN, MaxSandbox, RunningMaxSandbox
from sqlalchemy import select

from hookspecs.types import Person, PersonKind
from sferum_plugin.account import MAX_SPACE, Account
from sferum_plugin.gateway import RetryPolicy
from sferum_plugin.gateway.max import MaxClient, MaxConfig
from sferum_plugin.models import ProfileLink, SferumChat, SferumChatListedMember
from sferum_plugin.services.sync import PassOptions, PassReport, enqueue, make_plan, run_pass
from sferum_plugin.services.sync.max_membership import BotApi, MaxMembership
from tests.plugin.fakes import FakeHost
from tests.sync.world import Records

ACCOUNT = Account("max", MAX_SPACE)
CREDENTIAL = "bot-token-key-1"


def max_client(url: str, http: httpx.Client, token: str = DEFAULT_BOT_TOKEN) -> MaxClient:
    """A client of the bot with no pacing and zero retry waits (3 attempts, as a transient fault needs)."""
    config = MaxConfig(base_url=url, requests_per_second=10_000.0, burst=1_000_000)
    retry = RetryPolicy(max_attempts=3, wait=tenacity.wait_none(), sleep=lambda _: None)
    return MaxClient(config, token, http=http, retry=retry)


@contextmanager
def bot_connection(running: RunningMaxSandbox, token: str = DEFAULT_BOT_TOKEN) -> Iterator[MaxClient]:
    with httpx.Client(timeout=10.0) as http:
        yield max_client(running.url, http, token)


@attrs.define
class MaxWorld(Records):
    host: FakeHost
    box: MaxSandbox
    client: BotApi
    credential: str = CREDENTIAL
    sferum_of: dict[int, int] = attrs.field(factory=dict)  # LMS user id → MAX user id
    owner: int = 0
    """The MAX user who tapped the chat buttons: each chat's owner, with no LMS account (never managed)."""
    _ids: itertools.count[int] = attrs.field(factory=lambda: itertools.count(100))
    _markers: itertools.count[int] = attrs.field(factory=lambda: itertools.count(1))

    def __attrs_post_init__(self) -> None:
        if not self.owner:
            self.owner = self.box.add_user("Куратор", "Чатов")

    @property
    def account(self) -> Account:
        return ACCOUNT

    @property
    def membership(self) -> MaxMembership:
        return MaxMembership(self.client, credential=self.credential)

    # -- the host's records ---------------------------------------------------------------------------------

    def students(self, count: int, group_id: int) -> list[Person]:
        """``count`` linked students of the group, their links written in one transaction."""
        people = [self.person(PersonKind.STUDENT, group_id=group_id, linked=False) for _ in range(count)]
        with self.host.db.session() as session:
            session.add_all(
                ProfileLink(**ACCOUNT.columns(), user_id=p.id, sferum_user_id=self.sferum_of[p.id],
                            linked_at=self.host.clock.now())
                for p in people
            )  # fmt: skip
        return people

    # -- chats and passes -----------------------------------------------------------------------------------

    def chat(self, kind: str, target_id: int | None, *, title: str = "Чат", listed: tuple[int, ...] = (),
             members: tuple[int, ...] = (), state: str = "active", verify: bool = True) -> int:  # fmt: skip
        """A chat row of MAX's account; ``active`` ones have a chat in the sandbox (owned by :attr:`owner`, the bot
        its administrator, ``members`` already in it), as after the owner's tap, and a sync of it queued.  ``verify``:
        the first pass reads its member list (as after ``message_chat_created``)."""
        chat_id = None
        if state == "active":
            chat_id = self.box.seed_chat(title, owner_id=self.owner, member_ids=members)
        with self.host.db.session() as session:
            row = SferumChat(**ACCOUNT.columns(), kind=kind, target_id=target_id, title=title,
                             marker=f"m{next(self._markers)}", state=state, chat_id=chat_id, created_by=1,
                             created_at=self.host.clock.now(), needs_verify=verify)  # fmt: skip
            session.add(row)
            session.flush()
            session.add_all(SferumChatListedMember(chat_pk=row.id, user_id=user_id) for user_id in listed)
            enqueue(session, [f"chat:{row.id}"], self.host.clock.now())  # as message_chat_created does
            return row.id

    def sync(self, *, full: bool = False, api: BotApi | None = None, **options: object) -> PassReport:
        membership = MaxMembership(api or self.client, credential=self.credential)
        opts = PassOptions(full=full, **options)  # type: ignore[arg-type]
        return run_pass(self.host.db, self.host.directory, membership, account=ACCOUNT, now=self.host.clock.now(),
                        options=opts)  # fmt: skip

    def row(self, chat_pk: int) -> SferumChat:
        with self.host.db.session() as session:
            chat = session.get(SferumChat, chat_pk)
            assert chat is not None
            session.expunge(chat)
            return chat

    def chat_pks(self) -> list[int]:
        with self.host.db.session() as session:
            return list(session.scalars(select(SferumChat.id).order_by(SferumChat.id)))

    def max_members(self, chat_pk: int) -> set[int]:
        chat_id = self.row(chat_pk).chat_id
        assert chat_id is not None
        return set(self.box.chat_member_ids(chat_id))

    def desired(self, chat_pk: int) -> set[int]:
        with self.host.db.session() as session:
            plan = make_plan(session, self.host.directory, account=ACCOUNT, chat_pks=[chat_pk],
                             org_user_id=self.box.bot_user_id, strict=False, now=self.host.clock.now())  # fmt: skip
        return set(plan.chats[chat_pk].desired.members)

    def ids(self, people: list[Person]) -> set[int]:
        return {self.sferum_of[p.id] for p in people}


class Counted:
    """The sandbox's request counters before and after a step: ``counted.grown()`` is what the step asked."""

    def __init__(self, box: MaxSandbox) -> None:
        self.box = box
        self.before = collections.Counter(box.request_counts())

    def grown(self) -> dict[str, int]:
        after = collections.Counter(self.box.request_counts())
        after.subtract(self.before)
        return {key: value for key, value in after.items() if value}
