"""Sync workers in step with each other: who is running a pass, a fair share of the request rate, and a single
writer on SQLite.

Sferum limits requests per token, and every worker of an organisation uses the same application token, so the
configured «Запросов в секунду» is the organisation's whole budget.  A worker joins before its pass (one
statement to forget workers whose time ran out, one to join, one to count) and paces its requests at the rate
divided by the number of live workers; it leaves when the pass ends.  A worker that joins while another is mid-pass
makes the total briefly exceed the rate until the other's next pass; Sferum then answers error 6, which the
gateway retries.

On SQLite the join is exclusive: a worker that finds another one running skips its pass (the next run catches up),
so a host's scheduler and a ``sferum sync --loop`` never write at the same time.  SQLite serialises writers, so
the conditional ``INSERT`` is atomic.  A crashed worker's row stops counting at its ``until`` (the pass's lease).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, exists, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session

from sferum_plugin.account import Account
from sferum_plugin.models import SferumSyncWorker

__all__ = ["join", "leave", "renew"]


def join(session: Session, *, account: Account, holder: str, now: datetime, until: datetime) -> int | None:
    """Register ``holder`` as running a pass until ``until``; returns how many workers are live, itself included,
    or ``None`` on SQLite when another worker is running (the caller skips its pass)."""
    session.execute(
        delete(SferumSyncWorker).where(or_(SferumSyncWorker.until < now, SferumSyncWorker.holder == holder))
    )
    row = {"holder": holder, **account.columns(), "started_at": now, "until": until}
    if session.get_bind().dialect.name == "sqlite":
        others = exists().where(*account.owns(SferumSyncWorker), SferumSyncWorker.holder != holder)
        columns = SferumSyncWorker.__table__.c
        values = select(*(literal(value, columns[name].type).label(name) for name, value in row.items())).where(~others)
        joined = session.connection().execute(insert(SferumSyncWorker).from_select(list(row), values))
        return 1 if joined.rowcount == 1 else None
    session.execute(insert(SferumSyncWorker).values(**row))
    count = session.scalar(select(func.count()).select_from(SferumSyncWorker).where(*account.owns(SferumSyncWorker)))
    return max(1, count or 0)


def renew(session: Session, holder: str, until: datetime) -> None:
    """Keep ``holder`` counted until ``until`` (a long pass)."""
    session.execute(update(SferumSyncWorker).where(SferumSyncWorker.holder == holder).values(until=until))


def leave(session: Session, holder: str) -> None:
    """``holder``'s pass is over."""
    session.execute(delete(SferumSyncWorker).where(SferumSyncWorker.holder == holder))
