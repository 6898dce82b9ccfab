"""What a failed Sferum operation means, in words an administrator understands, and whether to try again."""

from __future__ import annotations

import enum
from datetime import timedelta

from sferum_plugin.gateway.errors import (
    ChatNotFoundError,
    PermanentApiError,
    QuotaExceededError,
    SferumError,
)
from sferum_plugin.services.explain import Retry, explain

__all__ = ["MAX_ATTEMPTS", "Retry", "Verdict", "backoff", "reason_of", "verdict_of"]

MAX_ATTEMPTS = 8
"""Transient failures of one operation before it is given up as failed (about two hours of backoff)."""


class Verdict(enum.Enum):
    """What to do with an operation after a failure."""

    RETRY = "retry"  # transient: try again after a backoff
    PAUSE = "pause"  # quota: the whole service waits until the resume time
    VANISHED = "vanished"  # the chat is gone (927)
    FAILED = "failed"  # permanent: stop retrying, show to admins


def verdict_of(error: SferumError) -> Verdict:
    """Classify ``error`` (see the gateway's error tree)."""
    if isinstance(error, QuotaExceededError):
        return Verdict.PAUSE
    if isinstance(error, ChatNotFoundError):
        return Verdict.VANISHED
    if isinstance(error, PermanentApiError):
        return Verdict.FAILED
    return Verdict.RETRY


def backoff(attempts: int) -> timedelta:
    """Wait before retry ``attempts`` of an operation: 30 s doubling, at most an hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def reason_of(error: SferumError, *, retry: Retry = Retry.AUTOMATIC) -> str:
    """The reason to store and show for ``error`` (a Russian source string, translated where it is shown; a quota
    pause's ``%(until)s`` is filled from the service's ``paused_until`` there).  The worker repeats transient
    failures, so by default the reason says so; ``Retry.GIVEN_UP`` once it has stopped (see :mod:`.explain`)."""
    return explain(error, retry=retry).message
