"""The gateway's whole retry policy: what is repeated, how often, how long to wait, and what never is.

=================================  ==========================  =========================================
failure                            idempotent call             non-idempotent call (createChat, calls.start,
                                                               VK ID code exchange)
=================================  ==========================  =========================================
connect error / connect timeout    retried with backoff        retried with backoff (nothing was sent)
read timeout, dropped connection   retried with backoff        ``OutcomeUnknownError`` at once
HTTP 5xx                           retried with backoff        ``OutcomeUnknownError`` at once
HTTP 429                           retried with backoff        retried with backoff (refused unapplied)
API error 6 (too many requests)    retried with backoff        retried with backoff (rejected unapplied)
API errors 1, 10 (server side)     retried with backoff        ``OutcomeUnknownError`` at once
API errors 9, 29, 14, 984          ``QuotaExceededError`` at once, with ``resume_at``; never looped
malformed reply                    surfaces at once            ``OutcomeUnknownError`` at once
any other API error                surfaces at once
=================================  ==========================  =========================================

Which failures are ambiguous is :func:`~sferum_plugin.gateway.errors.may_have_been_applied`, the one rule.
Backoff is capped exponential with jitter (:class:`CappedExponentialBackoff`: 0.5 s, 1 s, 2 s ... plus up to
0.5 s of randomness, at most 8 s); the wait strategy and the sleep function are injectable so that tests run
with zero waits.  When the attempts run out the last error is raised as it is.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import attrs
import tenacity
from tenacity.wait import WaitBaseT

from sferum_plugin.gateway.codes import VkErrorCode
from sferum_plugin.gateway.config import GatewayConfig
from sferum_plugin.gateway.errors import (
    OutcomeUnknownError,
    QuotaExceededError,
    RetryableApiError,
    ServerError,
    SferumError,
    TransportError,
    api_error_class,
    may_have_been_applied,
)
from sferum_plugin.gateway.redact import install_redaction

__all__ = [
    "DEFAULT_QUOTA_PAUSES",
    "FLOOD_PAUSES",
    "CappedExponentialBackoff",
    "RetryPolicy",
    "escalate",
    "is_transient",
    "quota_pause",
]

logger = logging.getLogger(__name__)
# Defence in depth: whatever this module logs is masked before any handler sees it.
install_redaction(logger)

T = TypeVar("T")

FLOOD_PAUSES: tuple[float, ...] = (600.0, 1800.0, 7200.0, 21600.0)
"""Seconds to pause after flood control (9): 10 min, and when it comes back at once 30 min, 2 h, then 6 h at most.
Flood control is usually short, but it can last hours: pausing 10 min again and again would only meet it again."""

DEFAULT_QUOTA_PAUSES: Mapping[int, Sequence[float]] = {
    VkErrorCode.FLOOD: FLOOD_PAUSES,
    VkErrorCode.RATE_LIMIT: (3600.0,),
    # Assumption: a captcha (14) or a spam restriction (984) is not lifted by asking again; an hour, and six hours
    # for a restriction, keep a service from meeting it again and again while a person sorts it out in Sferum.
    VkErrorCode.CAPTCHA: (3600.0,),
    VkErrorCode.SPAM_RESTRICTION: (21600.0,),
}
"""Seconds to pause after the 1st, 2nd, ... quota error of a code in a row; the last one repeats (the cap).
Assumption: VK sends no resume time with 9 or 29; method quotas (29) are counted per hour or day
(dev.vk.com "API limits"), so waiting an hour is enough each time."""


def quota_pause(code: int, strike: int = 1, pauses: Mapping[int, Sequence[float]] = DEFAULT_QUOTA_PAUSES) -> float:
    """Seconds to pause after the ``strike``-th quota error ``code`` in a row (an unknown code: the longest pause)."""
    ladder = pauses.get(code) or (max((p for steps in pauses.values() for p in steps), default=3600.0),)
    return ladder[min(max(strike, 1), len(ladder)) - 1]


def escalate(
    error: QuotaExceededError, strike: int, pauses: Mapping[int, Sequence[float]] = DEFAULT_QUOTA_PAUSES
) -> QuotaExceededError:
    """The same error as the ``strike``-th in a row: its pause, and so ``resume_at``, taken up the ladder.

    The gateway sees one request at a time; whoever keeps the count across passes (the sync, with its pause) calls
    this.
    """
    pause = quota_pause(error.code, strike, pauses)
    return type(error)(
        error.code,
        error.error_msg,
        retry_after=pause,
        resume_at=error.resume_at + timedelta(seconds=pause - error.retry_after),
        strike=strike,
        method=error.method,
        request_params=error.request_params,
    )


def is_transient(error: BaseException) -> bool:
    """Is ``error`` worth repeating the same call for?"""
    return isinstance(error, TransportError | ServerError | RetryableApiError)


def _utc_now() -> datetime:
    return datetime.now(UTC)


@attrs.frozen
class CappedExponentialBackoff:
    """Wait ``initial * 2**(n-1)`` seconds before retry ``n``, plus up to ``jitter`` seconds, at most ``cap``.

    The randomness is a parameter, so that tests can pin it (tenacity's own ``wait_exponential_jitter``
    changed its signature between versions 8 and 9).
    """

    initial: float = 0.5
    cap: float = 8.0
    jitter: float = 0.5
    uniform: Callable[[float, float], float] = random.uniform

    def __call__(self, state: tenacity.RetryCallState) -> float:
        exponential = self.initial * 2.0 ** min(state.attempt_number - 1, 32)
        return min(self.cap, exponential + self.uniform(0.0, self.jitter))


@attrs.frozen
class RetryPolicy:
    """How the gateway repeats a call after a transient failure.

    :param max_attempts: attempts including the first.
    :param wait: a tenacity wait strategy (``tenacity.wait_none()`` in tests).
    :param sleep: how to wait (a recorder in tests).
    :param clock: the current time, for ``QuotaExceededError.resume_at``.
    :param quota_pauses: seconds to pause per quota error code, for the 1st, 2nd, ... in a row.
    """

    max_attempts: int = 4
    wait: WaitBaseT = attrs.field(factory=CappedExponentialBackoff)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], datetime] = _utc_now
    quota_pauses: Mapping[int, Sequence[float]] = DEFAULT_QUOTA_PAUSES

    @classmethod
    def from_config(cls, config: GatewayConfig) -> RetryPolicy:
        """Return the default policy with the configured number of attempts."""
        return cls(max_attempts=config.max_attempts)

    def run(self, attempt: Callable[[], T], *, method: str, idempotent: bool) -> T:
        """Call ``attempt`` until it succeeds, fails permanently, or runs out of attempts.

        :param method: the VK method, for errors and logs.
        :param idempotent: False for calls that must never be repeated after an ambiguous failure; those
            raise :class:`OutcomeUnknownError` instead.
        """

        def guarded() -> T:
            try:
                return attempt()
            except SferumError as error:
                if not idempotent and may_have_been_applied(error) and not isinstance(error, OutcomeUnknownError):
                    raise OutcomeUnknownError(
                        f"the call may or may not have been applied ({error.message}); "
                        "reconcile before calling it again",
                        method=method,
                        request_params=error.request_params,
                    ) from error
                raise

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.max_attempts),
            wait=self.wait,
            retry=tenacity.retry_if_exception(is_transient),
            sleep=self.sleep,
            before_sleep=_log_retry,
            reraise=True,
        )
        return retrying(guarded)

    def quota_error(
        self, code: int, error_msg: str, *, method: str, request_params: Mapping[str, object]
    ) -> QuotaExceededError:
        """Build the error for quota code ``code`` (9 or 29), with when to resume; it counts as the first in a row
        (:func:`escalate` takes it further)."""
        pause = quota_pause(code, 1, self.quota_pauses)
        kind = api_error_class(code)  # a captcha (14) and a spam restriction (984) pause as quotas do
        quota_class = kind if issubclass(kind, QuotaExceededError) else QuotaExceededError
        return quota_class(
            code,
            error_msg,
            retry_after=pause,
            resume_at=self.clock() + timedelta(seconds=pause),
            method=method,
            request_params=request_params,
        )


def _log_retry(state: tenacity.RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome is not None else None
    pause = state.next_action.sleep if state.next_action is not None else 0.0
    logger.warning("attempt %d failed (%s); retrying in %.2f s", state.attempt_number, error, pause)
