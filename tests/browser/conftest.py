"""Browser tests: the example host served over real HTTP on a free loopback port, driven by Playwright in Debian's
headless Chromium (Playwright's own browser download cannot work on these machines).

Screenshots go to the ``shots`` directory: pytest's temporary directory, so that a test run leaves the working tree
as it found it, or the directory ``SFERUM_SCREENSHOTS`` names (``make screenshots`` sets it to docs/screenshots, to
refresh the user guide's pictures).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS_ENV = "SFERUM_SCREENSHOTS"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed: run `apt-get install -y chromium` (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the browser tests save their screenshots: ``$SFERUM_SCREENSHOTS`` (relative to the repository) when it
    is set, a temporary directory otherwise."""
    named = os.environ.get(SCREENSHOTS_ENV, "").strip()
    path = ROOT / named if named else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="ru-RU")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


class LiveServer:
    """A WSGI app served by werkzeug in a daemon thread on 127.0.0.1 and a free port.

    The socket is bound before the app exists, so an app factory can be given the server's own URL (the host
    builds absolute URLs, such as the OAuth redirect URI, from it).
    """

    def __init__(self, app: object | None = None, *, factory: object | None = None) -> None:
        self.app = app
        self._server = make_server("127.0.0.1", 0, self._dispatch, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        if factory is not None:
            self.app = factory(self.url)  # type: ignore[operator]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def _dispatch(self, environ, start_response):  # type: ignore[no-untyped-def]
        return self.app(environ, start_response)  # type: ignore[misc]

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        cabinet = getattr(self.app, "extensions", {}).get("lms")
        if cabinet is not None:
            cabinet.dispose()  # close the host's database engine


@pytest.fixture
def live_server() -> Iterator[type[LiveServer]]:
    started: list[LiveServer] = []

    def start(app: object) -> LiveServer:
        server = LiveServer(factory=app) if getattr(app, "is_factory", False) else LiveServer(app)
        started.append(server)
        return server

    yield start  # type: ignore[misc]
    for server in started:
        server.stop()


def _demo_app(tmp_path: Path, base_url: str = "http://127.0.0.1"):  # type: ignore[no-untyped-def]
    """The example host on a fresh SQLite database with the demo data, loading plugins by entry point."""
    from lms_host import create_app

    app = create_app(
        {
            "TESTING": True,
            "LMS_INSTANCE_PATH": str(tmp_path / "instance"),
            "LMS_DATABASE_URL": f"sqlite:///{tmp_path / 'lms.sqlite3'}",
            "LMS_DEMO_MODE": True,
            "LMS_BASE_URL": base_url,
        }
    )
    runner = app.test_cli_runner()
    for command in (["init-db"], ["demo-data"]):
        result = runner.invoke(args=command)
        assert result.exit_code == 0, result.output
    return app


@pytest.fixture
def demo_app(tmp_path: Path):  # type: ignore[no-untyped-def]
    return _demo_app(tmp_path)


@pytest.fixture
def demo_app_factory(tmp_path: Path):  # type: ignore[no-untyped-def]
    def factory(base_url: str):  # type: ignore[no-untyped-def]
        return _demo_app(tmp_path, base_url)

    factory.is_factory = True  # type: ignore[attr-defined]
    return factory


def login(page, base_url: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base_url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


@pytest.fixture
def sandbox():  # type: ignore[no-untyped-def]
    """The Sferum sandbox served over HTTP on a free port: ``(sandbox, running)``."""
    from sferum_sandbox import Sandbox, serve

    box = Sandbox(rate_limit_per_second=None)
    with serve(box) as running:
        yield box, running


def configure_sferum(app, sandbox_url: str) -> None:  # type: ignore[no-untyped-def]
    """Install the Sferum module and point it at the sandbox, through the host's CLI."""
    from sferum_sandbox import DEFAULT_APP_ID, DEFAULT_APP_TOKEN, DEFAULT_SERVICE_TOKEN

    runner = app.test_cli_runner()
    # Secrets are not accepted as arguments: they come from SFERUM_<KEY> variables with --from-env.
    secrets = {"SFERUM_SERVICE_TOKEN": DEFAULT_SERVICE_TOKEN, "SFERUM_APP_TOKEN": DEFAULT_APP_TOKEN}
    for args in (
        ["modules", "install", "sferum"],
        [
            "modules", "configure", "sferum", "--from-env", "SFERUM_", f"app_id={DEFAULT_APP_ID}",
            f"api_base_url={sandbox_url}", f"id_base_url={sandbox_url}", f"web_url={sandbox_url}/_sandbox/",
        ],
    ):  # fmt: skip
        result = runner.invoke(args=args, env=secrets)
        assert result.exit_code == 0, result.output


def link_profile(page, base_url: str, first: str, last: str) -> None:  # type: ignore[no-untyped-def]
    """Create and link a Sferum educational profile on the sandbox's VK ID consent page."""
    page.goto(f"{base_url}/m/sferum/online-lessons")
    page.get_by_role("button", name="Создать учебный профиль Сферум").click()
    page.wait_for_url(re.compile(r"/authorize\?"))
    page.fill("input[name=first_name]", first)
    page.fill("input[name=last_name]", last)
    page.get_by_role("button", name="Create profile and allow").click()
    page.wait_for_url(re.compile(r"/m/sferum/profile/callback"))
    assert f"Учебный профиль Сферум привязан: {first} {last}" in page.content()
    page.goto(f"{base_url}/m/sferum/online-lessons")
    assert page.get_by_role("link", name="Перейти в «Сферум»").is_visible()


def grant_online_lessons(page, base_url: str) -> None:  # type: ignore[no-untyped-def]
    """As an administrator: give Обучающийся and Сотрудник «Просмотр раздела онлайн-занятий (Сферум)»."""
    page.goto(f"{base_url}/admin/roles")
    for role in ("Обучающийся", "Сотрудник"):
        page.get_by_label(f"{role}: Просмотр раздела онлайн-занятий (Сферум)").check()
    page.get_by_role("button", name="Сохранить").click()
