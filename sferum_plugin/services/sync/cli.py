"""``sferum sync``: find the host like ``flask --app`` finds an app, then run passes once or in a loop."""

from __future__ import annotations

import importlib
import logging
import os
import sys
import time
from collections.abc import Callable
from datetime import timedelta

from hookspecs.services import Host
from sferum_plugin import MODULE_NAME
from sferum_plugin.services.connection import SferumAccess
from sferum_plugin.services.sync.jobs import QUEUE_INTERVAL, full_pass_due, run_for_host
from sferum_plugin.services.sync.worker import PassReport
from sferum_plugin.settings import configured

__all__ = ["HOST_ENV_VAR", "load_host", "run_sync_command"]

logger = logging.getLogger(__name__)

HOST_ENV_VAR = "SFERUM_HOST"
"""Names the host factory when ``--host`` is not given, e.g. ``lms_host:create_app``."""


def load_host(spec: str) -> Host:
    """Import ``module:attribute`` and turn it into a :class:`Host`.

    The attribute may be a Host, a callable returning one (called without arguments), or an object that holds
    one: an attribute ``host``, or (a Flask app) an entry of ``app.extensions`` with a ``host`` attribute.
    """
    module_name, _, attribute = spec.partition(":")
    target: object = importlib.import_module(module_name)
    for part in (attribute or "create_app").split("."):
        target = getattr(target, part)
    if callable(target) and not isinstance(target, Host):
        target = target()
    for candidate in (target, getattr(target, "host", None), *_extension_hosts(target)):
        if isinstance(candidate, Host):
            return candidate
    raise SystemExit(f"{spec} does not give a host (hookspecs.services.Host)")


def _extension_hosts(app: object) -> list[object]:
    extensions = getattr(app, "extensions", None)
    if not isinstance(extensions, dict):
        return []
    return [getattr(value, "host", None) for value in extensions.values()]


def run_sync_command(
    *,
    host_spec: str | None,
    loop: bool,
    full: bool,
    dry_run: bool,
    chat_ids: tuple[int, ...],
    sferum: SferumAccess,
    sleep: Callable[[float], None] = time.sleep,
    max_rounds: int | None = None,
) -> int:
    """Run the service from the command line; returns the exit code.

    :param sferum: the module's way in to Sferum (the ``sferum`` command passes the plugin object's).
    """
    spec = host_spec or os.environ.get(HOST_ENV_VAR)
    if not spec:
        print(f"name the host with --host module:factory or {HOST_ENV_VAR}", file=sys.stderr)
        return 2
    host = load_host(spec)
    chats = chat_ids or None
    rounds = 0
    while True:
        settings = configured(host.settings.get(MODULE_NAME))
        if settings is None:
            print("the sferum module is not configured", file=sys.stderr)
            return 1
        due = full or (
            loop
            and full_pass_due(
                host, settings.account, timedelta(minutes=settings.sync_interval_minutes), host.clock.now()
            )
        )
        report = run_for_host(host, sferum, full=due, dry_run=dry_run, chat_pks=chats)
        if report is not None:
            print(_describe(report), flush=True)
        rounds += 1
        if not loop or (max_rounds is not None and rounds >= max_rounds):
            return 0
        sleep(QUEUE_INTERVAL.total_seconds())


def _describe(report: PassReport) -> str:
    line = (
        f"{report.kind}: chats={report.chats} created={report.created} added={report.added} "
        f"removed={report.removed} failed={report.failed} requests={report.requests}"
    )
    if report.workers > 1:
        line += f" workers={report.workers}"
    failures = report.failures
    if failures.connection or failures.rate_limited or failures.quota:
        line += f" connection_errors={failures.connection} rate_limited={failures.rate_limited} quota={failures.quota}"
    if report.unreachable:
        line += " unreachable"
    if report.paused_until is not None:
        line += f" paused_until={report.paused_until.isoformat()}"
    if report.note:
        line += f" note={report.note}"
    for chat_pk, diff in sorted(report.preview.items()):
        line += f"\n  chat {chat_pk}: add {sorted(diff.add)} remove {sorted(diff.remove)}"
    return line
