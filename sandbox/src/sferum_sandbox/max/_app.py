"""The MAX sandbox's WSGI application: the Bot API at the root of its address, and its own pages and controls.

Bot API paths are the schema's (``/me``, ``/chats/{chatId}/members``...), as MAX's official clients append them to
a base URL. A request goes through, in order: the route (unknown path 404 ``not.found``, unserved verb 405
``method.not.allowed``); the injected faults; the token (the ``Authorization`` header holds the bot's token, as
MAX's examples send it; missing or wrong: 401 ``verify.token`` — a token in the ``access_token`` query parameter is
not looked at); the rate limit per token (429 ``too.many.requests``); the operation itself (``_api``).

Under ``/_sandbox/``: the overview page, the page that plays a MAX user (``/_sandbox/as/<user id>``, plain HTML
forms that POST and redirect), ``state``, ``requests``, ``reset``, ``faults``, ``deliver`` and
``control/<action>`` (JSON in, JSON out: the public control API over HTTP).
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .._serving import drop_connection
from ._api import OPERATIONS, Params
from ._core import MaxCore
from ._errors import MaxApiError
from ._faults import FaultKind
from ._pages import CSP, NOTICES, STYLESHEET, not_found_page, overview_page, user_page

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from ._sandbox import MaxSandbox

logger = logging.getLogger(__name__)

API_TEMPLATES = sorted({template for _, template in OPERATIONS})

_URLS = Map(
    [
        Rule("/", endpoint="home"),
        *(Rule(template.replace("{chatId}", "<chat_id>"), endpoint=template) for template in API_TEMPLATES),
        Rule("/_sandbox/", endpoint="overview"),
        Rule("/_sandbox/style.css", endpoint="style"),
        Rule("/_sandbox/as", endpoint="choose"),
        Rule("/_sandbox/as/<int:user_id>", endpoint="user_page"),
        Rule("/_sandbox/as/<int:user_id>/<action>", endpoint="user_action", methods=["POST"]),
        Rule("/_sandbox/state", endpoint="state"),
        Rule("/_sandbox/requests", endpoint="requests"),
        Rule("/_sandbox/reset", endpoint="reset", methods=["POST"]),
        Rule("/_sandbox/faults", endpoint="faults", methods=["GET", "POST", "DELETE"]),
        Rule("/_sandbox/deliver", endpoint="deliver", methods=["POST"]),
        Rule("/_sandbox/control/<action>", endpoint="control", methods=["POST"]),
    ]
)

CONTROL_ACTIONS = frozenset(
    {
        "add_user",
        "set_privacy",
        "press_start",
        "open_deep_link",
        "tap_chat_button",
        "seed_chat",
        "remove_bot",
        "set_bot_admin",
        "add_member",
        "leave_chat",
        "remove_member",
        "change_title",
    }
)
"""``MaxSandbox`` methods ``POST /_sandbox/control/<action>`` runs with the JSON body as keyword arguments."""


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, ensure_ascii=False)
    return Response(body, status=status, headers=headers, content_type="application/json; charset=utf-8")


def _error(error: MaxApiError) -> Response:
    headers = {} if error.retry_after is None else {"Retry-After": str(int(error.retry_after))}
    return _json(error.body(), error.status, headers)


def _html(body: str, status: int = 200) -> Response:
    return Response(
        body,
        status=status,
        content_type="text/html; charset=utf-8",
        headers={"Content-Security-Policy": CSP, "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff"},
    )


def _see_other(location: str) -> Response:
    return Response(status=303, headers={"Location": location})


class MaxApp:
    """The WSGI callable of one MAX sandbox."""

    def __init__(self, core: MaxCore, controls: MaxSandbox) -> None:
        self._core = core
        self._controls = controls

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        try:
            endpoint, values = _URLS.bind_to_environ(environ).match()
            if endpoint.startswith("/"):
                response = self._api(request, endpoint, dict(values))
            else:
                response = getattr(self, f"_{endpoint}")(request, **values)
        except HTTPException as error:
            if request.path.startswith("/_sandbox/") or (error.code or 500) < 400:
                response = error.get_response(environ)
            else:  # the Bot API answers every error in MAX's shape
                status = error.code or 500
                code = "not.found" if status == 404 else "proto.payload"
                response = _json({"code": code, "message": str(error.description)}, status)
        if response is None:
            drop_connection(environ)
        result: Iterable[bytes] = response(environ, start_response)
        return result

    # ---------------------------------------------------------------- the Bot API

    def _api(self, request: Request, template: str, values: dict[str, str]) -> Response | None:
        core = self._core
        operation = OPERATIONS.get((request.method, template))
        if operation is None:
            allowed = ", ".join(verb for verb, path in OPERATIONS if path == template)
            return _error(MaxApiError(405, f"{request.method} {template} is not served (allowed: {allowed})"))
        name = f"{request.method} {template}"
        with core.lock:
            core.request_counts[name] += 1
        rule = core.faults.draw(name)
        if rule is not None and rule.kind is FaultKind.DELAY:
            core.sleep(rule.value)  # outside the lock: a slow request must not stall the others
            rule = None
        if rule is not None and rule.kind is FaultKind.STATUS:
            return _error(MaxApiError(int(rule.value), rule.message, rule.code, retry_after=rule.retry_after))
        if rule is not None and rule.kind is FaultKind.HTTP_STATUS:
            status = int(rule.value)
            return Response(f"<html><body><h1>{status}</h1><hr>nginx</body></html>", status, mimetype="text/html")
        if rule is not None and rule.kind is FaultKind.DROP:
            return None
        token = request.headers.get("Authorization")
        if not token:
            return _error(MaxApiError(401, "No access_token: send the bot's token in the Authorization header"))
        if not hmac.compare_digest(token.encode(), core.token.encode()):
            return _error(MaxApiError(401, "Invalid access_token"))
        params = Params(values, request.args, request.get_data(cache=False))
        try:
            with core.lock:
                if not core.limiter.allow(core.token):
                    raise MaxApiError(429, f"More than {core.rate_limit_per_second:g} requests per second")
                body = operation(core, params)
        except MaxApiError as error:
            logger.debug("%s answered %s %s", name, error.status, error.code)
            return _error(error)
        if rule is not None and rule.kind is FaultKind.DROP_AFTER_APPLY:
            return None
        return _json(body)

    # ---------------------------------------------------------------- pages

    def _home(self, request: Request) -> Response:
        return Response(status=302, headers={"Location": "/_sandbox/"})

    def _style(self, request: Request) -> Response:
        return Response(STYLESHEET, content_type="text/css; charset=utf-8")

    def _overview(self, request: Request) -> Response:
        with self._core.lock:
            page = overview_page(self._core.to_json(), dict(self._core.request_counts))
        return _html(page)

    def _choose(self, request: Request) -> Response:
        user_id = request.args.get("user_id", "")
        if not user_id.isdecimal() or not user_id.isascii():
            return _html(not_found_page("Choose a MAX user."), 404)
        return _see_other(f"/_sandbox/as/{int(user_id)}")

    def _user_page(self, request: Request, user_id: int, *, error: str = "", status: int = 200) -> Response:
        with self._core.lock:
            state = self._core.to_json()
        if user_id not in {user["user_id"] for user in state["users"]}:
            return _html(not_found_page(f"There is no MAX user {user_id}."), 404)
        notice = "" if error else NOTICES.get(request.args.get("notice", ""), "")
        return _html(user_page(state, user_id, notice=notice, error=error), status)

    def _user_action(self, request: Request, user_id: int, action: str) -> Response:
        if not _same_origin(request):
            return _html(not_found_page("Cross-site form posts are refused."), 403)
        form = request.form
        controls = self._controls
        try:
            if action == "start":
                controls.open_deep_link(user_id, form.get("link", ""))
                notice = "started"
            elif action == "tap":
                controls.tap_chat_button(user_id, form.get("message_id", ""), _form_int(form.get("uuid")))
                notice = "tapped"
            elif action == "leave":
                controls.leave_chat(_form_int(form.get("chat_id")), user_id)
                notice = "left"
            else:
                return _html(not_found_page(f"Unknown action {action!r}."), 404)
        except (KeyError, ValueError, PermissionError) as error:
            message = error.args[0] if error.args else str(error)
            return self._user_page(request, user_id, error=str(message), status=400)
        return _see_other(f"/_sandbox/as/{user_id}?notice={notice}")

    # ---------------------------------------------------------------- test and demo controls

    def _state(self, request: Request) -> Response:
        return _json(self._controls.state())

    def _requests(self, request: Request) -> Response:
        return _json(self._controls.request_counts())

    def _reset(self, request: Request) -> Response:
        self._controls.reset()
        return _json({"ok": True})

    def _deliver(self, request: Request) -> Response:
        return _json({"delivered": self._controls.deliver_pending()})

    def _faults(self, request: Request) -> Response:
        faults = self._core.faults
        if request.method == "DELETE":
            faults.clear()
        elif request.method == "POST":
            payload = _json_body(request)
            if isinstance(payload, Response):
                return payload
            try:
                faults.inject_json(payload)
            except (TypeError, ValueError) as error:
                return _json({"error": str(error)}, 400)
        return _json({"faults": faults.rules()})

    def _control(self, request: Request, action: str) -> Response:
        if action not in CONTROL_ACTIONS:
            return _json({"error": f"unknown action {action!r}", "actions": sorted(CONTROL_ACTIONS)}, 404)
        payload = _json_body(request)
        if isinstance(payload, Response):
            return payload
        try:
            result = getattr(self._controls, action)(**payload)
        except KeyError as error:
            return _json({"error": str(error.args[0] if error.args else error)}, 404)
        except (TypeError, ValueError, PermissionError) as error:
            return _json({"error": str(error)}, 400)
        return _json({"ok": True, "result": result})


def _json_body(request: Request) -> dict[str, Any] | Response:
    # Requiring application/json keeps cross-site HTML forms from poking the controls.
    if not request.is_json:
        return _json({"error": "send JSON (Content-Type: application/json)"}, 415)
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return _json({"error": "send a JSON object"}, 400)
    return payload


def _form_int(raw: str | None) -> int:
    text = (raw or "").strip()
    if not text.lstrip("-").isdecimal() or not text.isascii():
        raise ValueError(f"{raw!r} is not a number")
    return int(text)


def _same_origin(request: Request) -> bool:
    """A form post from the sandbox's own pages (browsers send ``Sec-Fetch-Site`` and ``Origin``)."""
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        return False
    origin = request.headers.get("Origin")
    return origin is None or urlsplit(origin).netloc == request.host
