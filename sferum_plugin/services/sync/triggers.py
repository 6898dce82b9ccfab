"""Host notifications → durable sync requests (quick: one INSERT, no Sferum request, no directory query)."""

from __future__ import annotations

from collections.abc import Sequence

from hookspecs.services import Host
from hookspecs.types import MembershipChange, PersonKind, PersonStatusChange
from sferum_plugin import MODULE_NAME
from sferum_plugin.services.sync.queue import enqueue, lift_credentials_pause, service_row
from sferum_plugin.settings import configured_account

__all__ = ["on_memberships_changed", "on_people_status_changed", "request_sync"]


def on_people_status_changed(host: Host, changes: Sequence[PersonStatusChange]) -> None:
    """Enrolled, expelled, hired, dismissed: queue the person (resolved to chats by the worker)."""
    request_sync(host, [f"{change.kind.value}:{change.person_id}" for change in changes])


def on_memberships_changed(host: Host, changes: Sequence[MembershipChange]) -> None:
    """Moved between groups or units: queue both the old and the new container."""
    scopes: list[str] = []
    for change in changes:
        prefix = "group" if change.kind == PersonKind.STUDENT else "unit"
        scopes.extend(f"{prefix}:{cid}" for cid in (change.old_container_id, change.new_container_id) if cid)
        scopes.append(f"{change.kind.value}:{change.person_id}")
    request_sync(host, scopes)


def request_sync(host: Host, scopes: Sequence[str]) -> None:
    """Queue ``scopes`` (coalesced with requests already queued); nothing while the module's tables are absent.

    A request for everything (``"all"``: «Синхронизировать сейчас») is the administrator asking for a sync: it also
    ends a pause for refused credentials (MAX 401), so the next pass tries the token again.
    """
    if scopes and host.settings.is_installed(MODULE_NAME):
        account = configured_account(host.settings.get(MODULE_NAME)) if "all" in scopes else None
        with host.db.session() as session:
            enqueue(session, scopes, host.clock.now())
            if account is not None:
                lift_credentials_pause(service_row(session, account), None)
