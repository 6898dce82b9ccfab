"""«Создать учебный профиль Сферум» on MAX in Chromium, under the host's Content-Security-Policy: the page shows the
bot's deep link and its QR code, the person presses Start in the MAX sandbox, the module's jobs handle the update,
and the page — by its own script, without a reload — says «Профиль связан»."""

from __future__ import annotations

import re
from typing import Any

from lms_host import Cabinet
from lms_host.jobs import run_due_jobs
from sferum_sandbox.max import DEFAULT_BOT_NAME, DEFAULT_BOT_TOKEN, MaxSandbox
from sferum_sandbox.max import serve as serve_max

from tests.browser.conftest import grant_online_lessons, login

REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportPolicyViolation(`${event.effectiveDirective} refused ${event.blockedURI || "inline"}`);
});
"""


def _configure_max(app: Any, api_url: str) -> None:
    """Install the module and choose MAX with long polling, through the host's CLI (the token from the environment)."""
    runner = app.test_cli_runner()
    for args in (
        ["modules", "install", "sferum"],
        ["modules", "configure", "sferum", "--from-env", "SFERUM_", "platform=max", f"max_api_url={api_url}",
         "max_updates=polling"],
    ):  # fmt: skip
        result = runner.invoke(args=args, env={"SFERUM_MAX_BOT_TOKEN": DEFAULT_BOT_TOKEN})
        assert result.exit_code == 0, result.output


def test_the_page_notices_by_itself_that_the_profile_was_linked_in_max(
    browser: Any, demo_app_factory: Any, live_server: Any, shots: Any
) -> None:
    box = MaxSandbox(rate_limit_per_second=None, long_poll_max_wait=0.1)
    with serve_max(box, deliver_webhooks=False) as running:
        server = live_server(demo_app_factory)
        _configure_max(server.app, running.url)
        admin = browser.new_context(locale="ru-RU")
        try:
            admin_page = admin.new_page()
            login(admin_page, server.url, "admin")
            grant_online_lessons(admin_page, server.url)
        finally:
            admin.close()
        context = browser.new_context(locale="ru-RU")
        page = context.new_page()
        page.set_default_timeout(10_000)
        violations: list[str] = []
        page.expose_function("reportPolicyViolation", lambda text: violations.append(text))
        page.add_init_script(REPORT_VIOLATIONS)
        try:
            login(page, server.url, "student")
            page.goto(f"{server.url}/m/sferum/online-lessons")
            page.get_by_role("button", name="Создать учебный профиль Сферум").click()

            deep_link = page.get_by_role("link", name="Открыть бота в MAX")
            link = deep_link.get_attribute("href") or ""
            assert re.fullmatch(rf"https://max\.ru/{DEFAULT_BOT_NAME}\?start=profile-[\w-]+", link), link
            assert page.locator("figure.sferum-qr svg").is_visible()
            status = page.get_by_role("status")
            assert "нажмите «Начать»" in status.inner_text()
            page.screenshot(path=str(shots / "max-profile-link.png"), full_page=True)

            person = box.add_user("Анна", "Смирнова")
            box.open_deep_link(person, link)  # in MAX: open the link, press Start
            ran = run_due_jobs(Cabinet.of(server.app))
            assert {"sferum.max_poll", "sferum.max_inbox"} <= set(ran), ran

            page.locator('section[data-link-state="linked"]').wait_for()  # the script's next poll, no reload
            assert status.inner_text() == "Профиль связан: Анна Смирнова."
            assert "/m/sferum/profile/link" in page.url  # the same page, not reloaded
            page.goto(f"{server.url}/m/sferum/online-lessons")
            assert page.get_by_role("link", name="Перейти в «Сферум»").get_attribute("href") == "https://web.max.ru/"
        finally:
            context.close()
    assert violations == []
