"""MAX's webhook: MAX (not a signed-in person) POSTs the bot's events here, with the secret in a header.

The route is a webhook route (:attr:`hookspecs.types.Route.webhook`): the host serves it without login and CSRF and
passes the headers and the raw body; :func:`~sferum_plugin.services.max_updates.receive_webhook` checks the secret,
stores the update in the inbox and answers at once.  Subscribe MAX to ``<ЛК address>/m/sferum/max/updates``.
"""

from __future__ import annotations

from hookspecs.types import HttpRequest, HttpResponse
from sferum_plugin.services.max_updates import MAX_UPDATE_BYTES, SECRET_HEADER, receive_webhook
from sferum_plugin.views._routing import ModuleRoute

__all__ = ["ROUTES", "max_updates"]


def max_updates(request: HttpRequest) -> HttpResponse:
    """POST from MAX: one ``Update`` as JSON; 200 once it is stored (or was already)."""
    answer = receive_webhook(request.host, secret=request.headers.get(SECRET_HEADER), body=request.body)
    return HttpResponse(status=answer.status, body=answer.body, content_type="application/json")


ROUTES: tuple[ModuleRoute, ...] = (
    ModuleRoute(
        "max/updates", "max_updates", max_updates, methods=("POST",), webhook=True, max_body_bytes=MAX_UPDATE_BYTES
    ),
)
