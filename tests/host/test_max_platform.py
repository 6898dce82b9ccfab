"""«Платформа «Сферума»» in the example host: MAX's settings through the settings page, and «Проверить подключение»
against the MAX sandbox over real HTTP (the VK check is covered by test_with_sferum.py and stays as it was)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lms_host import Cabinet
from sferum_sandbox import RunningSandbox
from sferum_sandbox.max import DEFAULT_BOT_NAME, DEFAULT_BOT_TITLE, DEFAULT_BOT_TOKEN, MaxSandbox, RunningMaxSandbox
from sferum_sandbox.max import serve as serve_max

from sferum_plugin.settings import MaxSettings, SferumSettings
from tests.host.conftest import admin_client, install_sferum, login, post
from tests.host.people import seed_people

WEBHOOK_SECRET = "webhook-secret-0123456789abcdef"


@pytest.fixture
def max_sandbox() -> Iterator[RunningMaxSandbox]:
    with serve_max(MaxSandbox(rate_limit_per_second=None), deliver_webhooks=False) as running:
        yield running


@pytest.fixture
def app(app_factory: Callable[..., Flask], sandbox: RunningSandbox) -> Flask:
    app = app_factory(LOAD_ENTRYPOINTS=True, PLUGINS=[])
    app.extensions["test_seeded"] = seed_people(Cabinet.of(app))
    install_sferum(app, sandbox.url)
    return app


@pytest.fixture
def admin(app: Flask) -> FlaskClient:
    return admin_client(app)


def _form(admin: FlaskClient) -> dict[str, str]:
    """The settings form as stored now (secrets blank: the host keeps the stored ones)."""
    cabinet = Cabinet.of(admin.application)
    stored = cabinet.settings.get("sferum")
    from sferum_plugin.settings import MODULE_FIELDS

    return {f.name: ("" if f.secret else stored.get(f.name, f.default)) for f in MODULE_FIELDS if f.type != "boolean"}


def _save(admin: FlaskClient, **values: str) -> str:
    return str(
        post(admin, "/admin/modules/sferum/settings", {**_form(admin), **values}, follow_redirects=True).get_data(
            as_text=True
        )
    )


def test_the_settings_page_offers_both_platforms_and_vk_is_the_default(admin: FlaskClient) -> None:
    page = admin.get("/admin/modules/sferum/settings").get_data(as_text=True)
    for text in ("Платформа «Сферума»", "VK Мессенджер", "MAX", "Токен бота", "Адрес API MAX",
                 "Как приходят события", "Публичный адрес для webhook", "Секрет webhook"):  # fmt: skip
        assert text in page, text
    assert Cabinet.of(admin.application).settings.get("sferum").get("platform") in ("", None, "vk")


def test_max_needs_the_bot_token_and_webhook_needs_its_address_and_a_secret(admin: FlaskClient) -> None:
    page = _save(admin, platform="max")
    assert "Настройки сохранены" not in page
    assert "Поле «Токен бота» обязательно." in page
    assert "Укажите публичный адрес https://" in page
    assert "Укажите секрет webhook" in page
    page = _save(admin, platform="max", max_bot_token=DEFAULT_BOT_TOKEN, max_webhook_url="http://lk.test/hook",
                 max_webhook_secret=WEBHOOK_SECRET)  # fmt: skip
    assert "MAX присылает события только на адрес https://" in page
    assert Cabinet.of(admin.application).settings.get("sferum").get("platform") in ("", None, "vk")  # nothing stored


def test_switching_to_max_and_back_keeps_the_other_platforms_settings(admin: FlaskClient) -> None:
    cabinet = Cabinet.of(admin.application)
    vk_before = SferumSettings.from_stored(cabinet.settings.get("sferum"))
    assert vk_before is not None
    page = _save(admin, platform="max", max_bot_token=DEFAULT_BOT_TOKEN, max_updates="polling")
    assert "Настройки сохранены" in page, page
    stored = cabinet.settings.get("sferum")
    assert SferumSettings.from_stored(stored) is None  # the VK flows say the module is not configured for them
    assert MaxSettings.from_stored(stored) is not None
    assert _save(admin, platform="vk").count("Настройки сохранены") == 1
    stored = cabinet.settings.get("sferum")
    assert SferumSettings.from_stored(stored) == vk_before
    assert stored["max_bot_token"] == DEFAULT_BOT_TOKEN  # kept for switching back


def test_check_connection_on_max_shows_the_bot_and_a_wrong_token_in_words(
    admin: FlaskClient, max_sandbox: RunningMaxSandbox
) -> None:
    page = _save(admin, platform="max", max_bot_token=DEFAULT_BOT_TOKEN, max_api_url=max_sandbox.url,
                 max_updates="webhook", max_webhook_url="https://lk.university.test/m/sferum/max/webhook",
                 max_webhook_secret=WEBHOOK_SECRET)  # fmt: skip
    assert "Настройки сохранены" in page, page
    page = post(admin, "/m/sferum/settings/check").get_data(as_text=True)
    assert 'data-credential="max_bot_token"' in page
    assert "Принят" in page
    assert f"@{DEFAULT_BOT_NAME}" in page
    assert f"Токен принят: бот «{DEFAULT_BOT_TITLE}» (@{DEFAULT_BOT_NAME})." in page
    assert max_sandbox.url in page
    assert DEFAULT_BOT_TOKEN not in page

    wrong = "max-bot-token-the-sandbox-does-not-know-000"
    assert "Настройки сохранены" in _save(admin, max_bot_token=wrong)
    page = post(admin, "/m/sferum/settings/check").get_data(as_text=True)
    assert "Ошибка" in page
    assert "MAX не принял токен бота" in page
    assert wrong not in page


def test_check_connection_on_max_says_when_max_does_not_answer(admin: FlaskClient) -> None:
    with serve_max(MaxSandbox(), deliver_webhooks=False) as gone:
        url = gone.url  # a port that nobody listens on once the sandbox stopped
    _save(admin, platform="max", max_bot_token=DEFAULT_BOT_TOKEN, max_api_url=url, max_updates="polling")
    page = post(admin, "/m/sferum/settings/check").get_data(as_text=True)
    assert "MAX не ответил за отведённое время" in page


def test_check_connection_on_max_without_a_token_says_what_to_fill_in(app: Flask) -> None:
    Cabinet.of(app).settings.save("sferum", {"platform": "max"}, secret=set())
    admin = app.test_client()
    login(admin, "admin")
    response = post(admin, "/m/sferum/settings/check")
    assert response.status_code == 409
    assert "Сначала укажите токен бота MAX." in response.get_data(as_text=True)
