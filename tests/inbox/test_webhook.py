"""MAX's webhook through the example host over real HTTP: the MAX sandbox POSTs updates with the secret to
``/m/sferum/max/updates`` of a served LMS; each lands in the inbox once, redelivered or not, and nothing else does."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import httpx
import pytest
from flask import Flask
from lms_host import Cabinet
from sferum_sandbox.max import DEFAULT_BOT_TOKEN, SECRET_HEADER, MaxSandbox, RunningMaxSandbox
from sqlalchemy import Engine
from werkzeug.serving import make_server

from sferum_plugin.services import max_updates
from tests.host.conftest import admin_client, app_factory, clock, fake_plugin, migrated_template, post  # noqa: F401
from tests.host.people import seed_people
from tests.inbox.conftest import SECRET, inbox_rows, job, max_settings
from tests.sandbox_max.maxbot import FakeClock

ROUTE = "/m/sferum/max/updates"


class AnswerLost:
    """WSGI middleware: the LMS handles the request, but the first ``lose`` answers never reach MAX (a 502 from a
    proxy in between), as when a reply is lost after the update was stored."""

    def __init__(self, app: Callable[..., Iterable[bytes]], lose: int = 0) -> None:
        self.app, self.lose, self.statuses = app, lose, []  # type: ignore[var-annotated]

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        captured: list[Any] = []
        body = b"".join(self.app(environ, lambda status, headers, exc_info=None: captured.append(status)))
        self.statuses.append(int(captured[0].split()[0]))
        if environ["PATH_INFO"] == ROUTE and self.lose > 0:
            self.lose -= 1
            start_response("502 Bad Gateway", [("Content-Type", "text/plain")])
            return [b"lost"]
        start_response(captured[0], [("Content-Type", "application/json")])
        return [body]


@pytest.fixture
def lms(app_factory: Callable[..., Flask], max_running: RunningMaxSandbox) -> Iterator[tuple[Flask, AnswerLost, str]]:  # noqa: F811
    """The example host with the Sferum module installed and set to MAX with webhook delivery, served over HTTP."""
    app = app_factory(LOAD_ENTRYPOINTS=True, PLUGINS=[])
    seed_people(Cabinet.of(app))  # the administrator who installs the module
    admin = admin_client(app)
    assert "установлен" in post(admin, "/admin/modules/sferum/install", follow_redirects=True).get_data(as_text=True)
    middleware = AnswerLost(app.wsgi_app)
    server = make_server("127.0.0.1", 0, middleware, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.port}"
    settings = max_settings(max_running.url, "webhook", webhook_url=base + ROUTE)
    Cabinet.of(app).settings.save("sferum", settings, secret={"max_bot_token", "max_webhook_secret"})
    try:
        yield app, middleware, base
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def _engine(app: Flask) -> Engine:
    return Cabinet.of(app).db.engine


def _subscribe(app: Flask) -> None:
    """The module's own job subscribes MAX to the LMS's address."""
    from tests._sferum import no_wait_access

    host: Any = Cabinet.of(app).host
    max_updates.keep_subscription(job(host), sferum=no_wait_access())


def test_a_delivered_update_lands_in_the_inbox_once_even_when_redelivered(
    lms: tuple[Flask, AnswerLost, str], max_box: MaxSandbox, max_clock: FakeClock
) -> None:
    app, middleware, _base = lms
    _subscribe(app)
    assert max_box.state()["subscription"]["url"].endswith(ROUTE)
    person = max_box.state()["users"][0]["user_id"]
    middleware.lose = 1
    max_box.press_start(person)
    assert max_box.deliver_pending() == 0  # the LMS stored it, but MAX did not see the 200
    assert middleware.statuses == [200]
    rows = inbox_rows(_engine(app))
    assert [(row.platform, row.update_type, row.processed_at) for row in rows] == [("max", "bot_started", None)]
    max_clock.advance(61)  # MAX redelivers a minute later
    assert max_box.deliver_pending() == 1
    assert middleware.statuses == [200, 200]
    assert [row.id for row in inbox_rows(_engine(app))] == [rows[0].id]  # still one row
    body = json.loads(rows[0].body)
    assert body["update_type"] == "bot_started"
    assert body["user"]["user_id"] == person
    max_box.press_start(max_box.state()["users"][1]["user_id"])
    assert max_box.deliver_pending() == 1
    assert len(inbox_rows(_engine(app))) == 2


def test_a_wrong_or_missing_secret_is_refused_and_nothing_is_stored(
    lms: tuple[Flask, AnswerLost, str], max_box: MaxSandbox, max_running: RunningMaxSandbox
) -> None:
    app, middleware, base = lms
    with httpx.Client(base_url=max_running.url, headers={"Authorization": DEFAULT_BOT_TOKEN}) as api:
        body = {"url": base + ROUTE, "secret": "not-the-Stored-secret-42"}
        assert api.post("/subscriptions", json=body).json() == {"success": True}
    max_box.press_start(max_box.state()["users"][0]["user_id"])
    assert max_box.deliver_pending() == 0
    assert middleware.statuses == [403]
    with httpx.Client(base_url=base) as lms_http:
        update = {"update_type": "bot_started", "timestamp": 1, "chat_id": 1, "user": {"user_id": 5}}
        assert lms_http.post(ROUTE, json=update).status_code == 401
        assert lms_http.post(ROUTE, json=update, headers={SECRET_HEADER: SECRET[:-1]}).status_code == 403
        assert lms_http.post(ROUTE, json=update, headers={SECRET_HEADER: SECRET + "x"}).status_code == 403
    assert inbox_rows(_engine(app)) == []


def test_the_right_secret_with_a_malformed_body_is_refused_and_not_stored(lms: tuple[Flask, AnswerLost, str]) -> None:
    app, _middleware, base = lms
    headers = {SECRET_HEADER: SECRET, "Content-Type": "application/json"}
    with httpx.Client(base_url=base, headers=headers) as lms_http:
        for body in (b"{not json", b"[1, 2]", b'"text"', b"{}", b'{"update_type": 5}', b"\xff\xfe"):
            assert lms_http.post(ROUTE, content=body).status_code == 400, body
        too_big = json.dumps({"update_type": "message_created", "text": "x" * max_updates.MAX_UPDATE_BYTES})
        assert lms_http.post(ROUTE, content=too_big).status_code == 413
        assert inbox_rows(_engine(app)) == []
        update = {"update_type": "user_removed", "timestamp": 2, "chat_id": 7, "user": {"user_id": 5}}
        first = lms_http.post(ROUTE, json=update)
        assert first.status_code == 200
        assert first.json() == {"ok": True, "message": "stored"}
        # The same update, its keys in another order: the same canonical JSON, so the same row.
        again = lms_http.post(ROUTE, content=json.dumps(dict(reversed(list(update.items())))))
        assert again.json() == {"ok": True, "message": "duplicate"}
    assert len(inbox_rows(_engine(app))) == 1


def test_the_webhook_answers_404_unless_max_is_chosen_with_webhook_delivery(
    lms: tuple[Flask, AnswerLost, str], max_running: RunningMaxSandbox
) -> None:
    app, _middleware, base = lms
    settings = Cabinet.of(app).settings
    update = {"update_type": "user_added", "timestamp": 3, "chat_id": 7, "user": {"user_id": 5}}
    with httpx.Client(base_url=base, headers={SECRET_HEADER: SECRET}) as lms_http:
        settings.save("sferum", {"max_updates": "polling"})
        assert lms_http.post(ROUTE, json=update).status_code == 404
        settings.save("sferum", {"max_updates": "webhook", "platform": "vk"})
        assert lms_http.post(ROUTE, json=update).status_code == 404
        settings.save("sferum", {"platform": "max"})
        assert lms_http.post(ROUTE, json=update).status_code == 200
        assert lms_http.get(ROUTE).status_code == 405
    assert len(inbox_rows(_engine(app))) == 1


def test_the_secret_never_reaches_the_log(lms: tuple[Flask, AnswerLost, str], caplog: pytest.LogCaptureFixture) -> None:
    app, _middleware, base = lms
    caplog.set_level("DEBUG")
    update = {"update_type": "user_added", "timestamp": 3, "chat_id": 7, "user": {"user_id": 5}}
    with httpx.Client(base_url=base) as lms_http:
        lms_http.post(ROUTE, json=update, headers={SECRET_HEADER: SECRET})
        lms_http.post(ROUTE, json=update, headers={SECRET_HEADER: "wrong-" + SECRET})
    _subscribe(app)
    assert "refused a request with a wrong secret" in caplog.text
    assert SECRET not in caplog.text
