"""Creating chats in Sferum exactly once, 25 to an ``execute`` request, even when a request ends with an unknown
outcome or the worker dies right after Sferum created the chats.

Every chat carries a unique *marker* at the end of its Sferum title, in brackets (``"ИВТ-21 [g17]"``: ``g`` for a
study group and its id, ``u`` for a unit, ``c`` and a random tag for a custom chat).  A visible tag was chosen
over an invisible one (zero-width characters) because ``messages.searchConversations`` matches visible text and
people renaming the chat see, and tend to keep, the tag.  States of a chat row:

``creating``: nothing was sent yet.  ``unknown``: a ``createChat`` may have been sent and its outcome is not
recorded.  Before a pass sends anything it marks all the chats it is about to create ``unknown`` in one
statement, so that a worker dying at any point leaves only ``unknown`` rows behind for what it may have created.
The pass first searches every chat that was ``unknown`` by its marker (25 searches to an ``execute``): found →
``active`` (adopted, its member list is verified next), not found → created with the rest.  It then sends the
``createChat`` calls 25 to an ``execute`` request through the gateway's non-idempotent path
(:meth:`~sferum_plugin.gateway.client.SferumClient.execute_once`: a request that may have reached Sferum is never
sent again).  A request whose outcome is unknown (no reply, HTTP 5xx, a reply that cannot be read; the one rule is
:func:`~sferum_plugin.gateway.errors.may_have_been_applied`) leaves every chat of it ``unknown``, to be searched for
before anything is created again; a call that fails inside the request is settled for its chat alone (Sferum
refusing it → ``failed``, or ``creating`` again when a retry can help; failing after it may have run → ``unknown``).
Outcomes are kept in memory and written together (a few statements whatever the number of chats) at the end, when
a quota error stops the pass, and at checkpoints every :data:`CHECKPOINT_SECONDS` of a long pass, which also renew
the pass's leases; a crash therefore costs at most a search for each chat created since the last checkpoint (25 to
a request), never a duplicate.  The caller holds the chats' leases, so no other worker creates them meanwhile.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from datetime import datetime, timedelta

import attrs
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from hookspecs.services import Database
from sferum_plugin.gateway import operations
from sferum_plugin.gateway.batch import EXECUTE_MAX_CALLS, BatchOutcome
from sferum_plugin.gateway.domain import ChatInfo, CreatedChat
from sferum_plugin.gateway.errors import OutcomeUnknownError, QuotaExceededError, SferumError, may_have_been_applied
from sferum_plugin.models import SferumChat, SferumChatMember, SferumSyncOperation
from sferum_plugin.services.sync import workers
from sferum_plugin.services.sync.api import ChatsApi, Lease, Realized
from sferum_plugin.services.sync.reasons import Verdict, reason_of, verdict_of

__all__ = ["CHECKPOINT_SECONDS", "CREATE_MEMBERS_MAX", "Lease", "Realized", "find_by_marker", "realize_chats",
           "sferum_title"]  # fmt: skip

logger = logging.getLogger(__name__)

CREATE_MEMBERS_MAX = 200
"""Members passed to createChat at once; the rest are added by the sync pass.  Assumption: the schema sets no
limit on ``user_ids``; a modest one keeps the form body small (25 calls share an ``execute``: at most 5,000 ids,
some 50 KB of ``code``; VK documents no limit on its length)."""

CHECKPOINT_SECONDS = 30.0
"""How often a long creation pass writes the outcomes so far and renews its leases (wall-clock seconds, checked
between two requests).  At the default pace of 3 requests/s that is about 90 requests: the chats created since the
last checkpoint are the most a crash can leave to be searched for again, 25 searches to a request."""


def sferum_title(title: str, marker: str) -> str:
    """The chat's title in Sferum: the title the user chose and the marker."""
    return f"{title} [{marker}]"


@attrs.frozen
class _Chat:
    """A chat row to create (or to find): its state when the pass began."""

    id: int
    state: str
    title: str
    marker: str


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
    return _marked(api.search_chats(_tag(marker)), marker)


def _tag(marker: str) -> str:
    return f"[{marker}]"


def _marked(chats: Iterable[ChatInfo], marker: str) -> ChatInfo | None:
    """The first of ``chats`` (a search for the marker, newest first) whose title ends with ``[marker]``."""
    return next((chat for chat in chats if chat.title.endswith(_tag(marker))), None)


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
        rows = [
            _Chat(*row)
            for row in session.execute(
                select(SferumChat.id, SferumChat.state, SferumChat.title, SferumChat.marker)
                .where(SferumChat.id.in_(sorted(desired)), SferumChat.state.in_(("creating", "unknown")))
                .order_by(SferumChat.id)
            )
        ]
        # From here on a createChat may be in flight for each of them: a crash must leave them "unknown".
        _move(session, [row.id for row in rows if row.state == "creating"], old="creating", new="unknown")
    step = _Step(db, api, now=now, org_user_id=org_user_id, lease=lease, clock=clock, result=result)
    step.absent = [row for row in rows if row.state == "creating"]
    try:
        step.search([row for row in rows if row.state == "unknown"])
        step.create(desired)
    except Exception:
        # Not a crash: keep what is known, so that the next pass does not search for these chats again.
        step.write(final=True)
        raise
    # Chats known to be absent whose createChat was never sent (a quota stop) go back to "creating".
    step.write(final=True)
    return result


@attrs.define
class _Step:
    """One creation step under way: what it knows so far, written at checkpoints and at the end."""

    db: Database
    api: ChatsApi
    now: datetime
    org_user_id: int | None
    lease: Lease | None
    clock: Callable[[], float]
    result: Realized
    absent: list[_Chat] = attrs.field(factory=list)
    """Chats known not to exist in Sferum: ``creating`` before the pass, or searched for and not found."""
    sent: set[int] = attrs.field(factory=set)
    """Chats a ``createChat`` was sent for (or may have been)."""
    outcomes: list[_Outcome] = attrs.field(factory=list)
    requests: int = 0
    started: float = attrs.field(init=False)
    last_checkpoint: float = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.started = self.last_checkpoint = self.clock()

    def search(self, rows: Sequence[_Chat]) -> None:
        """Look for chats an earlier ``createChat`` may have made, 25 searches per ``execute``."""
        for start in range(0, len(rows), EXECUTE_MAX_CALLS):
            run = rows[start : start + EXECUTE_MAX_CALLS]
            self._before_request()
            found = self.api.execute_batch([operations.search_chats(_tag(row.marker)) for row in run])
            for row, outcome in zip(run, found, strict=True):
                if isinstance(outcome.error, QuotaExceededError):
                    self.result.quota = outcome.error  # this chat stays "unknown", like those not searched yet
                elif outcome.error is not None:
                    # A failed search leaves the question open.
                    self.outcomes.append(_Outcome(row.id, "unknown", error=reason_of(outcome.error)))
                elif (chat := _marked(outcome.value or (), row.marker)) is not None:
                    self.result.created += 1
                    self.outcomes.append(_Outcome(row.id, "active", chat_id=chat.chat_id, needs_verify=True))
                else:
                    # Not there: the lost createChat never took effect, creating it now cannot duplicate it.
                    self.absent.append(row)
            if self.result.quota is not None:
                return

    def create(self, desired: Mapping[int, Set[int]]) -> None:
        """Create the chats known to be absent, 25 ``createChat`` calls per ``execute`` request."""
        if self.result.quota is not None:
            return
        rows = sorted(self.absent, key=lambda row: row.id)
        org = {self.org_user_id} if self.org_user_id is not None else set()
        for start in range(0, len(rows), EXECUTE_MAX_CALLS):
            run = rows[start : start + EXECUTE_MAX_CALLS]
            batch = [
                operations.create_chat(sferum_title(row.title, row.marker),
                                       sorted(desired[row.id] - org)[:CREATE_MEMBERS_MAX])
                for row in run
            ]  # fmt: skip
            self._before_request()
            self.sent.update(row.id for row in run)
            try:
                outcomes = self.api.execute_once(batch)
            except OutcomeUnknownError as error:
                logger.warning("createChat for chat rows %s: outcome unknown (%s)", [row.id for row in run], error)
                self.outcomes.extend(_Outcome(row.id, "unknown", error=reason_of(error)) for row in run)
                continue
            except QuotaExceededError as error:
                self.sent.difference_update(row.id for row in run)  # refused before anything ran
                self.result.quota = error
                return
            except SferumError as error:  # refused as a whole, nothing applied: as if each call was refused
                outcomes = [BatchOutcome(operation, error=error) for operation in batch]
            for row, outcome in zip(run, outcomes, strict=True):
                self.outcomes.append(self._created(row.id, outcome))
            if self.result.quota is not None:
                return

    def _created(self, chat_pk: int, outcome: BatchOutcome[CreatedChat]) -> _Outcome:
        """What one ``createChat`` of a request came to."""
        error = outcome.error
        if error is None:
            created = outcome.unwrap()
            self.result.created += 1
            # An old API version answers with the bare chat id: then the member list is read before any change.
            added = frozenset(created.member_ids or ())
            return _Outcome(chat_pk, "active", chat_id=created.chat_id, needs_verify=created.member_ids is None,
                            members=added)  # fmt: skip
        if may_have_been_applied(error):
            logger.warning("createChat for chat row %s: outcome unknown (%s)", chat_pk, error)
            return _Outcome(chat_pk, "unknown", error=reason_of(error))
        if isinstance(error, QuotaExceededError):
            self.result.quota = error  # not created; the service pauses and the chat waits in "creating"
            return _Outcome(chat_pk, "creating", error=reason_of(error))
        if verdict_of(error) is Verdict.RETRY:
            return _Outcome(chat_pk, "creating", error=reason_of(error))  # Sferum did not run it: send it again
        logger.warning("Sferum refused chat row %s: %s", chat_pk, error)
        self.result.failed += 1
        return _Outcome(chat_pk, "failed", error=reason_of(error))

    def _before_request(self) -> None:
        """Count the request; before every one but the first, write a checkpoint if it is due."""
        self.requests += 1
        self.result.requests += 1
        if self.requests > 1 and self.clock() - self.last_checkpoint >= CHECKPOINT_SECONDS:
            self.write()
            self.last_checkpoint = self.clock()
            self.result.checkpoints += 1
            if self.lease is not None:
                _renew(self.db, self.lease, self.now + timedelta(seconds=self.last_checkpoint - self.started))

    def write(self, *, final: bool = False) -> None:
        """Record the outcomes so far; at the end, chats known absent and never sent go back to ``creating``."""
        unsent = [row.id for row in self.absent if row.id not in self.sent] if final else None
        _write(self.db, self.outcomes, self.now, self.org_user_id, unsent=unsent)
        self.outcomes.clear()


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
