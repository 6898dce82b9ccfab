"""MAX's error replies: an HTTP status and the body ``{"code", "message"}`` (``components.schemas.Error``).

The statuses are those ``info.description`` lists (400, 401, 404, 405, 429, 503) plus 403 and 500 from the paths.
The schema names one error key, ``verify.token`` (a wrong or missing token); for the others the sandbox uses the
keys MAX's servers send in practice: ``proto.payload`` (a request MAX cannot take), ``chat.denied`` (the bot may not
do this in the chat), ``chat.not.found``, ``not.found``, ``too.many.requests``, ``internal.error``,
``service.unavailable``. 405 is ``method.not.allowed``.
"""

from __future__ import annotations

from typing import Any

DEFAULT_CODES: dict[int, str] = {
    400: "proto.payload",
    401: "verify.token",
    403: "chat.denied",
    404: "not.found",
    405: "method.not.allowed",
    429: "too.many.requests",
    500: "internal.error",
    503: "service.unavailable",
}

DEFAULT_MESSAGES: dict[int, str] = {
    400: "Invalid request",
    401: "Invalid access_token",
    403: "Access denied",
    404: "Resource not found",
    405: "Method is not allowed",
    429: "Too many requests",
    500: "Internal error",
    503: "Service unavailable",
}


class MaxApiError(Exception):
    """An error reply: ``status``, MAX's ``code`` (default: the status's usual key) and ``message``."""

    def __init__(
        self, status: int, message: str | None = None, code: str | None = None, *, retry_after: float | None = None
    ) -> None:
        self.status = status
        self.code = code or DEFAULT_CODES.get(status, "internal.error")
        self.message = message or DEFAULT_MESSAGES.get(status, "Error")
        self.retry_after = retry_after
        super().__init__(status, self.code, self.message)

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}


def bad_request(message: str) -> MaxApiError:
    return MaxApiError(400, message)


def chat_denied(message: str) -> MaxApiError:
    return MaxApiError(403, message)


def chat_not_found(chat_id: int) -> MaxApiError:
    return MaxApiError(404, f"Chat {chat_id} not found", "chat.not.found")
