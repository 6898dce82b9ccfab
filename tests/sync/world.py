"""A small university for sync tests: people in the host's records, their Sferum profiles, chats, passes."""

from __future__ import annotations

import itertools
from typing import Any

import attrs
from sferum_sandbox import Sandbox
from sqlalchemy import delete, select

from hookspecs.types import Person, PersonKind, PersonStatus, Viewer
from sferum_plugin.account import Account
from sferum_plugin.gateway import SferumClient
from sferum_plugin.models import ProfileEvent, ProfileLink, SferumChat
from sferum_plugin.services import chats
from sferum_plugin.services.sync import PassOptions, PassReport, enqueue, make_plan, run_pass
from tests.plugin.fakes import FakeHost

ADMIN = Viewer(user_id=1, username="admin", full_name="Администратор", roles=frozenset({"admin"}))


class Records:
    """The host's records and the profile links of a small university, whichever platform its chats are on.

    A world says whose rows it writes (``account``) and where its people's profiles live (``box.add_user``).
    """

    host: FakeHost
    box: Any
    sferum_of: dict[int, int]  # LMS user id → the platform's user id (profiles that exist)
    _ids: itertools.count[int]

    @property
    def account(self) -> Account:
        raise NotImplementedError

    def person(self, kind: PersonKind, *, group_id: int | None = None, unit_id: int | None = None,
               linked: bool = True, **profile: object) -> Person:  # fmt: skip
        """A person of the host's records with a profile on the platform (``profile``: the sandbox's options for
        it), linked to their LMS account unless ``linked`` is false."""
        pid = next(self._ids)
        person = Person(id=pid, kind=kind, user_id=pid, full_name=f"Person {pid}", group_id=group_id, unit_id=unit_id)
        self.host.directory.persons.append(person)
        self.sferum_of[pid] = self.box.add_user("P", str(pid), **profile)
        if linked:
            self.link(pid)
        return person

    def replace(self, person: Person, **changes: object) -> Person:
        persons = self.host.directory.persons
        index = next(i for i, p in enumerate(persons) if p.id == person.id and p.kind == person.kind)
        persons[index] = attrs.evolve(persons[index], **changes)
        return persons[index]

    def set_status(self, person: Person, status: PersonStatus) -> Person:
        return self.replace(person, status=status)

    def link(self, user_id: int) -> None:
        now = self.host.clock.now()
        with self.host.db.session() as session:
            sferum_id = self.sferum_of[user_id]
            session.add(ProfileLink(**self.account.columns(), user_id=user_id, sferum_user_id=sferum_id, linked_at=now))
            session.add(ProfileEvent(kind="linked", user_id=user_id, sferum_user_id=sferum_id, created_at=now))

    def unlink(self, user_id: int) -> None:
        now = self.host.clock.now()
        with self.host.db.session() as session:
            session.execute(delete(ProfileLink).where(ProfileLink.user_id == user_id))
            session.add(ProfileEvent(kind="unlinked", user_id=user_id, sferum_user_id=self.sferum_of[user_id],
                                     created_at=now))  # fmt: skip

    def group(self, group_id: int, title: str | None = None, staff: tuple[int, ...] = ()) -> None:
        self.host.directory.group_titles[group_id] = title or f"Группа {group_id}"
        self.host.directory.staff[group_id] = list(staff)

    def unit(self, unit_id: int, title: str | None = None) -> None:
        self.host.directory.unit_titles[unit_id] = title or f"Подразделение {unit_id}"

    def notify(self, *scopes: str) -> None:
        with self.host.db.session() as session:
            enqueue(session, scopes, self.host.clock.now())


@attrs.define
class World(Records):
    host: FakeHost
    box: Sandbox
    api: SferumClient
    app_id: int
    sferum_of: dict[int, int] = attrs.field(factory=dict)  # LMS user id → Sferum id (profiles that exist)
    _ids: itertools.count[int] = attrs.field(factory=lambda: itertools.count(100))

    @property
    def account(self) -> Account:
        """Whose rows the world's chats and links are."""
        return Account("vk", self.app_id)

    # -- chats and passes -----------------------------------------------------------------------------------

    def request(self, kind: str, target_id: int | None, title: str = "Чат", members: tuple[int, ...] = ()) -> int:
        made = chats.request_chat(self.host, ADMIN, account=self.account, kind=kind, target_id=target_id, title=title,
                                  member_user_ids=members)  # fmt: skip
        return made.chat_pk

    def sync(self, *, full: bool = False, **options: object) -> PassReport:
        opts = PassOptions(full=full, **options)  # type: ignore[arg-type]
        return run_pass(self.host.db, self.host.directory, self.api, account=self.account, now=self.host.clock.now(),
                        options=opts)  # fmt: skip

    def chat(self, chat_pk: int) -> SferumChat:
        with self.host.db.session() as session:
            chat = session.get(SferumChat, chat_pk)
            assert chat is not None
            session.expunge(chat)
            return chat

    def chat_pks(self) -> list[int]:
        with self.host.db.session() as session:
            return list(session.scalars(select(SferumChat.id).order_by(SferumChat.id)))

    def sferum_members(self, chat_pk: int) -> set[int]:
        chat_id = self.chat(chat_pk).chat_id
        found = [c for c in self.box.state()["chats"] if c["chat_id"] == chat_id]
        assert len(found) == 1, f"chat row {chat_pk} (Sferum {chat_id}) not found exactly once"
        return {member["member_id"] for member in found[0]["members"]}

    def desired(self, chat_pk: int) -> set[int]:
        with self.host.db.session() as session:
            plan = make_plan(session, self.host.directory, account=self.account, chat_pks=[chat_pk],
                             org_user_id=self.box.org_user_id, strict=False, now=self.host.clock.now())  # fmt: skip
        return set(plan.chats[chat_pk].desired.members)
