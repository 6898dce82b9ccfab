"""The host's pages and the Sferum module's pages in Chromium, under the host's Content-Security-Policy: the browser
refuses nothing on them (no inline script, handler or style), and the confirmation dialogs, now wired by
``data-confirm`` and the host's script, still ask before a destructive POST."""

from __future__ import annotations

from typing import Any

from lms_host import Cabinet

from tests.browser.conftest import configure_sferum, grant_online_lessons, link_profile, login

PAGES = (
    "/schedule",
    "/admin/modules",
    "/students",
    "/m/sferum/online-lessons",
    "/m/sferum/sync",
    "/m/sferum/chats-bulk",
    "/m/sferum/profiles",
)

# Runs in every document before its own scripts; the binding outlives navigations, unlike the page's globals.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportPolicyViolation(
    `${event.effectiveDirective} refused ${event.blockedURI || "inline"} at ${event.sourceFile}:${event.lineNumber}`
  );
});
"""


class Watched:
    """A page whose policy violations (events and console reports) and dialogs are recorded; dialogs are
    dismissed unless ``accept`` is set."""

    def __init__(self, browser: Any) -> None:
        self.page = browser.new_context(locale="ru-RU").new_page()
        self.page.set_default_timeout(10_000)
        self.violations: list[str] = []
        self.dialogs: list[str] = []
        self.accept = False
        self.page.expose_function("reportPolicyViolation", lambda text: self.violations.append(f"{self.url}: {text}"))
        self.page.add_init_script(REPORT_VIOLATIONS)
        self.page.on("console", self._console)
        self.page.on("dialog", self._dialog)

    @property
    def url(self) -> str:
        return str(self.page.url)

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text:
            self.violations.append(f"{self.url}: {message.text}")

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.accept() if self.accept else dialog.dismiss()

    def close(self) -> None:
        self.page.context.close()


def _today_cards(page: Any) -> Any:
    return page.locator("section.day.today article.lesson")


def test_pages_break_no_rule_of_the_content_policy_and_still_ask_before_destructive_posts(
    browser: Any, live_server: Any, demo_app_factory: Any, sandbox: Any
) -> None:
    box, running = sandbox
    server = live_server(demo_app_factory)
    configure_sferum(server.app, running.url)
    admin, teacher = Watched(browser), Watched(browser)
    login(admin.page, server.url, "admin")
    grant_online_lessons(admin.page, server.url)

    # The teacher links a profile and starts today's lesson; «Завершить» (an Action with ``confirm``) asks first.
    login(teacher.page, server.url, "teacher")
    link_profile(teacher.page, server.url, "Ирина", "Преподаватель")
    teacher.page.goto(f"{server.url}/schedule")
    start = "Начать онлайн-занятие в Сферум"
    card = _today_cards(teacher.page).filter(has=teacher.page.get_by_role("button", name=start)).first
    lesson_id = card.get_attribute("data-lesson-id")
    card.get_by_role("button", name=start).click()
    teacher.page.wait_for_load_state()
    card = teacher.page.locator(f"article.lesson[data-lesson-id='{lesson_id}']")
    card.get_by_role("button", name="Завершить онлайн-занятие в Сферум").click()
    assert teacher.dialogs == ["Завершить онлайн-занятие для всех участников?"]
    assert card.get_by_role("button", name="Завершить онлайн-занятие в Сферум").is_visible()  # dismissed: kept
    assert [call["state"] for call in box.state()["calls"]] == ["active"]

    for path in PAGES:
        response = admin.page.goto(f"{server.url}{path}")
        assert response is not None, path
        assert response.status == 200, path
        assert response.headers["x-frame-options"] == "DENY", path
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"], path

    # The module's own page: «Отвязать» asks through data-confirm (it was an inline onsubmit, which the policy
    # refuses, and the form would then have been sent without asking).
    row = admin.page.locator("tr", has_text="Ирина Преподаватель")
    row.get_by_role("button", name="Отвязать").click()
    assert admin.dialogs == ["Отвязать профиль?"]
    assert row.is_visible()
    admin.accept = True
    row.get_by_role("button", name="Отвязать").click()
    admin.page.wait_for_load_state()
    assert admin.page.locator("tr", has_text="Ирина Преподаватель").count() == 0

    # A host page: removing a module asks, and dismissing keeps it.
    admin.accept = False
    admin.page.goto(f"{server.url}/admin/modules")
    admin.page.locator("form.uninstall[action$='/sferum/uninstall']").get_by_role("button").click()
    assert admin.dialogs[-1].startswith("Удалить модуль")
    assert Cabinet.of(server.app).settings.is_installed("sferum")

    assert admin.violations + teacher.violations == []
    admin.close()
    teacher.close()
