"""How a client's requests fared: the failed attempts by kind, for the sync's history and its «no connection» banner.

Every attempt counts, the ones the retry policy repeats included, so a pass that got through after three
«too many requests» still shows them.  A client keeps one :class:`FailureTally` for its life; a caller that wants
the figures of a stretch of work takes a :meth:`~FailureTally.snapshot` before and after and subtracts.
"""

from __future__ import annotations

import threading

import attrs

from sferum_plugin.gateway.codes import VkErrorCode
from sferum_plugin.gateway.errors import (
    MalformedResponseError,
    QuotaExceededError,
    RetryableApiError,
    ServerError,
    SferumError,
    TransportError,
)

__all__ = ["FailureCounts", "FailureTally"]


@attrs.frozen
class FailureCounts:
    """Figures of a client's attempts.

    :param attempts: requests sent or tried.
    :param connection: attempts with no reply from the API: no connection, a timeout, an HTTP 5xx, an unreadable
        reply.
    :param rate_limited: refused for pace: API error 6, HTTP 429 (each call of an ``execute`` counts).
    :param quota: refused for a quota: API errors 9 and 29 (each call of an ``execute`` counts).
    :param reached: whether the last attempt got a reply from the API (``None`` before any attempt).
    """

    attempts: int = 0
    connection: int = 0
    rate_limited: int = 0
    quota: int = 0
    reached: bool | None = None

    def since(self, earlier: FailureCounts) -> FailureCounts:
        """The figures of the attempts made after ``earlier`` (``reached`` stays the latest)."""
        return FailureCounts(
            attempts=self.attempts - earlier.attempts,
            connection=self.connection - earlier.connection,
            rate_limited=self.rate_limited - earlier.rate_limited,
            quota=self.quota - earlier.quota,
            reached=self.reached if self.attempts > earlier.attempts else None,
        )


def _is_connection_failure(error: SferumError) -> bool:
    if isinstance(error, ServerError):
        return error.status_code != 429
    return isinstance(error, TransportError | MalformedResponseError)


def _is_rate_limited(error: SferumError) -> bool:
    if isinstance(error, ServerError):
        return error.status_code == 429
    return isinstance(error, RetryableApiError) and error.code == VkErrorCode.TOO_MANY


class FailureTally:
    """The running figures of one client (thread-safe: a client may serve several threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = FailureCounts()

    def __repr__(self) -> str:
        return f"FailureTally({self._counts!r})"

    def snapshot(self) -> FailureCounts:
        """The figures so far."""
        with self._lock:
            return self._counts

    def attempt(self, error: SferumError | None) -> None:
        """Count one attempt, which succeeded (``None``) or failed with ``error``."""
        with self._lock:
            counts = self._counts
            connection = error is not None and _is_connection_failure(error)
            self._counts = attrs.evolve(
                counts,
                attempts=counts.attempts + 1,
                connection=counts.connection + connection,
                rate_limited=counts.rate_limited + (error is not None and _is_rate_limited(error)),
                quota=counts.quota + isinstance(error, QuotaExceededError),
                reached=not connection,
            )

    def refusal(self, error: SferumError) -> None:
        """Count a call refused inside an ``execute`` that Sferum answered (no attempt of its own)."""
        with self._lock:
            counts = self._counts
            self._counts = attrs.evolve(
                counts,
                rate_limited=counts.rate_limited + _is_rate_limited(error),
                quota=counts.quota + isinstance(error, QuotaExceededError),
            )
