"""Mounting plugin routes under ``/m/<module>/`` and translating between Flask and the contract's types."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from typing import Any

from flask import Flask, Response, abort, current_app, redirect, render_template, request, session, url_for
from markupsafe import Markup

from hookspecs.types import HttpRequest, HttpResponse, Page, Route
from lms_host.auth import current_viewer
from lms_host.cabinet import Cabinet, current_cabinet
from lms_host.csrf import CSRF_FIELD, csrf_token, exempt_from_csrf
from lms_host.services.urls import plugin_endpoint

__all__ = ["NamespacedSession", "mount_plugin_routes", "to_flask_response"]

logger = logging.getLogger(__name__)


class NamespacedSession(MutableMapping[str, object]):
    """A plugin's view of the Flask session: its keys are stored as ``plugin:<module>:<key>``."""

    def __init__(self, module: str) -> None:
        self._prefix = f"plugin:{module}:"

    def __getitem__(self, key: str) -> object:
        return session[self._prefix + key]

    def __setitem__(self, key: str, value: object) -> None:
        session[self._prefix + key] = value

    def __delitem__(self, key: str) -> None:
        del session[self._prefix + key]

    def __iter__(self) -> Iterator[str]:
        return (key[len(self._prefix) :] for key in list(session) if key.startswith(self._prefix))

    def __len__(self) -> int:
        return sum(1 for _key in self)


def to_flask_response(result: HttpResponse | Page, *, menu_key: str = "") -> Response:
    """A plugin's answer as a Flask response; a :class:`Page` is wrapped in the host's layout."""
    if isinstance(result, Page):
        html = render_template(
            "plugin_page.html",
            title=result.title,
            # The contract says the plugin escaped the body (it renders it from autoescaping templates).
            body=Markup(result.body_html),  # noqa: S704
            menu_key=result.menu_key or menu_key,
        )
        return Response(html, status=result.status, content_type="text/html; charset=utf-8")
    response = Response(result.body, status=result.status, content_type=result.content_type)
    for name, value in result.headers.items():
        response.headers[name] = value
    return response


def _build_request(cabinet: Cabinet, module: str, path_params: dict[str, str]) -> HttpRequest:
    form_lists = {key: tuple(request.form.getlist(key)) for key in request.form}
    return HttpRequest(
        method=request.method,
        path=request.path,
        viewer=current_viewer(),
        host=cabinet.host,
        path_params={key: str(value) for key, value in path_params.items()},
        args={key: request.args.get(key, "") for key in request.args},
        form={key: request.form.get(key, "") for key in request.form if key != CSRF_FIELD},
        form_lists={key: values for key, values in form_lists.items() if key != CSRF_FIELD},
        session=NamespacedSession(module),
        csrf_token=csrf_token(),
        csrf_field=CSRF_FIELD,
    )


def _build_webhook_request(cabinet: Cabinet, path_params: dict[str, str]) -> HttpRequest:
    """A service's call: its headers and raw body, and nothing of a browser's session (no viewer, no CSRF token)."""
    return HttpRequest(
        method=request.method,
        path=request.path,
        viewer=None,
        host=cabinet.host,
        path_params={key: str(value) for key, value in path_params.items()},
        args={key: request.args.get(key, "") for key in request.args},
        headers={name.lower(): value for name, value in request.headers.items()},
        # Beyond the route's max_body_bytes (set on the request by _apply_body_limit) Werkzeug answers 413 unread.
        body=request.get_data(cache=False),
    )


def _make_view(module: str, route: Route) -> Callable[..., Response]:
    def view(**path_params: str) -> Response:
        cabinet = current_cabinet()
        if not cabinet.settings.is_installed(module):
            abort(404)
        if route.webhook:
            return to_flask_response(route.handler(_build_webhook_request(cabinet, path_params)), menu_key=module)
        viewer = current_viewer()
        if route.login_required and viewer is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))  # type: ignore[return-value]
        if route.permission is not None and (viewer is None or not viewer.can(route.permission)):
            abort(403)
        result = route.handler(_build_request(cabinet, module, path_params))
        return to_flask_response(result, menu_key=module)

    return view


_BODY_LIMITS = "lms_plugin_body_limits"


def _apply_body_limit(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """A route's ``max_body_bytes`` on the request, before any ``before_request`` (the CSRF check reads the form)."""
    limit = current_app.extensions.get(_BODY_LIMITS, {}).get(endpoint)
    if limit is not None:
        request.max_content_length = limit


def mount_plugin_routes(app: Flask, routes: dict[str, Sequence[Route]]) -> int:
    """Register every module's routes as Flask URL rules (404 while the module is not installed).

    :returns: how many rules were mounted.
    """
    mounted = 0
    for module, module_routes in routes.items():
        for route in module_routes:
            rule = f"/m/{module}/{route.rule.lstrip('/')}"
            endpoint = plugin_endpoint(module, route.endpoint)
            app.add_url_rule(rule, endpoint=endpoint, view_func=_make_view(module, route), methods=list(route.methods))
            if route.webhook:
                exempt_from_csrf(app, endpoint)
            if route.max_body_bytes is not None:
                app.extensions.setdefault(_BODY_LIMITS, {})[endpoint] = route.max_body_bytes
            mounted += 1
    # URL value preprocessors run before the before_request functions.
    app.url_value_preprocessor(_apply_body_limit)
    logger.info("mounted %d plugin route(s)", mounted)
    return mounted
