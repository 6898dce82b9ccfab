"""The service's background jobs (``lms_background_jobs``) and the runner the CLI shares with them."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select

from hookspecs.services import Host
from hookspecs.types import JobContext
from sferum_plugin import MODULE_NAME
from sferum_plugin.account import Account
from sferum_plugin.i18n import N_
from sferum_plugin.models import SferumSyncPass
from sferum_plugin.services.connection import SferumAccess
from sferum_plugin.services.platforms import platform_for
from sferum_plugin.services.sync import workers
from sferum_plugin.services.sync.worker import PassOptions, PassReport, run_pass
from sferum_plugin.settings import configured

__all__ = ["BUSY_NOTE", "QUEUE_INTERVAL", "full_pass_due", "run_for_host", "sync_full", "sync_queue"]

logger = logging.getLogger(__name__)

BUSY_NOTE = N_("Другой обработчик уже выполняет синхронизацию: с SQLite работает один обработчик за раз.")

QUEUE_INTERVAL = timedelta(seconds=10)
"""How often queued requests are served: the «within seconds» of issue 5."""


def run_for_host(
    host: Host,
    sferum: SferumAccess,
    *,
    full: bool = False,
    dry_run: bool = False,
    chat_pks: tuple[int, ...] | None = None,
) -> PassReport | None:
    """Run one pass with the module's settings (``None`` while the module is not configured), on the chosen
    platform: its adapter comes from :meth:`~sferum_plugin.services.platforms.Platform.membership`.

    The worker joins the live workers first (:mod:`~sferum_plugin.services.sync.workers`): it paces its requests
    at its share of the platform's rate (VK: «Запросов в секунду»; MAX: 30 per second per bot), and on SQLite it
    skips the pass while another worker runs one.
    """
    stored = host.settings.get(MODULE_NAME)
    settings = configured(stored)
    if settings is None:
        return None
    options = PassOptions(full=full, dry_run=dry_run, chat_pks=chat_pks, strict=settings.sync_strict)
    now = host.clock.now()
    if dry_run:
        return run_pass(host.db, host.directory, None, account=settings.account, now=now, options=options)
    with host.db.session() as session:
        live = workers.join(
            session, account=settings.account, holder=options.holder, now=now, until=now + options.lease
        )
    if live is None:
        logger.info("sync pass skipped: another worker is running one (SQLite allows one at a time)")
        return PassReport(kind="full" if full else "queue", note=BUSY_NOTE)
    try:
        with platform_for(stored).membership(stored, sferum, share=live) as connection:
            assert connection is not None, "configured settings open a connection"
            report = run_pass(host.db, host.directory, connection.membership, account=connection.account, now=now,
                              options=options)  # fmt: skip
    finally:
        with host.db.session() as session:
            workers.leave(session, options.holder)
    report.workers = live
    return report


def full_pass_due(host: Host, account: Account, interval: timedelta, now: datetime) -> bool:
    """Whether the last full pass started more than ``interval`` ago (or never ran)."""
    with host.db.session() as session:
        last = session.scalar(
            select(func.max(SferumSyncPass.started_at)).where(
                account.platform_of(SferumSyncPass), SferumSyncPass.kind == "full"
            )
        )
    return last is None or now - last >= interval


def sync_queue(context: JobContext, *, sferum: SferumAccess) -> None:
    """Serve queued requests and chats that need work (creation, retries, reconciliation)."""
    run_for_host(context.host, sferum)


def sync_full(context: JobContext, *, sferum: SferumAccess) -> None:
    """Re-derive every chat and verify Sferum's member lists, at the configured interval."""
    settings = configured(context.host.settings.get(MODULE_NAME))
    if settings is None:
        return
    if full_pass_due(context.host, settings.account, timedelta(minutes=settings.sync_interval_minutes), context.now):
        run_for_host(context.host, sferum, full=True)
