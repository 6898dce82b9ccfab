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


# --- the platform: VK Messenger or MAX -----------------------------------------------------------------------------

BOT_TOKEN = "max-bot-token-" + "c" * 40
MAX_GOOD = {
    "platform": "max",
    "max_bot_token": BOT_TOKEN,
    "max_api_url": "https://platform-api2.max.ru",
    "max_updates": "webhook",
    "max_webhook_url": "https://lk.university.test/m/sferum/max/webhook",
    "max_webhook_secret": "a-webhook-secret_0123456789",
    "timeout_seconds": "10",
}


def test_vk_is_the_default_platform_and_needs_its_credentials_but_not_the_bot_token() -> None:
    assert settings.validate({**GOOD, "platform": "vk"}) == []
    errors = settings.validate({**GOOD, "platform": "vk", "app_id": "", "service_token": "", "app_token": ""})
    assert {e.field: e.message for e in errors} == {
        "app_id": "Поле «APP ID» обязательно для VK Мессенджера.",
        "service_token": "Поле «Сервисный токен» обязательно.",
        "app_token": "Поле «Токен приложения» обязательно.",
    }


def test_max_needs_the_bot_token_but_not_vk_credentials() -> None:
    assert settings.validate(MAX_GOOD) == []
    errors = settings.validate({**MAX_GOOD, "max_bot_token": ""})
    assert [(e.field, e.message) for e in errors] == [("max_bot_token", "Поле «Токен бота» обязательно.")]
    assert _fields_in_error({**MAX_GOOD, "max_bot_token": "has a space in the token"}) == ["max_bot_token"]


def test_the_other_platforms_stored_values_are_kept_and_still_checked_if_given() -> None:
    assert settings.validate({**GOOD, **MAX_GOOD}) == []
    assert settings.validate({**GOOD, **MAX_GOOD, "platform": "vk"}) == []
    assert _fields_in_error({**MAX_GOOD, "app_id": "-3"}) == ["app_id"]


def test_an_unknown_platform_is_refused_naming_the_field() -> None:
    assert _fields_in_error({**GOOD, "platform": "telegram"}) == ["platform"]


def test_webhook_needs_a_public_https_address_and_a_secret() -> None:
    assert _fields_in_error({**MAX_GOOD, "max_webhook_url": ""}) == ["max_webhook_url"]
    assert _fields_in_error({**MAX_GOOD, "max_webhook_url": "http://lk.university.test/hook"}) == ["max_webhook_url"]
    assert _fields_in_error({**MAX_GOOD, "max_webhook_secret": "bad secret!"}) == ["max_webhook_secret"]
    (missing,) = settings.validate({**MAX_GOOD, "max_webhook_secret": ""})
    assert missing.field == "max_webhook_secret"
    assert missing.message.startswith("Укажите секрет webhook")
    # No secret is suggested on the page: the message is the same text every time.
    assert settings.validate({**MAX_GOOD, "max_webhook_secret": ""})[0].message == missing.message


def test_long_polling_needs_neither_address_nor_secret() -> None:
    polling = {**MAX_GOOD, "max_updates": "polling", "max_webhook_url": "", "max_webhook_secret": ""}
    assert settings.validate(polling) == []
    assert _fields_in_error({**polling, "max_updates": "carrier-pigeon"}) == ["max_updates"]
    assert _fields_in_error({**polling, "max_api_url": "ftp://platform-api2.max.ru"}) == ["max_api_url"]


def test_max_chosen_means_vk_flows_are_not_configured_and_max_settings_are_read() -> None:
    stored = {**GOOD, **MAX_GOOD, "max_api_url": "http://127.0.0.1:8002/"}
    assert settings.SferumSettings.from_stored(stored) is None
    typed = settings.MaxSettings.from_stored(stored)
    assert typed is not None
    assert (typed.bot_token, typed.api_url, typed.updates) == (BOT_TOKEN, "http://127.0.0.1:8002", "webhook")
    assert BOT_TOKEN not in repr(typed)
    assert MAX_GOOD["max_webhook_secret"] not in repr(typed)
    # Switching back: the VK settings were kept and serve again; MAX's are not read on VK.
    assert settings.SferumSettings.from_stored({**stored, "platform": "vk"}) is not None
    assert settings.MaxSettings.from_stored({**stored, "platform": "vk"}) is None
    assert settings.MaxSettings.from_stored({**MAX_GOOD, "max_bot_token": ""}) is None
