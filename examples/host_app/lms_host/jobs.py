"""Background jobs of the installed modules, run when due, one process at a time per job.

Each job has a row in ``job_runs``.  A process takes a job by a conditional ``UPDATE`` that succeeds only when
the job is due and nobody holds an unexpired lease on it, which is atomic on SQLite and PostgreSQL alike, so two
processes (``flask jobs --loop`` and a web process with ``LMS_RUN_JOBS=1``) never run the same job at once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from hookspecs.types import BackgroundJob, JobContext
from lms_host.cabinet import Cabinet
from lms_host.models import JobRun
from lms_host.plugins import flatten

__all__ = ["LEASE", "POLL_INTERVAL", "installed_jobs", "run_due_jobs", "run_jobs_in_web_process", "run_jobs_until"]

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=15)
"""How long a job is held by the process that started it; a crashed process's lease simply expires."""

POLL_INTERVAL = timedelta(seconds=5)


def process_owner() -> str:
    """An identifier of this process and thread, recorded as the lease holder."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def installed_jobs(cabinet: Cabinet) -> list[BackgroundJob]:
    """The jobs of the installed modules (and of always-active plugins)."""
    return flatten(cabinet.call("lms_background_jobs"))


def _ensure_row(cabinet: Cabinet, name: str) -> None:
    with cabinet.db.session() as session:
        if session.get(JobRun, name) is not None:
            return
    try:
        with cabinet.db.session() as session:
            session.add(JobRun(job_name=name, last_error=""))
    except IntegrityError:
        pass  # another process created it first


def _acquire(cabinet: Cabinet, job: BackgroundJob, owner: str, now: datetime) -> bool:
    _ensure_row(cabinet, job.name)
    statement = (
        update(JobRun)
        .where(
            JobRun.job_name == job.name,
            or_(JobRun.lease_expires_at.is_(None), JobRun.lease_expires_at < now),
            or_(JobRun.last_started_at.is_(None), JobRun.last_started_at <= now - job.interval),
        )
        .values(lease_owner=owner, lease_expires_at=now + LEASE, last_started_at=now)
        .execution_options(synchronize_session=False)
    )
    with cabinet.db.session() as session:
        return session.execute(statement).rowcount == 1  # type: ignore[attr-defined,no-any-return]


def _release(cabinet: Cabinet, name: str, owner: str, error: str) -> None:
    with cabinet.db.session() as session:
        session.execute(
            update(JobRun)
            .where(JobRun.job_name == name, JobRun.lease_owner == owner)
            .values(
                lease_owner=None,
                lease_expires_at=None,
                last_finished_at=cabinet.host.clock.now(),
                last_error=error[:2000],
            )
            .execution_options(synchronize_session=False)
        )


def run_due_jobs(cabinet: Cabinet, *, owner: str | None = None, now: datetime | None = None) -> list[str]:
    """Run every installed job that is due and not held by another process.

    :returns: the names of the jobs run (failures included; they are logged and recorded).
    """
    owner = owner or process_owner()
    now = now or cabinet.host.clock.now()
    ran: list[str] = []
    for job in installed_jobs(cabinet):
        if not _acquire(cabinet, job, owner, now):
            continue
        error = ""
        try:
            job.run(JobContext(host=cabinet.host, now=now))
        except Exception as exc:
            logger.exception("background job %s failed", job.name)
            error = type(exc).__name__
        _release(cabinet, job.name, owner, error)
        ran.append(job.name)
    return ran


def job_states(cabinet: Cabinet) -> list[JobRun]:
    """The recorded runs of every job, for operators."""
    with cabinet.db.session() as session:
        return list(session.scalars(select(JobRun).order_by(JobRun.job_name)).all())


def run_jobs_until(cabinet: Cabinet, stop: threading.Event, poll: timedelta = POLL_INTERVAL) -> None:
    """Run due jobs every ``poll`` until ``stop`` is set."""
    owner = process_owner()
    while True:
        try:
            run_due_jobs(cabinet, owner=owner)
        except Exception:
            # The loop must survive a database hiccup; the next round tries again.
            logger.exception("running background jobs failed")
        if stop.wait(poll.total_seconds()):
            return


def run_jobs_in_web_process(app: Flask, poll: timedelta = POLL_INTERVAL) -> None:
    """Run the job loop in a daemon thread of the web process (``LMS_RUN_JOBS=1``, for the demo).

    The thread starts with the first request, so that CLI commands (``init-db``, ``demo-data``), which create the
    same application, never run jobs.  :meth:`Cabinet.dispose` stops it.
    """
    cabinet = Cabinet.of(app)
    lock = threading.Lock()

    def start_once() -> None:
        if cabinet.jobs_thread is not None:
            return
        with lock:
            if cabinet.jobs_thread is not None:
                return
            thread = threading.Thread(
                target=run_jobs_until, args=(cabinet, cabinet.jobs_stop, poll), name="lms-jobs", daemon=True
            )
            cabinet.jobs_thread = thread
            thread.start()
            logger.info("background jobs run in this web process")

    app.before_request(start_once)
