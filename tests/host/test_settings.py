"""Module settings: validation, secrets encrypted at rest and never rendered back, contributions, actions."""

from __future__ import annotations

from flask.testing import FlaskClient
from lms_host import Cabinet
from lms_host.models import ModuleSetting
from sqlalchemy import select

from tests.host.conftest import login, post
from tests.host.fake_plugin import REJECTED_TOKEN, FakePlugin

TOKEN = "vk1.a.SECRET-token-value-a1b2"


def _install(client: FlaskClient) -> None:
    login(client, "admin")
    post(client, "/admin/modules/fake/install")


def _form(**overrides: str) -> dict[str, str]:
    values = {"api_url": "https://api.example", "api_token": TOKEN, "retries": "5", "mode": "safe", "note": "ok"}
    values.update(overrides)
    return values


def _raw_rows(cabinet: Cabinet, module: str) -> dict[str, ModuleSetting]:
    with cabinet.db.session() as session:
        rows = session.scalars(select(ModuleSetting).where(ModuleSetting.module == module)).all()
    return {row.key: row for row in rows}


def test_valid_settings_are_stored_and_the_secret_is_encrypted_at_rest(client: FlaskClient, cabinet: Cabinet) -> None:
    _install(client)
    response = post(client, "/admin/modules/fake/settings", _form())
    assert response.status_code == 302
    assert cabinet.settings.get("fake") == {
        "api_url": "https://api.example",
        "api_token": TOKEN,
        "retries": "5",
        "mode": "safe",
        "note": "ok",
    }
    raw = _raw_rows(cabinet, "fake")["api_token"]
    assert raw.value is None
    assert raw.ciphertext
    assert TOKEN not in raw.ciphertext
    assert cabinet.box.decrypt(raw.ciphertext) == TOKEN


def test_stored_secret_is_never_rendered_only_a_masked_hint(client: FlaskClient) -> None:
    _install(client)
    post(client, "/admin/modules/fake/settings", _form())
    page = client.get("/admin/modules/fake/settings").get_data(as_text=True)
    assert TOKEN not in page
    assert "SECRET" not in page
    assert "••••a1b2" in page
    assert "оставьте пустым, чтобы не менять" in page


def test_blank_secret_keeps_the_stored_value(client: FlaskClient, cabinet: Cabinet, fake_plugin: FakePlugin) -> None:
    _install(client)
    post(client, "/admin/modules/fake/settings", _form())
    before = _raw_rows(cabinet, "fake")["api_token"].ciphertext
    response = post(client, "/admin/modules/fake/settings", _form(api_token="", retries="7"))
    assert response.status_code == 302
    assert cabinet.settings.get("fake")["api_token"] == TOKEN
    assert cabinet.settings.get("fake")["retries"] == "7"
    assert _raw_rows(cabinet, "fake")["api_token"].ciphertext == before
    # The plugin's validation saw the stored secret, as the contract promises.
    assert fake_plugin.calls["validate"][-1][1]["api_token"] == TOKEN


def test_invalid_values_keep_old_values_and_name_the_fields(client: FlaskClient, cabinet: Cabinet) -> None:
    _install(client)
    post(client, "/admin/modules/fake/settings", _form())
    response = post(
        client,
        "/admin/modules/fake/settings",
        _form(
            api_url="ftp://files.example",
            retries="many",
            mode="turbo",
            note="much too long",
            api_token="new-token-123456",
        ),
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Адрес API: Введите адрес, начинающийся с http:// или https://." in page
    assert "Повторы: Введите целое число." in page
    assert "Режим: Выберите значение из списка." in page
    assert "Заметка: Не длиннее 10 символов." in page
    # Submitted non-secret values are shown again; the submitted secret is not.
    assert 'value="ftp://files.example"' in page
    assert 'value="many"' in page
    assert "new-token-123456" not in page
    assert cabinet.settings.get("fake") == {
        "api_url": "https://api.example",
        "api_token": TOKEN,
        "retries": "5",
        "mode": "safe",
        "note": "ok",
    }


def test_required_fields_are_refused_when_empty(client: FlaskClient, cabinet: Cabinet) -> None:
    _install(client)
    response = post(client, "/admin/modules/fake/settings", _form(api_url="", api_token=""))
    page = response.get_data(as_text=True)
    assert "Адрес API: Обязательное поле." in page
    assert "Токен API: Обязательное поле." in page
    assert cabinet.settings.get("fake") == {}


def test_plugin_validation_error_is_shown_next_to_its_field(client: FlaskClient, cabinet: Cabinet) -> None:
    _install(client)
    response = post(client, "/admin/modules/fake/settings", _form(api_token=REJECTED_TOKEN))
    assert response.status_code == 422
    assert "Токен API: Токен отклонён сервером" in response.get_data(as_text=True)
    assert cabinet.settings.get("fake") == {}


def test_settings_actions_are_rendered_as_csrf_forms(client: FlaskClient) -> None:
    _install(client)
    page = client.get("/admin/modules/fake/settings").get_data(as_text=True)
    assert "Проверить подключение" in page
    form_start = page.index('action="/m/fake/echo"')
    assert 'name="csrf_token"' in page[form_start : form_start + 300]


def test_main_module_offers_chat_backends_of_installed_modules_only(client: FlaskClient) -> None:
    login(client, "admin")
    page = client.get("/admin/modules/main/settings").get_data(as_text=True)
    assert "Общие" in page
    assert "Настройки чатов" in page
    assert "Чаты ЛК" in page
    assert "Внешняя система «Фейк»" not in page
    post(client, "/admin/modules/fake/install")
    page = client.get("/admin/modules/main/settings").get_data(as_text=True)
    assert '<option value="fakechat"' in page
    assert "Внешняя система «Фейк»" in page


def test_schedule_settings_have_host_fields_first_then_contributions(client: FlaskClient, cabinet: Cabinet) -> None:
    login(client, "admin")
    page = client.get("/admin/modules/schedule/settings").get_data(as_text=True)
    assert "Подсказка фейка" not in page
    post(client, "/admin/modules/fake/install")
    page = client.get("/admin/modules/schedule/settings").get_data(as_text=True)
    assert page.index("Показывать аудиторию") < page.index("Подсказка фейка")
    post(client, "/admin/modules/schedule/settings", {"fake_hint": "  Ссылка  ", "empty_day_text": "Выходной"})
    assert cabinet.settings.get("schedule") == {"show_room": "0", "empty_day_text": "Выходной", "fake_hint": "Ссылка"}
