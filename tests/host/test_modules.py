"""Администрирование → Модули: install, upgrade, uninstall with and without the module's data."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from lms_host import Cabinet
from lms_host.models import Role, RolePermission
from sqlalchemy import select

from tests.host.conftest import login, post
from tests.host.fake_plugin import FakePlugin


def _grants(cabinet: Cabinet, code: str) -> set[str]:
    with cabinet.db.session() as session:
        rows = session.execute(
            select(Role.code)
            .join(RolePermission, RolePermission.role_id == Role.id)
            .where(RolePermission.permission == code)
        ).all()
    return {row[0] for row in rows}


def _flash(client: FlaskClient) -> str:
    return client.get("/admin/modules").get_data(as_text=True)


def test_modules_page_lists_host_modules_and_plugin_modules(client: FlaskClient) -> None:
    login(client, "admin")
    page = client.get("/admin/modules").get_data(as_text=True)
    assert "Главный модуль" in page
    assert "Расписание" in page
    assert "Фейковый модуль" in page
    assert "Не установлен" in page
    assert "Установка" in page


def test_install_records_module_and_grants_default_roles(
    client: FlaskClient, cabinet: Cabinet, fake_plugin: FakePlugin
) -> None:
    login(client, "admin")
    response = post(client, "/admin/modules/fake/install")
    assert response.status_code == 302
    assert cabinet.settings.installed_modules() == {"fake": "1.0"}
    assert fake_plugin.calls["install"] == ["fake"]
    assert _grants(cabinet, "fake.view") == {"student"}
    page = _flash(client)
    assert "Модуль «Фейковый модуль» установлен." in page
    assert "Настройка" in page
    assert "Удаление" in page


def test_installing_twice_says_so_and_changes_nothing(
    client: FlaskClient, cabinet: Cabinet, fake_plugin: FakePlugin
) -> None:
    login(client, "admin")
    post(client, "/admin/modules/fake/install")
    post(client, "/admin/modules/fake/install")
    assert "Модуль «Фейковый модуль» уже установлен." in _flash(client)
    assert fake_plugin.calls["install"] == ["fake"]


def test_failed_install_records_nothing_and_hides_the_details(
    client: FlaskClient, cabinet: Cabinet, fake_plugin: FakePlugin
) -> None:
    fake_plugin.fail_install = True
    login(client, "admin")
    post(client, "/admin/modules/fake/install")
    page = _flash(client)
    assert "Не удалось установить модуль «Фейковый модуль»" in page
    assert "secret-should-not-leak" not in page
    assert not cabinet.settings.is_installed("fake")
    assert _grants(cabinet, "fake.view") == set()


def test_configuring_a_module_that_is_not_installed_is_refused(client: FlaskClient) -> None:
    login(client, "admin")
    response = client.get("/admin/modules/fake/settings")
    assert response.status_code == 302
    assert "не установлен: настройка недоступна" in _flash(client)


def test_uninstalling_a_module_that_is_not_installed_says_so(client: FlaskClient, fake_plugin: FakePlugin) -> None:
    login(client, "admin")
    post(client, "/admin/modules/fake/uninstall", {"keep_data": "1"})
    assert "Модуль «Фейковый модуль» не установлен." in _flash(client)
    assert fake_plugin.calls["uninstall"] == []


def test_uninstall_keeping_data_keeps_settings_and_grants(
    client: FlaskClient, cabinet: Cabinet, fake_plugin: FakePlugin
) -> None:
    login(client, "admin")
    post(client, "/admin/modules/fake/install")
    cabinet.settings.save("fake", {"api_url": "https://a.example"})
    cabinet.settings.save("schedule", {"fake_hint": "hint"})
    post(client, "/admin/modules/fake/uninstall", {"keep_data": "1"})
    assert fake_plugin.calls["uninstall"] == [True]
    assert not cabinet.settings.is_installed("fake")
    assert cabinet.settings.get("fake") == {"api_url": "https://a.example"}
    assert cabinet.settings.get("schedule") == {"fake_hint": "hint"}
    assert _grants(cabinet, "fake.view") == {"student"}
    assert "данные модуля сохранены" in _flash(client)


def test_uninstall_dropping_data_forgets_settings_grants_and_contributions(
    client: FlaskClient, cabinet: Cabinet, fake_plugin: FakePlugin
) -> None:
    login(client, "admin")
    post(client, "/admin/modules/fake/install")
    cabinet.settings.save("fake", {"api_url": "https://a.example"})
    cabinet.settings.save("schedule", {"fake_hint": "hint", "show_room": "0"})
    post(client, "/admin/modules/fake/uninstall", {"keep_data": "0"})
    assert fake_plugin.calls["uninstall"] == [False]
    assert cabinet.settings.get("fake") == {}
    assert cabinet.settings.get("schedule") == {"show_room": "0"}
    assert _grants(cabinet, "fake.view") == set()


def test_new_plugin_version_offers_upgrade(
    app_factory: Callable[..., Flask], app: Flask, fake_plugin: FakePlugin
) -> None:
    client = app.test_client()
    login(client, "admin")
    post(client, "/admin/modules/fake/install")
    newer = FakePlugin(version="2.0")
    upgraded_app = app_factory(PLUGINS=[newer])
    client = upgraded_app.test_client()
    login(client, "admin")
    page = client.get("/admin/modules").get_data(as_text=True)
    assert "Обновить" in page
    post(client, "/admin/modules/fake/upgrade")
    assert newer.calls["upgrade"] == ["1.0"]
    assert Cabinet.of(upgraded_app).settings.installed_modules() == {"fake": "2.0"}
    assert "Обновить" not in client.get("/admin/modules").get_data(as_text=True)


def test_plugins_are_loaded_by_entry_point_unless_blocked(app_factory: Callable[..., Flask]) -> None:
    # The repository's own plugin is installed next to the host and registers the ``lms`` entry point "sferum".
    loaded = Cabinet.of(app_factory(PLUGINS=[], LOAD_ENTRYPOINTS=True))
    assert "sferum" in loaded.registry.modules
    blocked = Cabinet.of(app_factory(PLUGINS=[], LOAD_ENTRYPOINTS=True, LMS_BLOCKED_PLUGINS="other, sferum"))
    assert "sferum" not in blocked.registry.modules
    assert app_factory(PLUGINS=[]).test_client().get("/login").status_code == 200  # no plugin at all
