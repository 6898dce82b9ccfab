"""Creating a chat in Sferum exactly once, even when ``messages.createChat`` ends with an unknown outcome.

Every chat carries a unique *marker* at the end of its Sferum title, in brackets (``"ИВТ-21 [g17]"``: ``g`` for a
study group and its id, ``u`` for a unit, ``c`` and a random tag for a custom chat).  A visible tag was chosen
over an invisible one (zero-width characters) because ``messages.searchConversations`` matches visible text and
people renaming the chat see, and tend to keep, the tag.  States of a chat row:

``creating`` → createChat → ``active`` (the chat and its initial members are recorded);
createChat's outcome unknown → ``unknown`` → search by marker: found → ``active`` (adopted, its member list is
verified next), not found → ``creating`` again; Sferum refused → ``failed``; a quota error leaves the row as it
is and pauses the service.  The caller holds the chat's lease, so no other worker creates it meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Set
from datetime import datetime

import attrs
from sqlalchemy import delete, insert

from hookspecs.services import Database
from sferum_plugin.gateway.domain import ChatInfo
from sferum_plugin.gateway.errors import OutcomeUnknownError, QuotaExceededError, SferumError
from sferum_plugin.models import SferumChat, SferumChatMember, SferumSyncOperation
from sferum_plugin.services.sync.api import ChatsApi
from sferum_plugin.services.sync.reasons import Verdict, reason_of, verdict_of

__all__ = ["CREATE_MEMBERS_MAX", "Realized", "find_by_marker", "realize_chat", "sferum_title"]

logger = logging.getLogger(__name__)

CREATE_MEMBERS_MAX = 200
"""Members passed to createChat at once; the rest are added by the sync pass.  Assumption: the schema sets no
limit on ``user_ids``; a modest one keeps the form body small."""


def sferum_title(title: str, marker: str) -> str:
    """The chat's title in Sferum: the title the user chose and the marker."""
    return f"{title} [{marker}]"


@attrs.frozen
class Realized:
    """What became of one chat: its state now, how many requests it took, and a quota error if one stopped it."""

    state: str
    requests: int
    created: bool = False
    quota: QuotaExceededError | None = None


def find_by_marker(api: ChatsApi, marker: str) -> ChatInfo | None:
    """The organisation's chat whose title ends with ``[marker]``, if any (newest first)."""
    tag = f"[{marker}]"
    for chat in api.search_chats(tag):
        if chat.title.endswith(tag):
            return chat
    return None


def realize_chat(
    db: Database, api: ChatsApi, chat_pk: int, *, desired: Set[int], org_user_id: int | None, now: datetime
) -> Realized:
    """Create chat ``chat_pk`` in Sferum (or find the one an earlier attempt created) with ``desired`` members."""
    with db.session() as session:
        chat = session.get(SferumChat, chat_pk)
        if chat is None or chat.state not in ("creating", "unknown"):
            return Realized(state=chat.state if chat else "missing", requests=0)
        state, marker, title = chat.state, chat.marker, sferum_title(chat.title, chat.marker)
    requests = 0
    try:
        if state == "unknown":
            requests += 1
            found = find_by_marker(api, marker)
            if found is not None:
                _adopt(db, chat_pk, found.chat_id, now)
                return Realized(state="active", requests=requests, created=True)
            # Not there: the lost createChat never took effect, so creating now cannot duplicate it.
            _set(db, chat_pk, state="creating", error=None)
            state = "creating"
        members = sorted(desired - {org_user_id} if org_user_id is not None else desired)[:CREATE_MEMBERS_MAX]
        requests += 1
        created = api.create_chat(title, members)
    except OutcomeUnknownError as error:
        logger.warning("createChat for chat row %s: outcome unknown (%s)", chat_pk, error)
        _set(db, chat_pk, state="unknown", error=reason_of(error))
        return Realized(state="unknown", requests=requests)
    except SferumError as error:
        if isinstance(error, QuotaExceededError):
            return Realized(state=state, requests=requests, quota=error)
        if verdict_of(error) is Verdict.RETRY:
            _set(db, chat_pk, state=state, error=reason_of(error))
            return Realized(state=state, requests=requests)
        logger.warning("Sferum refused chat row %s: %s", chat_pk, error)
        _set(db, chat_pk, state="failed", error=reason_of(error))
        return Realized(state="failed", requests=requests)
    added = set(created.member_ids) if created.member_ids is not None else set()
    with db.session() as session:
        chat = session.get(SferumChat, chat_pk)
        assert chat is not None
        chat.state, chat.chat_id, chat.error = "active", created.chat_id, None
        # An old API version answers with the bare chat id: then the member list is read before any change.
        chat.needs_verify = created.member_ids is None
        session.execute(delete(SferumChatMember).where(SferumChatMember.chat_pk == chat_pk))
        known = added | ({org_user_id} if org_user_id is not None else set())
        if known:
            session.execute(insert(SferumChatMember), [{"chat_pk": chat_pk, "sferum_user_id": u} for u in known])
        if added:
            session.execute(
                insert(SferumSyncOperation),
                [
                    {"chat_pk": chat_pk, "sferum_user_id": u, "action": "add", "state": "done", "attempts": 1,
                     "created_at": now, "updated_at": now}
                    for u in sorted(added)
                ],
            )  # fmt: skip
    return Realized(state="active", requests=requests, created=True)


def _adopt(db: Database, chat_pk: int, chat_id: int, now: datetime) -> None:
    with db.session() as session:
        chat = session.get(SferumChat, chat_pk)
        assert chat is not None
        chat.state, chat.chat_id, chat.error, chat.needs_verify = "active", chat_id, None, True
        session.execute(delete(SferumChatMember).where(SferumChatMember.chat_pk == chat_pk))


def _set(db: Database, chat_pk: int, *, state: str, error: str | None) -> None:
    with db.session() as session:
        chat = session.get(SferumChat, chat_pk)
        assert chat is not None
        chat.state, chat.error = state, error
