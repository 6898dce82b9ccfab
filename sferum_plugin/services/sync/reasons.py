"""What a failed Sferum operation means, in words an administrator understands, and whether to try again.

The verdicts cover both platforms' errors: VK Messenger's API errors and MAX's HTTP statuses
(:mod:`sferum_plugin.gateway.max.errors`), plus :class:`PersonRefusedError`, one person MAX did not add or remove
although the request as a whole succeeded.
"""

from __future__ import annotations

import enum
from datetime import timedelta

from sferum_plugin.gateway.errors import (
    ChatNotFoundError,
    PermanentApiError,
    QuotaExceededError,
    SferumError,
)
from sferum_plugin.gateway.max.errors import (
    MaxApiError,
    MaxForbiddenError,
    MaxNotFoundError,
    MaxTransientError,
    MaxUnauthorizedError,
)
from sferum_plugin.services.explain import (
    MAX_SYNC_ADD_REFUSED,
    MAX_SYNC_CHAT_DENIED,
    MAX_SYNC_CHAT_GONE,
    MAX_SYNC_REMOVE_REFUSED,
    MAX_SYNC_TOKEN_REFUSED,
    Retry,
    explain,
)

__all__ = ["MAX_ATTEMPTS", "PersonRefusedError", "Retry", "Verdict", "backoff", "reason_of", "verdict_of"]

MAX_ATTEMPTS = 8
"""Transient failures of one operation before it is given up as failed (about two hours of backoff)."""


class Verdict(enum.Enum):
    """What to do with an operation after a failure."""

    RETRY = "retry"  # transient: try again after a backoff
    PAUSE = "pause"  # quota: the whole service waits until the resume time
    VANISHED = "vanished"  # the chat is gone (VK 927, MAX 404)
    FAILED = "failed"  # permanent: stop retrying, show to admins
    DENIED = "denied"  # MAX 403: the bot may not manage the chat's members; the chat stops until checked again
    STOP = "stop"  # MAX 401: the credentials are refused; the whole service stops until they change


class PersonRefusedError(SferumError):
    """MAX answered the request but did not add (or remove) this one person: their operation fails for good.

    :param code: MAX's reason (``add.participant.privacy``, ``add.participant.not.found``; ``""`` when MAX gave
        none), or ``"remove"`` for a removal MAX refused while the bot may manage the chat (its owner, say).
    """

    def __init__(self, code: str, *, method: str | None = None) -> None:
        super().__init__(f"MAX refused the person: {code or 'no reason given'}", method=method)
        self.code = code


def verdict_of(error: SferumError) -> Verdict:
    """Classify ``error`` (see the gateway's error tree)."""
    if isinstance(error, QuotaExceededError):
        return Verdict.PAUSE
    if isinstance(error, ChatNotFoundError | MaxNotFoundError):
        return Verdict.VANISHED
    if isinstance(error, MaxUnauthorizedError):
        return Verdict.STOP
    if isinstance(error, MaxForbiddenError):
        return Verdict.DENIED
    if isinstance(error, PermanentApiError | PersonRefusedError):
        return Verdict.FAILED
    if isinstance(error, MaxApiError) and not isinstance(error, MaxTransientError):
        return Verdict.FAILED  # 400, 405, ``success: false``: repeating the same request cannot help
    return Verdict.RETRY


def backoff(attempts: int) -> timedelta:
    """Wait before retry ``attempts`` of an operation: 30 s doubling, at most an hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


_MAX_REASONS: tuple[tuple[type[SferumError], str], ...] = (
    (MaxUnauthorizedError, MAX_SYNC_TOKEN_REFUSED),
    (MaxForbiddenError, MAX_SYNC_CHAT_DENIED),
    (MaxNotFoundError, MAX_SYNC_CHAT_GONE),
)


def reason_of(error: SferumError, *, retry: Retry = Retry.AUTOMATIC) -> str:
    """The reason to store and show for ``error`` (a Russian source string, translated where it is shown; a pause's
    ``%(until)s`` is filled from the service's ``paused_until`` there).  The worker repeats transient
    failures, so by default the reason says so; ``Retry.GIVEN_UP`` once it has stopped (see :mod:`.explain`)."""
    if isinstance(error, PersonRefusedError):
        if error.code == "remove":
            return MAX_SYNC_REMOVE_REFUSED
        return MAX_SYNC_ADD_REFUSED.get(error.code, MAX_SYNC_ADD_REFUSED[""])
    for kind, text in _MAX_REASONS:
        if isinstance(error, kind):
            return text
    return explain(error, retry=retry).message
