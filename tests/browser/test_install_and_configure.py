"""An administrator installs «Модуль интеграции Сферум-Тандем», configures it and never sees a token again."""

from __future__ import annotations

import re
from pathlib import Path

from tests.browser.conftest import login

TOKEN = "vk1.a.browser-test-application-token-a1b2"
SERVICE = "service-token-for-browser-tests-9z8y"


def test_admin_installs_the_module_saves_the_settings_and_sees_the_masked_token(
    page, live_server, demo_app, shots: Path
) -> None:
    server = live_server(demo_app)
    login(page, server.url, "admin")

    page.goto(f"{server.url}/admin/modules")
    row = page.locator("tr", has_text="Модуль интеграции Сферум-Тандем")
    row.get_by_role("button", name="Установка").click()
    page.wait_for_load_state()
    assert "установлен" in page.content()

    row = page.locator("tr", has_text="Модуль интеграции Сферум-Тандем")
    row.get_by_role("link", name="Настройка").click()
    page.fill("input[name=app_id]", "-5")
    page.fill("input[name=service_token]", SERVICE)
    page.fill("input[name=app_token]", TOKEN)
    page.get_by_role("button", name=re.compile("Сохранить")).click()
    assert "APP ID должен быть положительным целым числом." in page.content()
    assert TOKEN not in page.content()  # a refused form does not echo the secret back

    page.fill("input[name=app_id]", "51234567")
    page.fill("input[name=service_token]", SERVICE)
    page.fill("input[name=app_token]", TOKEN)
    page.get_by_role("button", name=re.compile("Сохранить")).click()
    page.wait_for_load_state()
    html = page.content()
    assert TOKEN not in html
    assert SERVICE not in html
    assert "••••a1b2" in html
    assert page.input_value("input[name=app_token]") == ""
    page.screenshot(path=str(shots / "admin-module-settings.png"), full_page=True)

    page.goto(f"{server.url}/admin/roles")
    assert "Просмотр раздела онлайн-занятий (Сферум)" in page.content()
