"""Creating chats in Sferum exactly once, even when ``messages.createChat`` ends with an unknown outcome or the
worker dies right after Sferum created the chat.

Every chat carries a unique *marker* at the end of its Sferum title, in brackets (``"ИВТ-21 [g17]"``: ``g`` for a
study group and its id, ``u`` for a unit, ``c`` and a random tag for a custom chat).  A visible tag was chosen
over an invisible one (zero-width characters) because ``messages.searchConversations`` matches visible text and
people renaming the chat see, and tend to keep, the tag.  States of a chat row:

``creating``: nothing was sent yet.  ``unknown``: a ``createChat`` may have been sent and its outcome is not
recorded.  Before a pass sends anything it marks all the chats it is about to create ``unknown`` in one
statement, so that a worker dying at any point leaves only ``unknown`` rows behind for what it may have created.
A chat in ``unknown`` is searched by its marker before anything else: found → ``active`` (adopted, its member list
is verified next), not found → created.  Outcomes are kept in memory and written together (a few statements
whatever the number of chats) at the end, when a quota error stops the pass, and at checkpoints every
:data:`CHECKPOINT_SECONDS` of a long pass, which also renew the pass's leases; a crash therefore costs at most one
search per chat created since the last checkpoint, never a duplicate.  Sferum refusing a chat → ``failed``.
The caller holds the chats' leases, so no other worker creates them meanwhile.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Set
from datetime import datetime, timedelta

import attrs
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from hookspecs.services import Database
from sferum_plugin.gateway.domain import ChatInfo
from sferum_plugin.gateway.errors import OutcomeUnknownError, QuotaExceededError, SferumError
from sferum_plugin.models import SferumChat, SferumChatMember, SferumSyncOperation
from sferum_plugin.services.sync import workers
from sferum_plugin.services.sync.api import ChatsApi
from sferum_plugin.services.sync.reasons import Verdict, reason_of, verdict_of

__all__ = ["CHECKPOINT_SECONDS", "CREATE_MEMBERS_MAX", "Lease", "Realized", "find_by_marker", "realize_chats",
           "sferum_title"]  # fmt: skip

logger = logging.getLogger(__name__)

CREATE_MEMBERS_MAX = 200
"""Members passed to createChat at once; the rest are added by the sync pass.  Assumption: the schema sets no
limit on ``user_ids``; a modest one keeps the form body small."""

CHECKPOINT_SECONDS = 30.0
"""How often a long creation pass writes the outcomes so far and renews its leases (wall-clock seconds).  At the
default pace of 3 requests/s that is about 90 chats: the most a crash can leave to be searched for again."""


def sferum_title(title: str, marker: str) -> str:
    """The chat's title in Sferum: the title the user chose and the marker."""
    return f"{title} [{marker}]"


@attrs.frozen
class Lease:
    """The leases a pass holds, renewed at each checkpoint so that a long creation pass keeps its chats."""

    holder: str
    length: timedelta
    chat_pks: tuple[int, ...]


@attrs.define
class Realized:
    """What a creation step did: chats now active (created or found), chats refused, requests, a quota stop."""

    created: int = 0
    failed: int = 0
    requests: int = 0
    checkpoints: int = 0
    quota: QuotaExceededError | None = None


@attrs.frozen
class _Outcome:
    chat_pk: int
    state: str
    error: str | None = None
    chat_id: int | None = None
    needs_verify: bool = False
    members: frozenset[int] = frozenset()  # Sferum ids createChat reports as added


def find_by_marker(api: ChatsApi, marker: str) -> ChatInfo | None:
    """The organisation's chat whose title ends with ``[marker]``, if any (newest first)."""
    tag = f"[{marker}]"
    for chat in api.search_chats(tag):
        if chat.title.endswith(tag):
            return chat
    return None


def realize_chats(
    db: Database,
    api: ChatsApi,
    desired: Mapping[int, Set[int]],
    *,
    org_user_id: int | None,
    now: datetime,
    lease: Lease | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Realized:
    """Create the chats ``desired`` names (chat row id → desired Sferum members) that are ``creating`` or
    ``unknown``, or find those an earlier attempt created.  ``clock`` times the checkpoints."""
    result = Realized()
    if not desired:
        return result
    with db.session() as session:
        rows = session.execute(
            select(SferumChat.id, SferumChat.state, SferumChat.title, SferumChat.marker)
            .where(SferumChat.id.in_(sorted(desired)), SferumChat.state.in_(("creating", "unknown")))
            .order_by(SferumChat.id)
        ).all()
        # From here on a createChat may be in flight for each of them: a crash must leave them "unknown".
        _move(session, [row.id for row in rows if row.state == "creating"], old="creating", new="unknown")
    outcomes: list[_Outcome] = []
    started = last_checkpoint = clock()
    done = 0
    try:
        for done, row in enumerate(rows, start=1):
            outcome = _realize_one(api, row.id, row.state, sferum_title(row.title, row.marker), row.marker,
                                   members=desired[row.id], org_user_id=org_user_id, result=result)  # fmt: skip
            if outcome is None:  # a quota error: this chat and the rest stay as they were before the pass
                done -= 1
                break
            outcomes.append(outcome)
            if clock() - last_checkpoint >= CHECKPOINT_SECONDS and done < len(rows):
                _write(db, outcomes, now, org_user_id)
                outcomes.clear()
                last_checkpoint = clock()
                result.checkpoints += 1
                if lease is not None:
                    _renew(db, lease, now + timedelta(seconds=last_checkpoint - started))
    except Exception:
        # Not a crash: keep what is known, so that the next pass does not search for these chats again.
        _write(db, outcomes, now, org_user_id, unsent=[row.id for row in rows[done:] if row.state == "creating"])
        raise
    # Chats the pass never reached (a quota stop) go back to "creating": no createChat was sent for them.
    _write(db, outcomes, now, org_user_id, unsent=[row.id for row in rows[done:] if row.state == "creating"])
    return result


def _realize_one(
    api: ChatsApi,
    chat_pk: int,
    state: str,
    title: str,
    marker: str,
    *,
    members: Set[int],
    org_user_id: int | None,
    result: Realized,
) -> _Outcome | None:
    """One chat: search (if an earlier createChat may have worked), then create.  ``None``: a quota error."""
    stage = "search" if state == "unknown" else "create"
    try:
        if stage == "search":
            result.requests += 1
            found = find_by_marker(api, marker)
            if found is not None:
                result.created += 1
                return _Outcome(chat_pk, "active", chat_id=found.chat_id, needs_verify=True)
            stage = "create"  # not there: the lost createChat never took effect, creating now cannot duplicate it
        initial = sorted(members - {org_user_id} if org_user_id is not None else members)[:CREATE_MEMBERS_MAX]
        result.requests += 1
        created = api.create_chat(title, initial)
    except OutcomeUnknownError as error:
        logger.warning("createChat for chat row %s: outcome unknown (%s)", chat_pk, error)
        return _Outcome(chat_pk, "unknown", error=reason_of(error))
    except QuotaExceededError as error:
        result.quota = error
        return None
    except SferumError as error:
        if stage == "search" or verdict_of(error) is Verdict.RETRY:
            # A failed search leaves the question open; a createChat Sferum did not run can simply be sent again.
            return _Outcome(chat_pk, "unknown" if stage == "search" else "creating", error=reason_of(error))
        logger.warning("Sferum refused chat row %s: %s", chat_pk, error)
        result.failed += 1
        return _Outcome(chat_pk, "failed", error=reason_of(error))
    result.created += 1
    # An old API version answers with the bare chat id: then the member list is read before any change.
    added = frozenset(created.member_ids or ())
    return _Outcome(chat_pk, "active", chat_id=created.chat_id, needs_verify=created.member_ids is None, members=added)


def _write(
    db: Database, outcomes: list[_Outcome], now: datetime, org_user_id: int | None, unsent: list[int] | None = None
) -> None:
    """Record outcomes with a fixed number of statements (each an ``executemany``), in one transaction; ``unsent``
    chats, marked ``unknown`` before the pass began sending, go back to ``creating``."""
    if not outcomes and not unsent:
        return
    with db.session() as session:
        _move(session, unsent or [], old="unknown", new="creating")
        if not outcomes:
            return
        session.execute(
            update(SferumChat),
            [
                {"id": o.chat_pk, "state": o.state, "error": o.error, "chat_id": o.chat_id,
                 "needs_verify": o.needs_verify}
                for o in outcomes
            ],
        )  # fmt: skip
        active = [o for o in outcomes if o.state == "active"]
        if not active:
            return
        session.execute(delete(SferumChatMember).where(SferumChatMember.chat_pk.in_([o.chat_pk for o in active])))
        # Adopted chats get their real member list read next (needs_verify); created ones start with what
        # createChat reported, plus the organisation account, which owns every chat it creates.
        known = [
            {"chat_pk": o.chat_pk, "sferum_user_id": user}
            for o in active
            if not o.needs_verify
            for user in sorted(o.members | ({org_user_id} if org_user_id is not None else set()))
        ]
        if known:
            session.execute(insert(SferumChatMember), known)
        done = [
            {"chat_pk": o.chat_pk, "sferum_user_id": user, "action": "add", "state": "done", "attempts": 1,
             "created_at": now, "updated_at": now}
            for o in active
            for user in sorted(o.members)
        ]  # fmt: skip
        if done:
            session.execute(insert(SferumSyncOperation), done)


def _move(session: Session, pks: list[int], *, old: str, new: str) -> None:
    """Chats ``pks`` that are in state ``old`` go to ``new`` (one statement)."""
    if pks:
        session.execute(
            update(SferumChat)
            .where(SferumChat.id.in_(pks), SferumChat.state == old)
            .values(state=new)
            .execution_options(synchronize_session=False)
        )


def _renew(db: Database, lease: Lease, at: datetime) -> None:
    """Extend the pass's leases and its worker row (a long creation pass must not lose its chats to another
    worker, nor stop counting among the live workers)."""
    with db.session() as session:
        session.execute(
            update(SferumChat)
            .where(SferumChat.id.in_(lease.chat_pks), SferumChat.lease_holder == lease.holder)
            .values(lease_until=at + lease.length)
            .execution_options(synchronize_session=False)
        )
        workers.renew(session, lease.holder, at + lease.length)
