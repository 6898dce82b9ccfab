"""Helpers of the MAX sandbox tests: fake clocks, a Bot API client whose every answer is checked against MAX's
OpenAPI document, builders of requests, and a webhook receiver."""

from __future__ import annotations

import collections
import json
import threading
from typing import Any

import httpx
from sferum_sandbox.max import DEFAULT_BOT_TOKEN, MaxSandbox
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests import max_schema

WALL_START = 1_764_000_000.0
CHECKED: collections.Counter[tuple[str, str, int]] = collections.Counter()
"""Every (verb, path template, status) whose answer a test has checked against the document, and how often."""


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class SleepRecorder:
    """Stands in for time.sleep: records the delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def _template(path: str) -> str | None:
    """The document's template matching ``path`` (``/chats/{chatLink}`` aside, which shadows ``/chats/{chatId}``)."""
    wanted = path.strip("/").split("/")
    for template in map(str, max_schema.DOCUMENT["paths"]):
        parts = template.strip("/").split("/")
        if "{chatLink}" in template or len(parts) != len(wanted):
            continue
        if all(p == w or p.startswith("{") for p, w in zip(parts, wanted, strict=True)):
            return template
    return None


def check_against_schema(response: httpx.Response) -> None:
    """Fail unless ``response`` (from the Bot API) is what MAX's document describes for its status."""
    request = response.request
    if request.url.path.startswith("/_sandbox"):
        return
    response.read()
    body = response.json()
    template = _template(request.url.path)
    if template is None or request.method.lower() not in max_schema.DOCUMENT["paths"][template]:
        # No such operation in the document (a wrong path or verb): still MAX's error shape.
        assert response.status_code in (404, 405), response.text
        assert set(body) == {"code", "message"}, body
        return
    max_schema.validate_response(request.method, request.url.path, response.status_code, body)
    CHECKED[(request.method, template, response.status_code)] += 1


def bot_client(url: str, token: str | None = DEFAULT_BOT_TOKEN, **kwargs: Any) -> httpx.Client:
    """An HTTP client of the Bot API that sends ``token`` as MAX's clients do and checks every answer."""
    headers = {} if token is None else {"Authorization": token}
    # Plain HTTP on loopback: verify=False only skips building a TLS context.
    return httpx.Client(
        base_url=url,
        headers=headers,
        timeout=10.0,
        verify=False,
        event_hooks={"response": [check_against_schema]},
        **kwargs,
    )


def in_process_client(sandbox: MaxSandbox, token: str = DEFAULT_BOT_TOKEN) -> httpx.Client:
    """A Bot API client of ``sandbox.wsgi_app`` with no sockets, checking every answer as :func:`bot_client` does."""
    return httpx.Client(
        transport=httpx.WSGITransport(app=sandbox.wsgi_app),
        base_url="http://max.test",
        headers={"Authorization": token},
        event_hooks={"response": [check_against_schema]},
    )


def check_update(update: dict[str, Any]) -> None:
    """Fail unless ``update`` is a valid ``Update`` of its type (a webhook body, an item of ``GET /updates``)."""
    max_schema.validate_response("GET", "/updates", 200, {"updates": [update], "marker": 1})


class WebhookReceiver:
    """A bot's webhook endpoint: records each POST and answers the next scripted status (200 when none is left)."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.statuses: collections.deque[int] = collections.deque()
        self.arrived = threading.Event()
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.01,), daemon=True)
        self.url = f"http://127.0.0.1:{self._server.port}/max/webhook"

    def _app(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        self.received.append((dict(request.headers), json.loads(request.get_data())))
        status = self.statuses.popleft() if self.statuses else 200
        self.arrived.set()
        return Response("ok", status=status)(environ, start_response)

    @property
    def updates(self) -> list[dict[str, Any]]:
        return [body for _, body in self.received]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join()
        self._server.server_close()


def keyboard(*rows: list[dict[str, Any]]) -> dict[str, Any]:
    """An ``inline_keyboard`` attachment (``InlineKeyboardAttachmentRequest``)."""
    return {"type": "inline_keyboard", "payload": {"buttons": list(rows)}}


def chat_button(
    title: str = "ИВТ-21", *, payload: str | None = "lk-chat-17", text: str = "Создать чат", **extra: Any
) -> dict[str, Any]:
    """A ``chat`` button (``ChatButton``)."""
    button = {"type": "chat", "text": text, "chat_title": title, **extra}
    if payload is not None:
        button["start_payload"] = payload
    return button


def link_button(url: str = "https://lk.example.edu/sferum", text: str = "Открыть ЛК") -> dict[str, Any]:
    """A ``link`` button (``LinkButton``)."""
    return {"type": "link", "text": text, "url": url}


def send(api: httpx.Client, *, text: str = "Привет", attachments: list[Any] | None = None, **to: int) -> httpx.Response:
    """``POST /messages?user_id=`` or ``?chat_id=`` with a ``NewMessageBody`` as the project's client sends it."""
    body = {"text": text, "attachments": attachments, "link": None}
    return api.post("/messages", params=to, json=body)


def send_chat_button(api: httpx.Client, user_id: int, **button: Any) -> tuple[str, int]:
    """Send ``user_id`` a message with one chat button; return its message id and the button's uuid."""
    reply = send(
        api, user_id=user_id, text="Нажмите, чтобы создать чат", attachments=[keyboard([chat_button(**button)])]
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()["message"]["body"]
    return body["mid"], body["attachments"][0]["payload"]["buttons"][0][0]["uuid"]


def poll(api: httpx.Client, **params: Any) -> dict[str, Any]:
    """``GET /updates`` (no waiting unless ``timeout`` is given); the reply's body."""
    params.setdefault("timeout", 0)
    reply = api.get("/updates", params=params)
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def update_types(body: dict[str, Any]) -> list[str]:
    return [update["update_type"] for update in body["updates"]]
