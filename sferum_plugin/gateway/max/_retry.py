"""Honour MAX's ``Retry-After`` within the gateway's retry policy, without changing it for VK.

The policy (:class:`~sferum_plugin.gateway.retry.RetryPolicy`) already repeats 429 and 5xx (they are
``ServerError``) with its own backoff.  :func:`honouring_retry_after` returns a copy whose wait is at least what MAX
asked for, so that a retry never comes back earlier than the server said.
"""

from __future__ import annotations

import attrs
import tenacity
from tenacity.wait import WaitBaseT

from sferum_plugin.gateway.max.errors import MaxTransientError
from sferum_plugin.gateway.retry import RetryPolicy


@attrs.frozen
class RetryAfterWait:
    """Wait the policy's own backoff, or MAX's ``Retry-After`` if longer (that one taken up to ``cap`` seconds).

    (slack_sdk's ``RateLimitErrorRetryHandler`` honours the server's pacing the same way.)
    """

    backoff: WaitBaseT
    cap: float

    def __call__(self, state: tenacity.RetryCallState) -> float:
        wait = float(self.backoff(state))
        error = state.outcome.exception() if state.outcome is not None else None
        if isinstance(error, MaxTransientError) and error.retry_after is not None:
            wait = max(wait, min(error.retry_after, self.cap))
        return wait


def honouring_retry_after(policy: RetryPolicy, cap: float) -> RetryPolicy:
    """Return ``policy`` with waits that honour ``Retry-After`` (up to ``cap`` seconds); all else unchanged."""
    if isinstance(policy.wait, RetryAfterWait):
        return policy
    return attrs.evolve(policy, wait=RetryAfterWait(backoff=policy.wait, cap=cap))
