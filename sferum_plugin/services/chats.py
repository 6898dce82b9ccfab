"""Sferum chats as the LMS offers them: who may create which chat, title rules, creation, and the chat list.

Three kinds (issue 5): a study-group chat, a structural-unit chat, and a custom chat with listed accounts.  At most
one chat per group and per unit: asking again returns the existing one.  A chat row is recorded first (state
``creating``) and created in Sferum by :func:`create_now` or by the sync worker, which never duplicates it (see
:mod:`sferum_plugin.services.sync.creation`).
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import attrs
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hookspecs.services import Database, Host
from hookspecs.types import ChatSummary, PersonKind, Viewer
from sferum_plugin import MODULE_NAME
from sferum_plugin.account import Account
from sferum_plugin.gateway.errors import ChatNotFoundError, SferumError
from sferum_plugin.i18n import N_
from sferum_plugin.models import SferumChat, SferumChatListedMember, SferumChatMember, SferumSyncOperation
from sferum_plugin.permissions import CHATS_CREATE_CUSTOM, CHATS_CREATE_GROUP, CHATS_CREATE_UNIT, CHATS_MANAGE
from sferum_plugin.services.sync.api import ChatsApi
from sferum_plugin.services.sync.queue import enqueue
from sferum_plugin.services.sync.worker import PassOptions, PassReport, run_pass
from sferum_plugin.settings import SferumSettings

if TYPE_CHECKING:
    from sferum_plugin.services.connection import SferumAccess

__all__ = [
    "CUSTOM_MEMBERS_MAX",
    "TITLE_MAX",
    "ChatAsk",
    "ChatRefused",
    "ChatRequest",
    "ChatUnavailable",
    "can_create",
    "chat_url",
    "create_now",
    "find_chat",
    "forget_members",
    "group_chat_states",
    "may_create_group_chats",
    "recreate",
    "request_chat",
    "request_group_chats",
    "validate_title",
    "viewer_chats",
    "vk_chat_link",
    "vk_request_chat",
    "vk_request_group_chats",
]

logger = logging.getLogger(__name__)

TITLE_MAX = 100
CUSTOM_MEMBERS_MAX = 500
"""People one may choose for a custom chat (a chat for a whole group or unit is made as such)."""
"""Longest title a user may choose; the marker (at most 12 characters) is added after it in Sferum."""

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")


class ChatRefused(Exception):
    """A chat cannot be created; ``reason`` is a Russian source string marked for translation."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ChatUnavailable(Exception):
    """A chat cannot be opened: it is gone, or the module's bot is no longer in it; ``reason`` is a Russian source
    string marked for translation."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@attrs.frozen
class ChatAsk:
    """What a person asks for on «Создать чат в Сферум»: the kind, the group or unit, the title, the listed people."""

    kind: str
    target_id: int | None
    title: str
    member_user_ids: tuple[int, ...] = ()


@attrs.frozen
class ChatRequest:
    """The outcome of asking for a chat: its row id and whether it existed already."""

    chat_pk: int
    existed: bool


def validate_title(title: str) -> str:
    """Return the trimmed title, or raise :class:`ChatRefused` (empty, too long, control characters)."""
    if _CONTROL.search(title):
        raise ChatRefused(N_("Название чата не должно содержать управляющих символов и переводов строк."))
    cleaned = " ".join(title.split())
    if not cleaned:
        raise ChatRefused(N_("Укажите название чата."))
    if len(cleaned) > TITLE_MAX:
        raise ChatRefused(N_("Название чата не должно быть длиннее 100 символов."))
    return cleaned


def can_create(host: Host, viewer: Viewer, kind: str, target_id: int | None) -> bool:
    """Whether ``viewer`` may create a chat of ``kind`` for ``target_id`` (object-level rights)."""
    if viewer.can(CHATS_MANAGE):
        return True
    if kind == "custom":
        return viewer.can(CHATS_CREATE_CUSTOM)
    if target_id is None or viewer.employee_id is None:
        return False
    if kind == "group" and viewer.can(CHATS_CREATE_GROUP):
        staff = host.directory.group_staff([target_id]).get(target_id, ())
        return any(person.id == viewer.employee_id for person in staff)
    if kind == "unit" and viewer.can(CHATS_CREATE_UNIT):
        me = host.directory.people(PersonKind.EMPLOYEE, [viewer.employee_id]).get(viewer.employee_id)
        return me is not None and me.active and me.unit_id == target_id
    return False


def _marker(kind: str, target_id: int | None) -> str:
    if kind == "group":
        return f"g{target_id}"
    if kind == "unit":
        return f"u{target_id}"
    return f"c{secrets.token_hex(4)}"


def _existing(session: Session, account: Account, kind: str, target_id: int | None) -> SferumChat | None:
    if kind == "custom":
        return None
    return session.scalar(
        select(SferumChat).where(*account.owns(SferumChat), SferumChat.kind == kind, SferumChat.target_id == target_id)
    )


def request_chat(
    host: Host,
    viewer: Viewer,
    *,
    account: Account,
    kind: str,
    target_id: int | None,
    title: str,
    member_user_ids: Iterable[int] = (),
    state: str = "creating",
    marker: str | None = None,
    refuse_new: str | None = None,
) -> ChatRequest:
    """Record a chat to create (or return the group's or unit's existing one).

    :param state: the new row's state: ``creating`` (the sync creates it) or ``awaiting`` (MAX: created when the
        person taps the chat button the bot sends them).
    :param marker: the row's marker; by default a short tag of the group or unit (VK puts it in the title).
    :param refuse_new: a reason (a source string) to refuse recording a new chat; the group's or unit's existing
        one is still returned.
    :raises ChatRefused: no right, bad title, unknown group or unit.
    """
    if kind not in ("group", "unit", "custom"):
        raise ChatRefused(N_("Неизвестный вид чата."))
    if not can_create(host, viewer, kind, target_id):
        raise ChatRefused(N_("Недостаточно прав для создания этого чата."))
    clean = validate_title(title)
    if kind == "group" and target_id not in host.directory.groups([target_id] if target_id else []):
        raise ChatRefused(N_("Учебная группа не найдена."))
    if kind == "unit" and target_id not in host.directory.units([target_id] if target_id else []):
        raise ChatRefused(N_("Структурное подразделение не найдено."))
    if kind == "custom":
        _check_members(host, sorted(set(member_user_ids) - {viewer.user_id}))
    now = host.clock.now()
    with host.db.session() as session:
        found = _existing(session, account, kind, target_id)
        if found is not None:
            return ChatRequest(found.id, existed=True)
    if refuse_new is not None:
        raise ChatRefused(refuse_new)
    try:
        with host.db.session() as session:
            chat = SferumChat(**account.columns(), kind=kind, target_id=target_id if kind != "custom" else None,
                              title=clean, marker=marker or _marker(kind, target_id), state=state,
                              created_by=viewer.user_id, created_at=now, needs_verify=False)  # fmt: skip
            session.add(chat)
            session.flush()
            if kind == "custom":
                members = sorted(set(member_user_ids) | {viewer.user_id})
                session.add_all(SferumChatListedMember(chat_pk=chat.id, user_id=u) for u in members)
            return ChatRequest(chat.id, existed=False)
    except IntegrityError:
        # Two requests for the same group at once: the unique constraint let one win; return that one.
        with host.db.session() as session:
            found = _existing(session, account, kind, target_id)
            assert found is not None
            return ChatRequest(found.id, existed=True)


def _check_members(host: Host, chosen: Sequence[int]) -> None:
    """Refuse a custom chat's chosen people unless they are at most 500 of those the picker offers: accounts with an
    active student or employee record (a crafted form cannot add someone unknown, expelled or dismissed)."""
    if len(chosen) > CUSTOM_MEMBERS_MAX:
        raise ChatRefused(N_("В чат можно выбрать не больше 500 участников."))
    if chosen:
        records = host.directory.people_by_user(chosen)
        if any(not any(p.active for p in records.get(user_id, ())) for user_id in chosen):
            raise ChatRefused(N_("Некоторых выбранных пользователей нет среди обучающихся и сотрудников."))


def may_create_group_chats(host: Host, viewer: Viewer, group_ids: Sequence[int]) -> bool:
    """:func:`can_create` for many group chats, with one directory call."""
    if viewer.can(CHATS_MANAGE):
        return True
    if viewer.employee_id is None or not viewer.can(CHATS_CREATE_GROUP):
        return False
    staff = host.directory.group_staff(group_ids)
    return all(any(person.id == viewer.employee_id for person in staff.get(gid, ())) for gid in group_ids)


def _group_chat_pks(session: Session, account: Account, group_ids: Sequence[int]) -> dict[int, int]:
    """Group id → row id of the group's chat, for those of ``group_ids`` that have one."""
    rows = session.execute(
        select(SferumChat.target_id, SferumChat.id).where(
            *account.owns(SferumChat), SferumChat.kind == "group", SferumChat.target_id.in_(group_ids)
        )
    ).all()
    return {target_id: pk for target_id, pk in rows if target_id is not None}


def request_group_chats(
    host: Host,
    viewer: Viewer,
    *,
    account: Account,
    group_ids: Sequence[int],
    awaiting: Callable[[], str] | None = None,
) -> list[ChatRequest]:
    """Record chats for many groups at once (titles are the groups' names); the worker creates them.

    ``awaiting`` (MAX): the new rows are recorded ``awaiting`` a tap on a chat button, each with a marker it makes,
    and no sync is queued for them (they have no chat yet).

    The rules of :func:`request_chat`, checked for every group before anything is written: unknown groups are
    skipped, a group that has a chat gets its existing one back (never a second), and a missing right or an invalid
    title refuses the whole request.  A fixed number of statements however many groups: the directory, one
    ``SELECT`` of the existing rows, one executemany ``INSERT`` of the missing ones, one ``SELECT`` of their ids and
    the queue's ``INSERT``.

    :raises ChatRefused: the viewer may not create one of the chats, or a group's title is not a valid chat title.
    """
    titles = host.directory.groups(group_ids)
    wanted = [gid for gid in dict.fromkeys(group_ids) if gid in titles]
    if not wanted:
        return []
    if not may_create_group_chats(host, viewer, wanted):
        raise ChatRefused(N_("Недостаточно прав для создания этого чата."))
    clean = {gid: validate_title(titles[gid][:TITLE_MAX]) for gid in wanted}
    now = host.clock.now()
    try:
        with host.db.session() as session:
            existing = _group_chat_pks(session, account, wanted)
            missing = [gid for gid in wanted if gid not in existing]
            created: dict[int, int] = {}
            if missing:
                rows = [
                    {**account.columns(), "kind": "group", "target_id": gid, "title": clean[gid],
                     "marker": awaiting() if awaiting else _marker("group", gid),
                     "state": "awaiting" if awaiting else "creating", "created_by": viewer.user_id,
                     "created_at": now, "needs_verify": False}
                    for gid in missing
                ]  # fmt: skip
                session.execute(insert(SferumChat), rows)
                created = _group_chat_pks(session, account, missing)
                enqueue(session, [] if awaiting else [f"chat:{created[gid]}" for gid in missing], now)
    except IntegrityError:
        # Someone recorded one of these chats meanwhile, so the whole INSERT was rolled back: go one group at a
        # time, which returns the winner's row where the unique constraint fires.
        requests = [
            request_chat(host, viewer, account=account, kind="group", target_id=gid, title=clean[gid],
                         state="awaiting" if awaiting else "creating", marker=awaiting() if awaiting else None)
            for gid in wanted
        ]  # fmt: skip
        with host.db.session() as session:
            enqueue(session, [] if awaiting else [f"chat:{r.chat_pk}" for r in requests if not r.existed], now)
        return requests
    return [
        ChatRequest(existing[gid], existed=True) if gid in existing else ChatRequest(created[gid], existed=False)
        for gid in wanted
    ]


def create_now(host: Host, api: ChatsApi, chat_pk: int, *, account: Account) -> PassReport:
    """Create the chat in Sferum now (a pass limited to it, holding its lease), and sync its members."""
    return run_pass(host.db, host.directory, api, account=account, now=host.clock.now(),
                    options=PassOptions(chat_pks=(chat_pk,)))  # fmt: skip


def recreate(host: Host, chat_pk: int, now: datetime) -> bool:
    """Mark a vanished (or failed) chat for creation again; returns whether it was in such a state."""
    with host.db.session() as session:
        chat = session.get(SferumChat, chat_pk)
        if chat is None or chat.state not in ("vanished", "failed"):
            return False
        chat.state, chat.chat_id, chat.error, chat.invite_link = "creating", None, None, None
        forget_members(session, chat_pk, now)
        enqueue(session, [f"chat:{chat_pk}"], now)
    return True


def forget_members(session: Session, chat_pk: int, now: datetime) -> None:
    """Drop what is known of the chat's members and its pending operations: the row is about to stand for another
    chat (created again, or linked to an existing one)."""
    session.execute(delete(SferumChatMember).where(SferumChatMember.chat_pk == chat_pk))
    session.execute(
        update(SferumSyncOperation)
        .where(SferumSyncOperation.chat_pk == chat_pk, SferumSyncOperation.state.in_(("pending", "failed")))
        .values(state="obsolete", updated_at=now)
    )


def chat_url(host: Host, chat_pk: int) -> str:
    """Where «Открыть в Сферум» leads: the module's own address for the chat, which checks the viewer and redirects
    to the chat's invite link (:mod:`sferum_plugin.services.chat_links`); the link itself is never on a page."""
    return host.urls.for_route(MODULE_NAME, "chat_open", chat_pk=chat_pk)


def viewer_chats(host: Host, viewer: Viewer, *, account: Account) -> list[ChatSummary]:
    """The viewer's Sferum chats: those Sferum (as last known) lists the viewer's linked profile in, with their
    member counts (as last known)."""
    from sferum_plugin.services.profiles import links_by_user

    with host.db.session() as session:
        link = links_by_user(session, account=account, user_ids=[viewer.user_id]).get(viewer.user_id)
        if link is None:
            return []
        member_of = select(SferumChatMember.chat_pk).where(SferumChatMember.sferum_user_id == link.sferum_user_id)
        counts = (
            select(SferumChatMember.chat_pk, func.count().label("members"))
            .where(SferumChatMember.chat_pk.in_(member_of))
            .group_by(SferumChatMember.chat_pk)
            .subquery()
        )
        rows = session.execute(
            select(SferumChat, counts.c.members)
            .join(counts, counts.c.chat_pk == SferumChat.id)
            .where(*account.owns(SferumChat), SferumChat.state == "active")
            .order_by(SferumChat.title)
        ).all()
        return [
            ChatSummary(id=str(chat.chat_id), title=chat.title, kind=chat.kind, url=chat_url(host, chat.id),
                        open_label="Открыть в Сферум", members=members)
            for chat, members in rows
        ]  # fmt: skip


def find_chat(db: Database, chat_pk: int, *, account: Account) -> SferumChat | None:
    """The chat record ``chat_pk`` of the organisation ``account`` (detached, for reading), or ``None``."""
    with db.session() as session:
        chat = session.get(SferumChat, chat_pk)
        if chat is None or not account.holds(chat):
            return None
        session.expunge(chat)
        return chat


def group_chat_states(db: Database, *, account: Account, group_ids: Collection[int]) -> dict[int, tuple[str, str]]:
    """The state and last error of the chat of each of ``group_ids`` that has one, in one query."""
    with db.session() as session:
        rows = session.execute(
            select(SferumChat.target_id, SferumChat.state, SferumChat.error).where(
                *account.owns(SferumChat), SferumChat.kind == "group"
            )
        ).all()
    return {row.target_id: (row.state, row.error) for row in rows if row.target_id in group_ids}


# -- VK Messenger's side of the chat port (services/platforms.py): the chat is created through the sync pass ------


def _vk_settings(host: Host) -> SferumSettings:
    settings = SferumSettings.from_stored(host.settings.get(MODULE_NAME))
    if settings is None:
        raise ChatRefused(N_("Модуль ещё не настроен: обратитесь к администратору."))
    return settings


def vk_request_chat(host: Host, sferum: SferumAccess, viewer: Viewer, ask: ChatAsk) -> ChatRequest:
    """Record the chat and create it in Sferum now (the worker retries a failure; the chat's page says its state)."""
    settings = _vk_settings(host)
    made = request_chat(host, viewer, account=settings.account, kind=ask.kind, target_id=ask.target_id,
                        title=ask.title, member_user_ids=ask.member_user_ids)  # fmt: skip
    if not made.existed:
        try:
            with sferum.organisation(settings) as client:
                create_now(host, client, made.chat_pk, account=settings.account)
        except SferumError as failure:  # the worker retries; the page says what state the chat is in
            logger.warning("creating chat row %s: %s", made.chat_pk, failure)
    return made


def vk_chat_link(host: Host, sferum: SferumAccess, chat_pk: int) -> str:
    """The chat's invite link (:func:`sferum_plugin.services.chat_links.invite_link`).

    :raises ChatUnavailable: the chat is gone from Sferum.
    """
    from sferum_plugin.services import chat_links

    settings = _vk_settings(host)
    try:
        with sferum.organisation(settings) as client:
            return chat_links.invite_link(host.db, client, chat_pk, app_token=settings.app_token)
    except ChatNotFoundError:
        raise ChatUnavailable(N_("Чат удалён в Сферуме.")) from None


def vk_request_group_chats(host: Host, viewer: Viewer, group_ids: Sequence[int]) -> list[ChatRequest]:
    """:func:`request_group_chats` for the VK application's account (the worker creates the chats)."""
    return request_group_chats(host, viewer, account=_vk_settings(host).account, group_ids=group_ids)
