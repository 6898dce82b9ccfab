"""The sandbox's WSGI application: URL routing onto the dispatcher, VK ID and the inspection endpoints.

Routes: ``/method/<name>`` (the VK API), ``/authorize`` and ``/oauth2/auth`` (VK ID), ``/join/<code>`` and
``/call/<id>`` (what invite and call links open), and under ``/_sandbox/``: the inspection page, ``state``,
``reset``, ``requests``, ``faults`` and ``users`` for tests and demos.
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import BadRequest, HTTPException, UnsupportedMediaType
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .._serving import drop_connection
from ._core import SandboxCore
from ._dispatch import ApiDispatcher, ApiOutcome
from ._pages import inspection_page, join_page
from ._vkid import VkIdProvider

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

logger = logging.getLogger(__name__)

_URLS = Map(
    [
        Rule("/", endpoint="home"),
        Rule("/method/<name>", endpoint="api", methods=["GET", "POST"]),
        Rule("/authorize", endpoint="authorize", methods=["GET", "POST"]),
        Rule("/oauth2/auth", endpoint="token", methods=["POST"]),
        Rule("/join/<code>", endpoint="join"),
        Rule("/call/<call_id>", endpoint="call"),
        Rule("/_sandbox/", endpoint="inspect"),
        Rule("/_sandbox/state", endpoint="state"),
        Rule("/_sandbox/reset", endpoint="reset", methods=["POST"]),
        Rule("/_sandbox/requests", endpoint="requests"),
        Rule("/_sandbox/faults", endpoint="faults", methods=["GET", "POST", "DELETE"]),
        Rule("/_sandbox/users", endpoint="users", methods=["POST"]),
        Rule("/_sandbox/avatar/<int:user_id>", endpoint="avatar"),
    ]
)


def _json(payload: Any, status: int = 200) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False), status=status, mimetype="application/json")


def _html(body: str, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="text/html")


def _bearer(request: Request) -> str | None:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    return credentials.strip() or None if scheme.lower() == "bearer" else None


class SandboxApp:
    """The WSGI callable of one sandbox."""

    def __init__(self, core: SandboxCore) -> None:
        self._core = core
        self._dispatcher = ApiDispatcher(core)
        self._vkid = VkIdProvider(core)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        try:
            endpoint, values = _URLS.bind_to_environ(environ).match()
            response = getattr(self, f"_{endpoint}")(request, **values)
        except HTTPException as error:
            response = error.get_response(environ)
        if response is None:
            drop_connection(environ)
        result: Iterable[bytes] = response(environ, start_response)
        return result

    # ---------------------------------------------------------------- VK API

    def _api(self, request: Request, name: str) -> Response | None:
        params = {**request.args.to_dict(), **request.form.to_dict()}
        token = params.pop("access_token", None) or _bearer(request)
        outcome: ApiOutcome = self._dispatcher.handle(name, params, token, request.root_url.rstrip("/"))
        if outcome.drop:
            return None
        if outcome.http_status is not None:
            status = outcome.http_status
            return _html(f"<html><body><h1>{status} Error</h1><hr>nginx</body></html>", status)
        return _json(outcome.body)

    # ---------------------------------------------------------------- VK ID

    def _authorize(self, request: Request) -> Response:
        return self._vkid.authorize(request)

    def _token(self, request: Request) -> Response:
        return self._vkid.token(request)

    # ---------------------------------------------------------------- links and pages

    def _home(self, request: Request) -> Response:
        return Response(status=302, headers={"Location": "/_sandbox/"})

    def _join(self, request: Request, code: str) -> Response:
        with self._core.lock:
            chat = next((c for c in self._core.state.chats.values() if c.invite_code == code), None)
            if chat is None:
                return _html(join_page("Invite link is not valid", "The link was reset or never existed."), 404)
            return _html(join_page(f"Join «{chat.title}»", f"A Sferum chat with {len(chat.members)} members."))

    def _call(self, request: Request, call_id: str) -> Response:
        with self._core.lock:
            call = self._core.state.calls.get(call_id)
            if call is None:
                return _html(join_page("Call not found", "There is no such call."), 404)
            what = "The call is in progress." if call.is_active else "The call has ended."
            return _html(join_page("Sferum call", what))

    def _inspect(self, request: Request) -> Response:
        with self._core.lock:
            page = inspection_page(self._core.state.to_json(), dict(self._core.request_counts))
        return _html(page)

    def _avatar(self, request: Request, user_id: int) -> Response:
        with self._core.lock:
            user = self._core.state.users.get(user_id)
            initials = f"{user.first_name[:1]}{user.last_name[:1]}" if user else "?"
        svg = (
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100"><circle cx="50" cy="50" r="50" '
            'fill="#5181b8"/><text x="50" y="62" font-size="36" text-anchor="middle" fill="#fff">'
            f"{html.escape(initials)}</text></svg>"
        )
        return Response(svg, mimetype="image/svg+xml")

    # ---------------------------------------------------------------- test and demo controls

    def _state(self, request: Request) -> Response:
        with self._core.lock:
            return _json(self._core.state.to_json())

    def _reset(self, request: Request) -> Response:
        self._core.reset()
        return _json({"ok": True})

    def _requests(self, request: Request) -> Response:
        with self._core.lock:
            return _json(dict(self._core.request_counts))

    def _faults(self, request: Request) -> Response:
        faults = self._core.faults
        if request.method == "DELETE":
            faults.clear()
        elif request.method == "POST":
            payload = _json_body(request)
            try:
                faults.inject_json(payload)
            except (TypeError, ValueError) as error:
                return _json({"error": str(error)}, 400)
        return _json({"faults": faults.rules()})

    def _users(self, request: Request) -> Response:
        payload = _json_body(request)
        first, last = payload.get("first_name"), payload.get("last_name")
        if not isinstance(first, str) or not isinstance(last, str) or not first.strip() or not last.strip():
            return _json({"error": "first_name and last_name are required"}, 400)
        with self._core.lock:
            user = self._core.state.add_user(first.strip(), last.strip())
        return _json({"id": user.id, "first_name": user.first_name, "last_name": user.last_name})


def _json_body(request: Request) -> dict[str, Any]:
    # Requiring application/json keeps cross-site HTML forms from poking the controls.
    if not request.is_json:
        raise UnsupportedMediaType("send JSON")
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise BadRequest("send a JSON object")
    return payload
