from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sferum_plugin import settings

GOOD = {
    "app_id": "51234567",
    "service_token": "svc_" + "a" * 40,
    "app_token": "vk1.a." + "b" * 60,
    "api_base_url": "https://api.vk.me",
    "id_base_url": "https://id.vk.com",
    "web_url": "https://web.vk.me",
    "api_version": "5.199",
    "requests_per_second": "3",
    "timeout_seconds": "10",
}


def _fields_in_error(values: dict[str, str]) -> list[str]:
    return [error.field for error in settings.validate(values)]


def test_complete_settings_are_accepted() -> None:
    assert settings.validate(GOOD) == []


@pytest.mark.parametrize("app_id", ["0", "-5", "12a", "99999999999"])
def test_app_id_must_be_a_positive_integer(app_id: str) -> None:
    assert _fields_in_error({**GOOD, "app_id": app_id}) == ["app_id"]


@pytest.mark.parametrize("field", ["service_token", "app_token"])
@pytest.mark.parametrize(
    "bad", ["", "short", "has space inside token", "tab\tinside-the-token-xx", "кириллица-токен-xxxxx"]
)
def test_tokens_are_refused_naming_the_field(field: str, bad: str) -> None:
    errors = settings.validate({**GOOD, field: bad})
    assert [e.field for e in errors] == [field]
    assert errors[0].message


def test_the_same_token_in_both_fields_is_refused() -> None:
    assert _fields_in_error({**GOOD, "app_token": GOOD["service_token"]}) == ["app_token"]


@pytest.mark.parametrize("url", ["ftp://api.vk.me", "https://", "https://user:pw@api.vk.me", "https://api.vk.me/?a=1"])
def test_base_urls_must_be_plain_http_addresses(url: str) -> None:
    assert _fields_in_error({**GOOD, "api_base_url": url}) == ["api_base_url"]


def test_api_version_has_the_vk_form() -> None:
    assert _fields_in_error({**GOOD, "api_version": "latest"}) == ["api_version"]


@given(st.text(min_size=1, max_size=80))
def test_a_token_is_accepted_only_if_printable_ascii_without_spaces(token: str) -> None:
    errors = _fields_in_error({**GOOD, "app_token": token})
    acceptable = (
        token.isascii()
        and token.isprintable()
        and not any(c.isspace() for c in token)
        and len(token) >= 16
        and token != GOOD["service_token"]
    )
    assert (errors == []) == acceptable


def test_typed_settings_hide_tokens_from_repr() -> None:
    typed = settings.SferumSettings.from_stored(GOOD)
    assert typed is not None
    assert GOOD["app_token"] not in repr(typed)
    assert GOOD["service_token"] not in repr(typed)


def test_module_is_unconfigured_until_every_credential_is_stored() -> None:
    assert settings.SferumSettings.from_stored({"app_id": "1", "service_token": "x" * 20}) is None
    typed = settings.SferumSettings.from_stored({**GOOD, "api_base_url": "http://127.0.0.1:8001/"})
    assert typed is not None
    assert typed.api_base_url == "http://127.0.0.1:8001"


def test_schedule_hint_refuses_control_characters_but_keeps_line_breaks() -> None:
    assert settings.validate_schedule({"sferum_online_lesson_hint": "строка 1\nhttps://x.test\r\n"}) == []
    assert [e.field for e in settings.validate_schedule({"sferum_online_lesson_hint": "a\x00b"})] == [
        "sferum_online_lesson_hint"
    ]
