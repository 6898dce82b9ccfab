"""The platform port: the registry picks the chosen platform's adapter; MAX's check words each failure."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import pytest

from sferum_plugin.gateway.errors import MalformedResponseError, SferumError, TransportError
from sferum_plugin.gateway.max import MaxBot, MaxForbiddenError, MaxServiceUnavailableError, MaxUnauthorizedError
from sferum_plugin.services.platforms import PLATFORMS, MaxPlatform, VkPlatform, platform_for
from sferum_plugin.settings import PLATFORM_CHOICES, MaxSettings

BOT_TOKEN = "max-bot-token-" + "d" * 40
ON_MAX = {"platform": "max", "max_bot_token": BOT_TOKEN, "max_api_url": "https://max.test/"}


class FakeAccess:
    """Answers ``check_max_bot`` with a bot or raises; records the settings it was given."""

    def __init__(self, answer: MaxBot | SferumError) -> None:
        self.answer = answer
        self.asked: list[MaxSettings] = []

    def check_max_bot(self, settings: MaxSettings) -> MaxBot:
        self.asked.append(settings)
        if isinstance(self.answer, SferumError):
            raise self.answer
        return self.answer


def _check(stored: dict[str, str], access: Any, locale: str = "ru") -> Any:
    return platform_for(stored).check_connection(stored, access, locale=locale, timezone=UTC)


def test_the_registry_knows_every_platform_of_the_setting_and_vk_is_the_default() -> None:
    assert set(PLATFORMS) == {code for code, _ in PLATFORM_CHOICES}
    assert all(platform.code == code for code, platform in PLATFORMS.items())
    assert isinstance(platform_for({}), VkPlatform)
    assert isinstance(platform_for({"platform": ""}), VkPlatform)
    assert isinstance(platform_for({"platform": "max"}), MaxPlatform)


def test_max_check_names_the_bot() -> None:
    access = FakeAccess(MaxBot(user_id=1, name="Университет", username="uni_bot"))
    report = _check(ON_MAX, access)
    line, events = report.lines
    assert (line.key, line.label, line.ok) == ("max_bot_token", "Токен бота", True)
    # A second line for MAX's events (tests/inbox/test_subscription.py checks it against the sandbox); here the
    # webhook has no address and secret, so it says what to fill in without asking MAX.
    assert (events.key, events.label, events.ok) == ("max_events", "События бота", False)
    assert "Публичный адрес для webhook" in events.text
    assert line.text == "Токен принят: бот «Университет» (@uni_bot)."
    assert report.address == "https://max.test"
    assert access.asked[0].bot_token == BOT_TOKEN
    english = _check(ON_MAX, access, locale="en").lines[0]
    assert (english.label, english.text) == ("Bot token", "Token accepted: bot “Университет” (@uni_bot).")


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (MaxUnauthorizedError(401, "verify.token", "Invalid access_token", method="GET /me"), "не принял токен бота"),
        (TransportError("connection refused"), "не ответил за отведённое время"),
        (MaxServiceUnavailableError(503, "service", "unavailable", method="GET /me"), "временный сбой"),
        (MalformedResponseError("not json"), "ответил не MAX"),
        (MaxForbiddenError(403, "access.denied", "no", method="GET /me"), "отказал в запросе"),
    ],
)
def test_max_check_says_what_is_wrong_in_russian(error: SferumError, words: str) -> None:
    ((line),) = _check(ON_MAX, FakeAccess(error)).lines
    assert not line.ok
    assert words in line.text
    assert BOT_TOKEN not in line.text


def test_nothing_is_asked_while_the_chosen_platforms_credentials_are_missing() -> None:
    access = FakeAccess(MaxBot(user_id=1, name="x"))
    assert _check({"platform": "max"}, access).missing == "Сначала укажите токен бота MAX."
    assert _check({}, access).missing == "Сначала заполните APP ID и оба токена."
    assert access.asked == []
