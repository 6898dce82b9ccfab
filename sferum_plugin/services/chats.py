"""Sferum chats as the LMS offers them: who may create which chat, title rules, creation, and the chat list.

Three kinds (issue 5): a study-group chat, a structural-unit chat, and a custom chat with listed accounts.  At most
one chat per group and per unit: asking again returns the existing one.  A chat row is recorded first (state
``creating``) and created in Sferum by :func:`create_now` or by the sync worker, which never duplicates it (see
:mod:`sferum_plugin.services.sync.creation`).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime

import attrs
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hookspecs.services import Host
from hookspecs.types import ChatSummary, PersonKind, Viewer
from sferum_plugin import MODULE_NAME
from sferum_plugin.i18n import N_
from sferum_plugin.models import SferumChat, SferumChatListedMember, SferumChatMember, SferumSyncOperation
from sferum_plugin.permissions import CHATS_CREATE_CUSTOM, CHATS_CREATE_GROUP, CHATS_CREATE_UNIT, CHATS_MANAGE
from sferum_plugin.services.sync.api import ChatsApi
from sferum_plugin.services.sync.queue import enqueue
from sferum_plugin.services.sync.worker import PassOptions, PassReport, run_pass

__all__ = [
    "TITLE_MAX",
    "ChatRefused",
    "ChatRequest",
    "can_create",
    "chat_url",
    "create_now",
    "recreate",
    "request_chat",
    "request_group_chats",
    "validate_title",
    "viewer_chats",
]

TITLE_MAX = 100
"""Longest title a user may choose; the marker (at most 12 characters) is added after it in Sferum."""

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")


class ChatRefused(Exception):
    """A chat cannot be created; ``reason`` is a Russian source string marked for translation."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


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


def _existing(session: Session, app_id: int, kind: str, target_id: int | None) -> SferumChat | None:
    if kind == "custom":
        return None
    return session.scalar(
        select(SferumChat).where(
            SferumChat.app_id == app_id, SferumChat.kind == kind, SferumChat.target_id == target_id
        )
    )


def request_chat(
    host: Host,
    viewer: Viewer,
    *,
    app_id: int,
    kind: str,
    target_id: int | None,
    title: str,
    member_user_ids: Iterable[int] = (),
) -> ChatRequest:
    """Record a chat to create (or return the group's or unit's existing one).

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
    now = host.clock.now()
    with host.db.session() as session:
        found = _existing(session, app_id, kind, target_id)
        if found is not None:
            return ChatRequest(found.id, existed=True)
    try:
        with host.db.session() as session:
            chat = SferumChat(app_id=app_id, kind=kind, target_id=target_id if kind != "custom" else None,
                              title=clean, marker=_marker(kind, target_id), state="creating",
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
            found = _existing(session, app_id, kind, target_id)
            assert found is not None
            return ChatRequest(found.id, existed=True)


def request_group_chats(host: Host, viewer: Viewer, *, app_id: int, group_ids: Sequence[int]) -> list[ChatRequest]:
    """Record chats for many groups at once (titles are the groups' names); the worker creates them."""
    titles = host.directory.groups(group_ids)
    requests = [
        request_chat(host, viewer, app_id=app_id, kind="group", target_id=gid, title=titles[gid][:TITLE_MAX])
        for gid in group_ids
        if gid in titles
    ]
    with host.db.session() as session:
        enqueue(session, [f"chat:{r.chat_pk}" for r in requests if not r.existed], host.clock.now())
    return requests


def create_now(host: Host, api: ChatsApi, chat_pk: int, *, app_id: int) -> PassReport:
    """Create the chat in Sferum now (a pass limited to it, holding its lease), and sync its members."""
    return run_pass(host.db, host.directory, api, app_id=app_id, now=host.clock.now(),
                    options=PassOptions(chat_pks=(chat_pk,)))  # fmt: skip


def recreate(host: Host, chat_pk: int, now: datetime) -> bool:
    """Mark a vanished (or failed) chat for creation again; returns whether it was in such a state."""
    with host.db.session() as session:
        chat = session.get(SferumChat, chat_pk)
        if chat is None or chat.state not in ("vanished", "failed"):
            return False
        chat.state, chat.chat_id, chat.error, chat.invite_link = "creating", None, None, None
        session.execute(delete(SferumChatMember).where(SferumChatMember.chat_pk == chat_pk))
        session.execute(
            update(SferumSyncOperation)
            .where(SferumSyncOperation.chat_pk == chat_pk, SferumSyncOperation.state.in_(("pending", "failed")))
            .values(state="obsolete", updated_at=now)
        )
        enqueue(session, [f"chat:{chat_pk}"], now)
    return True


def chat_url(host: Host, chat_pk: int) -> str:
    """Where «Открыть в Сферум» leads: the module's own address for the chat, which checks the viewer and redirects
    to the chat's invite link (:mod:`sferum_plugin.services.chat_links`); the link itself is never on a page."""
    return host.urls.for_route(MODULE_NAME, "chat_open", chat_pk=chat_pk)


def viewer_chats(host: Host, viewer: Viewer, *, app_id: int) -> list[ChatSummary]:
    """The viewer's Sferum chats: those Sferum (as last known) lists the viewer's linked profile in."""
    from sferum_plugin.services.profiles import links_by_user

    with host.db.session() as session:
        link = links_by_user(session, app_id=app_id, user_ids=[viewer.user_id]).get(viewer.user_id)
        if link is None:
            return []
        member_of = select(SferumChatMember.chat_pk).where(SferumChatMember.sferum_user_id == link.sferum_user_id)
        chats = session.scalars(
            select(SferumChat)
            .where(SferumChat.app_id == app_id, SferumChat.state == "active", SferumChat.id.in_(member_of))
            .order_by(SferumChat.title)
        ).all()
        return [
            ChatSummary(id=str(chat.chat_id), title=chat.title, kind=chat.kind, url=chat_url(host, chat.id),
                        open_label="Открыть в Сферум")
            for chat in chats
        ]  # fmt: skip
