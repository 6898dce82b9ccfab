"""The module's way in to Sferum as tests build it: the real gateway, with a retry policy that never waits."""

from __future__ import annotations

import httpx
import tenacity

from sferum_plugin.gateway import RetryPolicy, SferumConnector
from sferum_plugin.plugin import SferumModule
from sferum_plugin.services.connection import SferumAccess

__all__ = ["NO_WAIT", "no_wait_access", "no_wait_module"]

NO_WAIT = RetryPolicy(max_attempts=4, wait=tenacity.wait_none(), sleep=lambda seconds: None)
"""The default number of attempts, without the backoff between them."""


def no_wait_access(transport: httpx.BaseTransport | None = None) -> SferumAccess:
    """A :class:`SferumAccess` over real HTTP (or ``transport``) whose retries do not wait."""
    return SferumAccess(SferumConnector(transport=transport, retry=NO_WAIT))


def no_wait_module(transport: httpx.BaseTransport | None = None) -> SferumModule:
    """The module as the host registers it, reaching Sferum through :func:`no_wait_access`."""
    return SferumModule(no_wait_access(transport))
