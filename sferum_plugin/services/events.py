"""What a handler of a platform's event receives (:data:`sferum_plugin.services.inbox.HANDLERS`).

A leaf module (it imports nothing of the module's services), so that the modules whose functions ``HANDLERS``
lists can import :class:`EventContext` at run time without importing the inbox back.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import attrs
from sqlalchemy.orm import Session

from hookspecs.services import Host
from sferum_plugin.account import Account

__all__ = ["EventContext", "Handler"]


@attrs.frozen
class EventContext:
    """One event being handled.

    :param host: the host services.
    :param session: the transaction that also marks the event processed: what the handler writes here is committed
        with that mark, or rolled back with it when the handler raises (the event is then tried again later).
    :param account: the platform's account the event belongs to (MAX's: ``Account("max", 0)``).
    :param now: when the inbox job started this run.
    """

    host: Host
    session: Session
    account: Account
    now: datetime


Handler = Callable[[EventContext, Any], None]
"""``handler(context, update)``: ``update`` is the typed event of the type the handler is registered for
(:func:`sferum_plugin.gateway.max.read_update`), e.g. a ``UserRemovedUpdate`` for ``"user_removed"`` (typed ``Any``
here because each handler takes its own type).  It records what follows (a sync request, a link) in
``context.session`` and should be quick: the transaction stays open while it runs.  Raising rolls its writes back
and leaves the event for a later try."""
