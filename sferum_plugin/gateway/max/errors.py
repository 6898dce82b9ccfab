"""MAX's refusals as one branch of the gateway's error tree (:class:`~sferum_plugin.gateway.errors.SferumError`).

MAX answers an error with an HTTP status and the body ``{"code", "message"}`` (the schema's ``info.description``,
"Error responses", and ``components.schemas.Error``); the status carries the meaning (``info.description``, "HTTP
response codes": 400, 401, 404, 405, 429, 503; the paths add 403 and 500).  The branch is drawn in the
subpackage's docstring (:mod:`sferum_plugin.gateway.max`).

``may_have_been_applied`` follows the gateway's one rule:

- a 4xx reply is a refusal: the method did not run (no);
- 429 comes from MAX's rate limit, which refuses before the method runs (no), as the gateway assumes for 429;
- 503 and the other 5xx: yes.  MAX documents 503 only as "service unavailable", not that it is answered before
  the method runs, so it is treated like any other 5xx: the call may have been applied.  Idempotent calls are
  retried anyway; ``send_message`` turns it into ``OutcomeUnknownError``;
- ``{"success": false}`` with HTTP 200 is a refusal (no).

The 429/5xx classes are also :class:`~sferum_plugin.gateway.errors.ServerError` (HTTP 5xx or 429 instead of a
result), which is what the retry policy repeats with backoff.
"""

from __future__ import annotations

from collections.abc import Mapping

from sferum_plugin.gateway.errors import ServerError, SferumError
from sferum_plugin.gateway.redact import redact_text

__all__ = [
    "MaxApiError",
    "MaxBadRequestError",
    "MaxForbiddenError",
    "MaxMethodNotAllowedError",
    "MaxNotFoundError",
    "MaxOperationFailedError",
    "MaxServiceUnavailableError",
    "MaxTooManyRequestsError",
    "MaxTransientError",
    "MaxUnauthorizedError",
    "max_error_class",
]


class MaxApiError(SferumError):
    """MAX refused the call: an HTTP error status, usually with ``{"code", "message"}``.

    :param status_code: the HTTP status (200 for ``{"success": false}``).
    :param code: MAX's error key (``verify.token``, ...); empty when the body had none.
    :param error_message: MAX's explanation (secrets masked); empty when the body had none.
    """

    def __init__(
        self,
        status_code: int,
        code: str = "",
        error_message: str = "",
        *,
        method: str | None = None,
        request_params: Mapping[str, object] | None = None,
    ) -> None:
        detail = ": ".join(part for part in (code, error_message) if part) or "no error body"
        # SferumError directly: the transient subclasses also derive from ServerError, whose __init__ takes other
        # arguments; status_code is set here for both.
        SferumError.__init__(self, f"MAX HTTP {status_code}: {detail}", method=method, request_params=request_params)
        self.status_code = status_code
        self.code = code
        self.error_message = redact_text(error_message)

    @property
    def may_have_been_applied(self) -> bool:
        return False  # an error reply to a request is a refusal


class MaxOperationFailedError(MaxApiError):
    """HTTP 200 with ``{"success": false, "message"}`` (``components.schemas.SimpleQueryResult``): not done."""


class MaxBadRequestError(MaxApiError):
    """400: MAX found the request invalid; repeating it cannot help."""


class MaxUnauthorizedError(MaxApiError):
    """401: the bot token is wrong or revoked (``verify.token``).  Every call will fail: pause everything and
    tell the administrator to enter a new token from @MasterBot."""


class MaxForbiddenError(MaxApiError):
    """403: the bot may not do this, e.g. it is not an administrator of the chat or lacks the
    ``add_remove_members`` right."""


class MaxNotFoundError(MaxApiError):
    """404: the chat (or message, or user) does not exist for the bot: the chat is gone or the bot is not in it."""


class MaxMethodNotAllowedError(MaxApiError):
    """405: the method is not allowed here, e.g. long polling (``GET /updates``) while a webhook is subscribed."""


class MaxTransientError(MaxApiError, ServerError):
    """HTTP 429 or 5xx: retried with backoff by the retry policy (it is a ``ServerError``).

    :param retry_after: seconds MAX asked to wait (its ``Retry-After`` header), or None.
    """

    def __init__(
        self,
        status_code: int,
        code: str = "",
        error_message: str = "",
        *,
        retry_after: float | None = None,
        method: str | None = None,
        request_params: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(status_code, code, error_message, method=method, request_params=request_params)
        self.retry_after = retry_after

    @property
    def may_have_been_applied(self) -> bool:
        return self.status_code != 429  # 5xx: the method may have run before the failure


class MaxTooManyRequestsError(MaxTransientError):
    """429: more than MAX's 30 requests per second; refused before the method ran."""

    @property
    def may_have_been_applied(self) -> bool:
        return False


class MaxServiceUnavailableError(MaxTransientError):
    """503: MAX is unavailable; it does not say the method did not run, so it may have been applied."""

    @property
    def may_have_been_applied(self) -> bool:
        return True


_BY_STATUS: dict[int, type[MaxApiError]] = {
    400: MaxBadRequestError,
    401: MaxUnauthorizedError,
    403: MaxForbiddenError,
    404: MaxNotFoundError,
    405: MaxMethodNotAllowedError,
    429: MaxTooManyRequestsError,
    503: MaxServiceUnavailableError,
}


def max_error_class(status_code: int) -> type[MaxApiError]:
    """Return the exception class for an HTTP error status from MAX."""
    if status_code in _BY_STATUS:
        return _BY_STATUS[status_code]
    if status_code >= 500:
        return MaxTransientError
    return MaxApiError
