"""One HTTP exchange with Sferum: encode the form, post it, and translate every failure into the error tree.

Lower-level errors (httpx's) are mapped with ``raise ... from error``, the way httpx maps its transports'
errors, so the original stays in ``__cause__``.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs
import httpx

from sferum_plugin.gateway.errors import (
    ApiError,
    MalformedResponseError,
    QuotaExceededError,
    ServerError,
    TransportError,
    api_error_class,
)
from sferum_plugin.gateway.operations import ParamValue
from sferum_plugin.gateway.retry import RetryPolicy

# Exceptions raised before a single byte of the request can have reached the server.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


def encode_value(value: ParamValue) -> str | None:
    """Encode one parameter as VK clients do: booleans 0/1, arrays comma-separated; None (and [])
    mean "not sent"."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | str):
        return str(value)
    if not value:
        return None
    return ",".join(str(item) for item in value)


def encode_form(params: Mapping[str, ParamValue]) -> dict[str, str]:
    """Encode parameters for a form body, leaving out the ones not sent."""
    encoded = {key: encode_value(value) for key, value in params.items()}
    return {key: value for key, value in encoded.items() if value is not None}


def post_form(
    http: httpx.Client,
    url: str,
    form: Mapping[str, str],
    *,
    timeout: float,
    method: str,
    public_params: Mapping[str, object],
) -> httpx.Response:
    """POST ``form`` (secrets included) to ``url``; raise TransportError or ServerError on failure.

    :param public_params: the parameters an error may carry (secrets are scrubbed again by the error).
    """
    try:
        response = http.post(url, data=dict(form), timeout=timeout)
    except _NOT_SENT as error:
        raise TransportError(
            f"could not connect to {_host(url)}: {type(error).__name__}: {error}",
            request_sent=False,
            method=method,
            request_params=public_params,
        ) from error
    except httpx.TimeoutException as error:
        raise TransportError(
            f"no reply from {_host(url)} within {timeout} s: {type(error).__name__}",
            request_sent=True,
            method=method,
            request_params=public_params,
        ) from error
    except (httpx.TransportError, OSError) as error:
        # OSError: a transport other than httpx's own (an in-process WSGI app, say) lost the connection.
        raise TransportError(
            f"connection to {_host(url)} failed: {type(error).__name__}: {error}",
            request_sent=True,
            method=method,
            request_params=public_params,
        ) from error
    # 429 comes from proxies in front of the API (VK itself answers error 6 with HTTP 200).
    if response.status_code >= 500 or response.status_code == 429:
        raise ServerError(
            f"HTTP {response.status_code} from {_host(url)}",
            status_code=response.status_code,
            method=method,
            request_params=public_params,
        )
    return response


def _host(url: str) -> str:
    return httpx.URL(url).host or url


def json_object(response: httpx.Response, *, method: str) -> Mapping[str, object]:
    """Decode a JSON object body or raise MalformedResponseError."""
    try:
        body = response.json()
    except ValueError as error:
        raise MalformedResponseError(f"reply is not JSON (HTTP {response.status_code})", method=method) from error
    if not isinstance(body, dict):
        raise MalformedResponseError(f"reply is {type(body).__name__}, expected a JSON object", method=method)
    return body


@attrs.frozen
class ApiReply:
    """A successful VK API reply: ``response``, and for ``execute`` the failures of its inner calls."""

    response: object
    execute_errors: tuple[Mapping[str, object], ...] = ()


def read_api_reply(
    response: httpx.Response, *, method: str, public_params: Mapping[str, object], retry: RetryPolicy
) -> ApiReply:
    """Read ``{"response": ...}`` or raise the ApiError subclass for ``{"error": {...}}``."""
    if response.status_code != 200:
        raise MalformedResponseError(f"HTTP {response.status_code} instead of an API reply", method=method)
    body = json_object(response, method=method)
    if "error" in body:
        raise api_error(body["error"], method=method, public_params=public_params, retry=retry)
    if "response" not in body:
        raise MalformedResponseError("reply has neither 'response' nor 'error'", method=method)
    raw_errors = body.get("execute_errors", [])
    if not isinstance(raw_errors, list) or not all(isinstance(item, dict) for item in raw_errors):
        raise MalformedResponseError("'execute_errors' is not an array of objects", method=method)
    return ApiReply(response=body["response"], execute_errors=tuple(raw_errors))


def api_error(
    payload: object, *, method: str, public_params: Mapping[str, object], retry: RetryPolicy
) -> ApiError | MalformedResponseError:
    """Build the typed error for an error object (base/objects.json#base_error, or an ``execute_errors``
    entry, which has the same ``error_code`` and ``error_msg``)."""
    if not isinstance(payload, Mapping):
        return MalformedResponseError("'error' is not an object", method=method)
    code = payload.get("error_code")
    if isinstance(code, bool) or not isinstance(code, int):
        return MalformedResponseError(f"error without an integer error_code: {code!r}", method=method)
    message = payload.get("error_msg")
    text = message if isinstance(message, str) else ""
    error_class = api_error_class(code)
    if issubclass(error_class, QuotaExceededError):  # 9, 29, and 14, 984 that pause as they do
        return retry.quota_error(code, text, method=method, request_params=public_params)
    return error_class(code, text, method=method, request_params=public_params)
