"""Numbers people type or post: never an exception, never a value the database cannot hold."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sferum_plugin.numbers import INT32_MAX, parse_int
from sferum_plugin.settings import DEFAULTS, SferumSettings, validate

HOSTILE = ["²", "١٢", "１２", "-1", "+5", "1e3", "0x10", "1_000", "9" * 40, str(INT32_MAX + 1), " ", "", "\x00",
           " 1", "1 ", "\t1", "1\n", "+1", "1_0", "١", "1.0", "0x1", str(2**63), "1" * 5000,
           "0" * 40 + "1"]  # fmt: skip


@given(st.text())
def test_any_text_is_a_number_in_range_or_none(raw: str) -> None:
    parsed = parse_int(raw)
    assert parsed is None or 0 <= parsed <= INT32_MAX


@given(st.integers(min_value=0, max_value=INT32_MAX))
def test_plain_ascii_numbers_read_back_and_nothing_around_them_is_trimmed(number: int) -> None:
    assert parse_int(str(number)) == number
    assert parse_int(f" {number}") is None
    assert parse_int(f"{number} ") is None


def test_digits_python_would_accept_but_a_form_must_not_are_refused() -> None:
    assert [parse_int(raw) for raw in HOSTILE] == [None] * len(HOSTILE)
    assert parse_int("7", low=1, high=5) is None


def test_settings_refuse_hostile_numbers_naming_the_field() -> None:
    base = {"app_id": "51234567", "service_token": "s" * 40, "app_token": "a" * 40}
    for name in ("app_id", "requests_per_second", "auto_end_after_minutes", "sync_interval_minutes",
                 "timeout_seconds"):  # fmt: skip
        for raw in ("²", "9" * 40, "١٢"):
            errors = validate({**base, name: raw})
            assert [error.field for error in errors] == [name], (name, raw, errors)


def test_a_stored_value_changed_behind_the_forms_back_falls_back_to_the_default() -> None:
    stored = {"app_id": "51234567", "service_token": "s" * 40, "app_token": "a" * 40, "requests_per_second": "²",
              "sync_interval_minutes": "9" * 40}  # fmt: skip
    settings = SferumSettings.from_stored(stored)
    assert settings is not None
    assert settings.requests_per_second == float(DEFAULTS["requests_per_second"])
    assert settings.sync_interval_minutes == int(DEFAULTS["sync_interval_minutes"])
    assert SferumSettings.from_stored({**stored, "app_id": "²"}) is None  # not configured, not a crash
