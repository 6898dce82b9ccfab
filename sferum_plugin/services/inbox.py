"""MAX's events, durably: the inbox every delivery lands in, and the job that handles it (issue 12, item 6).

Both ways MAX delivers events feed the same table, :class:`~sferum_plugin.models.SferumInbox`: the webhook
(:func:`sferum_plugin.services.max_updates.receive_webhook`) stores each update as it arrives and answers 200; long
polling (:func:`sferum_plugin.services.max_updates.poll_updates`) stores a page and moves its ``marker`` in one
transaction.  A row's ``update_key`` is the SHA-256 of the update's canonical JSON, unique per platform, so a
redelivered update (MAX repeats a webhook POST it did not see answered, a poll repeats a page after a crash) is
ignored — by the database's unique constraint, so two deliveries racing each other store one row.

:func:`handle_inbox` (a background job) takes the unprocessed rows in arrival order.  Each row is handled in its own
transaction that also marks it processed, by the handler :data:`HANDLERS` registers for its ``update_type``; a type
without a handler is marked processed without action.  A handler that raises leaves the row with its ``error`` and
one more ``attempt``, to be tried again after a growing delay (:func:`retry_delay`) — the rows after it go on — and
after :data:`MAX_ATTEMPTS` tries it is set aside (processed, ``error`` kept).  An update that is not of the schema's
shape is set aside at once: trying it again cannot help.

To handle another type, add ``"<update_type>": function`` to :data:`HANDLERS`; the function's module imports
:class:`~sferum_plugin.services.events.EventContext` from :mod:`sferum_plugin.services.events` (this module imports
it, so it must not import this one back at import time).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

import attrs
from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hookspecs.services import Host
from hookspecs.types import JobContext
from sferum_plugin import MODULE_NAME
from sferum_plugin.account import Account
from sferum_plugin.gateway.errors import MalformedResponseError
from sferum_plugin.gateway.max import (
    BotAddedUpdate,
    BotRemovedUpdate,
    BotStartedUpdate,
    ChatTitleChangedUpdate,
    MessageChatCreatedUpdate,
    UserAddedUpdate,
    UserRemovedUpdate,
    read_update,
)
from sferum_plugin.models import SferumChat, SferumInbox
from sferum_plugin.services import max_chats, max_profiles
from sferum_plugin.services.events import EventContext, Handler
from sferum_plugin.services.sync.queue import enqueue
from sferum_plugin.settings import MaxSettings

__all__ = [
    "HANDLERS",
    "MAX_ATTEMPTS",
    "EventContext",
    "Handler",
    "InboxReport",
    "handle_inbox",
    "process_inbox",
    "retry_delay",
    "store_update",
    "update_key",
]

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
"""How often a failing event is tried before it is set aside (the delays between tries add up to about three hours)."""

_FIRST_RETRY = timedelta(seconds=30)
_LONGEST_RETRY = timedelta(hours=1)
_BATCH = 200
"""Rows one run of the job takes at most; the next run (seconds later) takes the rest."""


def update_key(body: Mapping[str, object]) -> str:
    """The update's identity: SHA-256 of its canonical JSON (keys sorted, no spaces), in hex."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def store_update(session: Session, platform: str, body: Mapping[str, object], now: datetime) -> bool:
    """Put one update in the inbox unless it is there already; whether it was new.

    Insert-or-ignore on ``(platform, update_key)``: a duplicate arriving at the same moment from another request or
    process is ignored by the unique constraint, on SQLite and PostgreSQL alike, without failing the transaction.
    """
    kind = body.get("update_type")
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        module.insert(SferumInbox)
        .values(
            platform=platform,
            update_key=update_key(body),
            update_type=kind[:64] if isinstance(kind, str) else "",
            body=json.dumps(body, ensure_ascii=False),
            received_at=now,
            attempts=0,
        )
        .on_conflict_do_nothing(index_elements=[SferumInbox.platform, SferumInbox.update_key])
        .returning(SferumInbox.id)
    )
    # RETURNING, not rowcount: an ORM insert's rowcount is not the number of rows written on every driver.
    return session.execute(statement).scalar_one_or_none() is not None


# -- handlers ---------------------------------------------------------------------------------------------------


def on_chat_changed(
    context: EventContext, event: UserAddedUpdate | UserRemovedUpdate | ChatTitleChangedUpdate | BotAddedUpdate
) -> None:
    """Someone joined or left a chat, it was renamed, or the bot was added to it: if the module manages the chat,
    ask for a sync pass of it (the queue job serves it within seconds); chats it does not manage are ignored.

    The pass reads the chat's real member list first (``needs_verify``): the event says the list changed, so the
    module's known list may be wrong — someone who left by themselves is added back if they belong, someone added by
    hand is seen.
    """
    pks = context.session.scalars(
        select(SferumChat.id).where(*context.account.owns(SferumChat), SferumChat.chat_id == event.chat_id)
    ).all()
    if pks:
        context.session.execute(update(SferumChat).where(SferumChat.id.in_(pks)).values(needs_verify=True))
    enqueue(context.session, [f"chat:{pk}" for pk in pks], context.now)


HANDLERS: dict[str, Handler] = {
    UserAddedUpdate.update_type: on_chat_changed,
    UserRemovedUpdate.update_type: on_chat_changed,
    ChatTitleChangedUpdate.update_type: on_chat_changed,
    BotAddedUpdate.update_type: on_chat_changed,
    MessageChatCreatedUpdate.update_type: max_chats.on_chat_created,
    BotRemovedUpdate.update_type: max_chats.on_bot_removed,
    BotStartedUpdate.update_type: max_profiles.on_bot_started,
}
"""The handler of each update type; types not listed are marked processed without action."""


# -- the job ----------------------------------------------------------------------------------------------------


@attrs.define
class InboxReport:
    """What one run of the inbox job did: rows handled (or without a handler), rows that failed this time, and
    rows set aside (unreadable, or failing :data:`MAX_ATTEMPTS` times)."""

    processed: int = 0
    failed: int = 0
    set_aside: int = 0


def retry_delay(attempts: int) -> timedelta:
    """How long after its ``attempts``-th failed try an event is tried again: 30 s, doubling, at most an hour."""
    delay: timedelta = _FIRST_RETRY * 2 ** max(attempts - 1, 0)
    return min(delay, _LONGEST_RETRY)


def _due_since(attempts: int) -> timedelta:
    """An event tried ``attempts`` times is due again this long after it arrived (the sum of the delays so far)."""
    return sum((retry_delay(n) for n in range(1, attempts + 1)), timedelta())


def _due_rows(session: Session, account: Account, now: datetime) -> list[int]:
    retries = [
        and_(SferumInbox.attempts == n, SferumInbox.received_at <= now - _due_since(n)) for n in range(1, MAX_ATTEMPTS)
    ]
    return list(
        session.scalars(
            select(SferumInbox.id)
            .where(
                account.platform_of(SferumInbox),
                SferumInbox.processed_at.is_(None),
                or_(SferumInbox.attempts == 0, *retries),
            )
            .order_by(SferumInbox.id)
            .limit(_BATCH)
        ).all()
    )


def process_inbox(host: Host, account: Account, now: datetime) -> InboxReport:
    """Handle the due rows of ``account``'s platform in arrival order, each in its own transaction."""
    report = InboxReport()
    with host.db.session() as session:
        due = _due_rows(session, account, now)
    for row_id in due:
        try:
            outcome = _handle_row(host, account, row_id, now)
        except Exception as error:  # any failure of a handler leaves its row for a later try
            outcome = _record_failure(host, row_id, error, now)
        if outcome is not None:
            setattr(report, outcome, getattr(report, outcome) + 1)
    return report


def _handle_row(host: Host, account: Account, row_id: int, now: datetime) -> str | None:
    """Claim the row (a conditional UPDATE: two runs never handle it both), run its handler, commit both."""
    with host.db.session() as session:
        claimed = session.execute(
            update(SferumInbox)
            .where(SferumInbox.id == row_id, SferumInbox.processed_at.is_(None))
            .values(processed_at=now, attempts=SferumInbox.attempts + 1, error=None)
            .returning(SferumInbox.update_type, SferumInbox.body)
            .execution_options(synchronize_session=False)
        ).one_or_none()
        if claimed is None:
            return None  # another run took it meanwhile
        kind, body = claimed
        handler = HANDLERS.get(kind)
        if handler is None:
            return "processed"
        try:
            event = read_update(json.loads(body), method=f"webhook {kind}")
        except (MalformedResponseError, ValueError) as error:
            logger.warning("MAX event %s (%s) is not of the schema's shape: set aside", row_id, kind)
            session.execute(update(SferumInbox).where(SferumInbox.id == row_id).values(error=_error_text(error)))
            return "set_aside"
        handler(EventContext(host=host, session=session, account=account, now=now), event)
    return "processed"


def _record_failure(host: Host, row_id: int, error: Exception, now: datetime) -> str:
    """The handler raised (its writes are rolled back): count the try, keep the error, set the row aside after
    :data:`MAX_ATTEMPTS` tries."""
    with host.db.session() as session:
        row = session.get(SferumInbox, row_id)
        if row is None:
            return "failed"
        row.attempts = (row.attempts or 0) + 1
        row.error = _error_text(error)
        given_up = row.attempts >= MAX_ATTEMPTS
        if given_up:
            row.processed_at = now
        kind, attempts = row.update_type, row.attempts
    logger.warning(
        "MAX event %s (%s) failed, try %d of %d%s: %s",
        row_id,
        kind,
        attempts,
        MAX_ATTEMPTS,
        " (set aside)" if given_up else "",
        type(error).__name__,
    )
    return "set_aside" if given_up else "failed"


def _error_text(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:500]


def handle_inbox(context: JobContext) -> None:
    """The job: while MAX is the chosen platform, handle the events its inbox holds (rows wait otherwise)."""
    settings = MaxSettings.from_stored(context.host.settings.get(MODULE_NAME))
    if settings is None:
        return
    report = process_inbox(context.host, settings.account, context.now)
    if report.processed or report.failed or report.set_aside:
        logger.info(
            "MAX events: %d handled, %d failed, %d set aside", report.processed, report.failed, report.set_aside
        )
