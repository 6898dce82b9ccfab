"""One HTTP exchange with MAX's Bot API: send the request, and translate every failure into the error tree.

Lower-level errors (httpx's) are mapped with ``raise ... from error``, as the VK exchange does, so the original
stays in ``__cause__``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import attrs
import httpx

from sferum_plugin.gateway.errors import MalformedResponseError, TransportError
from sferum_plugin.gateway.max.errors import MaxApiError, MaxTransientError, max_error_class

# Raised before a single byte of the request can have reached MAX.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)

QueryValue = str | int | bool | list[int] | list[str] | tuple[int, ...] | tuple[str, ...] | None


@attrs.frozen
class MaxRequest:
    """One call: the HTTP verb, the schema's path template and the values to send.

    :param template: the path as the schema writes it (``/chats/{chatId}/members``); with ``verb`` it names the
        call in errors and logs.
    """

    verb: str
    template: str
    path: Mapping[str, int] = attrs.field(factory=dict)
    query: Mapping[str, QueryValue] = attrs.field(factory=dict)
    body: Mapping[str, object] | None = None

    @property
    def name(self) -> str:
        return f"{self.verb} {self.template}"

    def url(self, base_url: str) -> str:
        return base_url + self.template.format(**self.path)

    def encoded_query(self) -> dict[str, str]:
        """The query as MAX's clients send it: arrays comma-separated (the schema gives ``user_ids`` and ``types``
        ``style: simple``), booleans ``true``/``false``, absent values left out."""
        encoded: dict[str, str] = {}
        for key, value in self.query.items():
            if value is None:
                continue
            if isinstance(value, bool):
                encoded[key] = "true" if value else "false"
            elif isinstance(value, list | tuple):
                encoded[key] = ",".join(str(item) for item in value)
            else:
                encoded[key] = str(value)
        return encoded

    def public_params(self) -> dict[str, object]:
        """What an error may show: the path's and query's values (the token is never among them)."""
        return {**self.path, **self.encoded_query()}


def send(http: httpx.Client, request: MaxRequest, *, base_url: str, token: str, timeout: float) -> httpx.Response:
    """Send ``request`` with the bot token in the ``Authorization`` header; raise TransportError without a reply."""
    url = request.url(base_url)
    try:
        return http.request(
            request.verb,
            url,
            params=request.encoded_query(),
            json=request.body,
            # The token goes only in this header.  The schema's securityScheme still names an `access_token` query
            # parameter, but its own examples send `-H "Authorization: {access_token}"`, and MAX's official
            # TypeScript client moved the token from the query to this header (max-bot-api-client-ts 19ef580,
            # src/core/network/api/client.ts).  A query string ends up in proxies' and servers' access logs.
            headers={"Authorization": token},
            timeout=timeout,
        )
    except _NOT_SENT as error:
        raise _transport_error(request, f"could not connect: {type(error).__name__}", sent=False) from error
    except httpx.TimeoutException as error:
        raise _transport_error(request, f"no reply within {timeout} s: {type(error).__name__}", sent=True) from error
    except (httpx.TransportError, OSError) as error:
        # OSError: a transport other than httpx's own (an in-process WSGI app) lost the connection.
        raise _transport_error(request, f"connection failed: {type(error).__name__}", sent=True) from error


def _transport_error(request: MaxRequest, detail: str, *, sent: bool) -> TransportError:
    return TransportError(
        f"MAX: {detail}", request_sent=sent, method=request.name, request_params=request.public_params()
    )


def read_reply(
    response: httpx.Response, request: MaxRequest, *, now: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> object:
    """Return the decoded body of a 200 reply; raise the :class:`MaxApiError` for an error status.

    :raises MalformedResponseError: a 200 reply that is not JSON, or a status MAX does not use for results.
    """
    if response.status_code >= 400:
        raise api_error(response, request, now=now)
    if response.status_code != 200:
        raise MalformedResponseError(f"HTTP {response.status_code} instead of a result", method=request.name)
    try:
        return response.json()
    except ValueError as error:
        raise MalformedResponseError("reply is not JSON", method=request.name) from error


def api_error(response: httpx.Response, request: MaxRequest, *, now: Callable[[], datetime]) -> MaxApiError:
    """The typed error for an error status, with MAX's ``{"code", "message"}`` when the body has them."""
    code, message = _error_body(response)
    error_class = max_error_class(response.status_code)
    if issubclass(error_class, MaxTransientError):
        return error_class(
            response.status_code,
            code,
            message,
            retry_after=retry_after_seconds(response.headers.get("Retry-After"), now()),
            method=request.name,
            request_params=request.public_params(),
        )
    return error_class(response.status_code, code, message, method=request.name, request_params=request.public_params())


def _error_body(response: httpx.Response) -> tuple[str, str]:
    try:
        body = response.json()
    except ValueError:
        return "", ""  # a proxy's HTML page, say: the status alone carries the meaning
    if not isinstance(body, dict):
        return "", ""
    code, message = body.get("code"), body.get("message")
    return (code if isinstance(code, str) else ""), (message if isinstance(message, str) else "")


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Read a ``Retry-After`` header: delta-seconds or an HTTP-date (RFC 9110 §10.2.3); None if absent or
    unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())
