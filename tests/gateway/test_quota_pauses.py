"""Quota errors: flood control that comes back at once pauses longer each time, up to a cap."""

from __future__ import annotations

from datetime import timedelta

from sferum_plugin.gateway import QuotaExceededError, RetryPolicy
from sferum_plugin.gateway.retry import escalate, quota_pause
from tests.gateway.conftest import NOW


def test_flood_control_pauses_climb_a_ladder_to_six_hours() -> None:
    assert [quota_pause(9, strike) for strike in range(1, 7)] == [600, 1800, 7200, 21600, 21600, 21600]


def test_a_method_quota_pauses_an_hour_every_time() -> None:
    assert [quota_pause(29, strike) for strike in range(1, 4)] == [3600, 3600, 3600]


def test_an_escalated_error_says_when_to_resume_accordingly(retry: RetryPolicy) -> None:
    first = retry.quota_error(9, "Flood control", method="execute", request_params={"code": "return 1;"})

    third = escalate(first, 3)

    assert (first.strike, first.retry_after, first.resume_at) == (1, 600.0, NOW + timedelta(minutes=10))
    assert isinstance(third, QuotaExceededError)
    assert (third.strike, third.retry_after, third.resume_at) == (3, 7200.0, NOW + timedelta(hours=2))
    assert (third.code, third.method, third.request_params) == (9, "execute", first.request_params)
