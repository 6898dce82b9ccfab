"""Every way a call to Sferum can fail, as one tree of exceptions rooted in :class:`SferumError`.

Our exception hierarchy::

    SferumError
    ├── TransportError ............... no reply at all: connect error, timeout, dropped connection
    ├── OutcomeUnknownError .......... a non-idempotent call failed in a way that does not say whether it was
    │                                  applied (its ``__cause__`` is that failure): reconcile before repeating it
    ├── ServerError .................. HTTP 5xx (or 429) from the API or VK ID host instead of an API reply
    ├── MalformedResponseError ....... a reply that is not what the schema describes
    ├── ApiError ..................... {"error": {"error_code", "error_msg", ...}} with HTTP 200
    │   ├── RetryableApiError ........ 1 unknown error, 6 too many requests per second, 10 internal server error
    │   ├── QuotaExceededError ....... 9 flood control, 29 rate limit reached (carries when to resume)
    │   │   ├── CaptchaNeededError ... 14 captcha needed: nobody here can solve it, so the service pauses
    │   │   └── SpamRestrictionError . 984 the account is restricted for spam: the service pauses
    │   └── PermanentApiError ........ every other code: retrying cannot help
    │       ├── AuthError ............ 5 user authorization failed, 27/28 group/app authorization failed,
    │       │                          1117 access token has expired
    │       ├── AccessDeniedError .... 7 permission denied, 15 access denied
    │       ├── InvalidParameterError  100 a parameter is missing or invalid
    │       ├── NotFoundError ........ 104 not found (``calls.forceFinish`` of a call that is over or unknown)
    │       ├── InvalidUserIdError ... 113 invalid user id
    │       └── ChatError ............ 9xx, the messages family
    │           ├── ChatAccessDeniedError  917 you don't have access to this chat
    │           ├── NotChatAdminError .... 925 you are not admin of this chat
    │           ├── ChatNotFoundError .... 927 chat does not exist
    │           │   └── ChatDeletedError . 1017 chat was deleted
    │           ├── UserNotInChatError ... 935 user not found in chat
    │           ├── ContactNotFoundError . 936 contact not found
    │           └── NotOrganisationMemberError  967 not an employee of the work chat's organisation,
    │                                      1019 not a member of the chat's organisation
    └── VkIdError .................... VK ID token endpoint {"error", "error_description"}
        ├── InvalidRequestError ...... invalid_request
        ├── InvalidClientError ....... invalid_client (wrong APP ID or redirect URI)
        ├── InvalidGrantError ........ invalid_grant (code expired, used twice, or verifier mismatch)
        └── StateMismatchError ....... the redirect's state is not the one we sent (possible CSRF)

Whether Sferum may have applied the failed call is one rule, stated by each class as
:attr:`SferumError.may_have_been_applied` and read through :func:`may_have_been_applied` by every caller (the retry
policy, the sync, online lessons):

==============================================  =====================================================
failure                                         may have been applied?
==============================================  =====================================================
no reply, nothing sent (connect error)          no
no reply after the request was sent             yes
HTTP 429 (a rate-limiting front refuses first)  no
HTTP 5xx                                        yes
a reply we cannot read                          yes
API error 6 (refused by the rate limiter)       no
API errors 1, 10 (failed inside the server)     yes
every other API error, every VK ID error        no (an error reply is a refusal)
``OutcomeUnknownError``                         yes (by definition)
==============================================  =====================================================

Codes and their meaning come from the schema's ``errors.json`` (``api_error_*`` entries); 967, 984, 1017 and 1019,
which it lacks, from VK's method pages (dev.vk.com, see :class:`~sferum_plugin.gateway.codes.VkErrorCode`).
Every error carries the method and the request parameters with secrets removed
(:func:`~sferum_plugin.gateway.redact.scrub_params`); its message is masked by
:func:`~sferum_plugin.gateway.redact.redact_text`, so neither ``str()`` nor ``repr()`` of an error ever shows a token.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sferum_plugin.gateway.codes import VkErrorCode
from sferum_plugin.gateway.redact import redact_text, scrub_params

__all__ = [
    "AccessDeniedError",
    "ApiError",
    "AuthError",
    "CaptchaNeededError",
    "ChatAccessDeniedError",
    "ChatDeletedError",
    "ChatError",
    "ChatNotFoundError",
    "ContactNotFoundError",
    "InvalidClientError",
    "InvalidGrantError",
    "InvalidParameterError",
    "InvalidRequestError",
    "InvalidUserIdError",
    "MalformedResponseError",
    "NotChatAdminError",
    "NotFoundError",
    "NotOrganisationMemberError",
    "OutcomeUnknownError",
    "PermanentApiError",
    "QuotaExceededError",
    "RetryableApiError",
    "ServerError",
    "SferumError",
    "SpamRestrictionError",
    "StateMismatchError",
    "TransportError",
    "UserNotInChatError",
    "VkIdError",
    "api_error_class",
    "may_have_been_applied",
    "vkid_error_class",
]


class SferumError(Exception):
    """Base of every gateway error.

    :param message: what went wrong, for an operator; secrets in it are masked.
    :param method: the VK API method (or VK ID endpoint) that was called.
    :param request_params: the request's parameters; secret parameters are dropped.
    """

    def __init__(
        self, message: str, *, method: str | None = None, request_params: Mapping[str, object] | None = None
    ) -> None:
        self.message = redact_text(message)
        super().__init__(self.message)
        self.method = method
        self.request_params: dict[str, str] = scrub_params(request_params or {})

    @property
    def may_have_been_applied(self) -> bool:
        """Whether Sferum may have applied the call although it failed (see the table above)."""
        return False

    def __str__(self) -> str:
        return f"{self.method}: {self.message}" if self.method else self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, method={self.method!r})"


class TransportError(SferumError):
    """No reply was received.

    :param request_sent: False when nothing can have reached Sferum (the connection was never established),
        so that even a non-idempotent call may be repeated safely; True (the cautious default) otherwise.
    """

    def __init__(
        self,
        message: str,
        *,
        request_sent: bool = True,
        method: str | None = None,
        request_params: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message, method=method, request_params=request_params)
        self.request_sent = request_sent

    @property
    def may_have_been_applied(self) -> bool:
        return self.request_sent


class OutcomeUnknownError(SferumError):
    """A non-idempotent call (``messages.createChat``, ``calls.start``) failed after it may have been applied.

    It is never repeated automatically: the caller must reconcile first (look the chat up by title, check
    the lesson's call) and only then decide to try again.  ``__cause__`` holds the ambiguous failure, which may be
    a :class:`TransportError` (no reply) or a reply that does not say whether the call was applied.
    """

    @property
    def may_have_been_applied(self) -> bool:
        return True


class ServerError(SferumError):
    """The host answered with an HTTP error status (5xx, or 429 from a proxy) instead of an API reply."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        method: str | None = None,
        request_params: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message, method=method, request_params=request_params)
        self.status_code = status_code

    @property
    def may_have_been_applied(self) -> bool:
        # Assumption: a 429 comes from a rate-limiting front that refuses before forwarding; a 5xx may come after
        # the API did its work (a gateway timeout, a crash while answering).
        return self.status_code != 429


class MalformedResponseError(SferumError):
    """The reply is not JSON or does not have the shape the schema describes for the method."""

    @property
    def may_have_been_applied(self) -> bool:
        return True  # a reply was sent, so the call ran; what it did cannot be read


class ApiError(SferumError):
    """VK answered ``{"error": {...}}``.

    :param code: ``error_code`` (see ``errors.json``).
    :param error_msg: ``error_msg`` as VK sent it (secrets masked).
    """

    def __init__(
        self,
        code: int,
        error_msg: str,
        *,
        method: str | None = None,
        request_params: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(f"VK API error {code}: {error_msg}", method=method, request_params=request_params)
        self.code = code
        self.error_msg = redact_text(error_msg)


class RetryableApiError(ApiError):
    """A transient API error (1, 6, 10): the retry policy repeats the call with backoff."""

    @property
    def may_have_been_applied(self) -> bool:
        # Assumption: error 6 is raised by the rate limiter in front of the method, before anything is done;
        # 1 and 10 are failures inside the server, after the method may have done its work.
        return self.code != VkErrorCode.TOO_MANY


class QuotaExceededError(ApiError):
    """Flood control (9) or a method quota (29): stop, and do not call again before ``resume_at``.

    :param retry_after: seconds to wait from the moment of the error.
    :param resume_at: the earliest time (UTC) to resume.
    :param strike: which quota error of this code in a row it is (1: the first); flood control that comes back
        at once pauses longer each time (:func:`~sferum_plugin.gateway.retry.quota_pause`).
    """

    def __init__(
        self,
        code: int,
        error_msg: str,
        *,
        retry_after: float,
        resume_at: datetime,
        strike: int = 1,
        method: str | None = None,
        request_params: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(code, error_msg, method=method, request_params=request_params)
        self.retry_after = retry_after
        self.resume_at = resume_at
        self.strike = strike


class CaptchaNeededError(QuotaExceededError):
    """VK wants a captcha solved (14, ``api_error_captcha``).  A server has nobody to solve it, and asking again at
    once only meets the captcha again: callers pause as for a quota, with a reason of their own."""


class SpamRestrictionError(QuotaExceededError):
    """The organisation account is restricted for spam (984, "You has spam restriction", dev.vk.com method pages of
    ``messages.createChat``, ``addChatUser`` and ``removeChatUser``): callers pause as for a quota, for longer."""


class PermanentApiError(ApiError):
    """An API error that repeating the same call cannot fix; it surfaces at once."""


class AuthError(PermanentApiError):
    """The token was rejected (5, 27, 28, 1117): wrong, revoked or expired credentials."""


class AccessDeniedError(PermanentApiError):
    """The token may not do this (7, 15)."""


class InvalidParameterError(PermanentApiError):
    """A parameter is missing or invalid (100)."""


class NotFoundError(PermanentApiError):
    """What the call names does not exist (104, ``api_error_not_found``), e.g. a call ``calls.forceFinish`` is asked
    to end that is over or unknown."""


class InvalidUserIdError(PermanentApiError):
    """The user id is invalid (113)."""


class ChatError(PermanentApiError):
    """An error of the messages family (9xx)."""


class ChatAccessDeniedError(ChatError):
    """The token's owner has no access to this chat (917)."""


class NotChatAdminError(ChatError):
    """The token's owner is not an admin of this chat (925)."""


class ChatNotFoundError(ChatError):
    """The chat does not exist (927)."""


class ChatDeletedError(ChatNotFoundError):
    """The chat was deleted (1017, dev.vk.com ``messages.removeChatUser``): gone, as with 927."""


class UserNotInChatError(ChatError):
    """The user is not a member of this chat (935)."""


class ContactNotFoundError(ChatError):
    """The user cannot be found or reached (936)."""


class NotOrganisationMemberError(ChatError):
    """This person cannot be in the chat because they are not of the chat's organisation in Sferum: 967 ("This user
    can't be added to the work chat, as they aren't an employee.", dev.vk.com ``messages.addChatUser``) and 1019
    ("Chat can not be joined because user who want to join not organization member", ``messages.getChatPreview``).
    A refusal for this one person; the chat and everyone else are fine."""


def may_have_been_applied(error: SferumError) -> bool:
    """Could Sferum have applied the call that failed with ``error``?  The one rule every caller uses."""
    return error.may_have_been_applied


_API_ERROR_CLASSES: dict[int, type[ApiError]] = {
    VkErrorCode.UNKNOWN: RetryableApiError,
    VkErrorCode.TOO_MANY: RetryableApiError,
    VkErrorCode.SERVER: RetryableApiError,
    VkErrorCode.FLOOD: QuotaExceededError,
    VkErrorCode.RATE_LIMIT: QuotaExceededError,
    VkErrorCode.CAPTCHA: CaptchaNeededError,
    VkErrorCode.SPAM_RESTRICTION: SpamRestrictionError,
    VkErrorCode.AUTH: AuthError,
    VkErrorCode.GROUP_AUTH: AuthError,
    VkErrorCode.APP_AUTH: AuthError,
    VkErrorCode.ACCESS_TOKEN_EXPIRED: AuthError,
    VkErrorCode.PERMISSION: AccessDeniedError,
    VkErrorCode.ACCESS: AccessDeniedError,
    VkErrorCode.PARAM: InvalidParameterError,
    VkErrorCode.NOT_FOUND: NotFoundError,
    VkErrorCode.PARAM_USER_ID: InvalidUserIdError,
    VkErrorCode.CHAT_USER_NO_ACCESS: ChatAccessDeniedError,
    VkErrorCode.CHAT_NOT_ADMIN: NotChatAdminError,
    VkErrorCode.CHAT_NOT_EXIST: ChatNotFoundError,
    VkErrorCode.CHAT_USER_NOT_IN_CHAT: UserNotInChatError,
    VkErrorCode.CONTACT_NOT_FOUND: ContactNotFoundError,
    VkErrorCode.NOT_AN_EMPLOYEE: NotOrganisationMemberError,
    VkErrorCode.CHAT_DELETED: ChatDeletedError,
    VkErrorCode.NOT_ORGANISATION_MEMBER: NotOrganisationMemberError,
}


def api_error_class(code: int) -> type[ApiError]:
    """Return the exception class for VK API error ``code``."""
    if code in _API_ERROR_CLASSES:
        return _API_ERROR_CLASSES[code]
    if 900 <= code < 1000:
        return ChatError
    return PermanentApiError


class VkIdError(SferumError):
    """VK ID refused a request (OAuth 2.1 error reply ``{"error", "error_description"}``).

    :param error: the OAuth error code (``invalid_grant``, ...).
    :param error_description: VK ID's explanation (secrets masked).
    """

    def __init__(
        self,
        error: str,
        error_description: str = "",
        *,
        method: str | None = None,
        request_params: Mapping[str, object] | None = None,
    ) -> None:
        text = f"VK ID error {error}: {error_description}" if error_description else f"VK ID error {error}"
        super().__init__(text, method=method, request_params=request_params)
        self.error = error
        self.error_description = redact_text(error_description)


class InvalidRequestError(VkIdError):
    """The request to VK ID lacks a parameter or has a malformed one (``invalid_request``)."""


class InvalidClientError(VkIdError):
    """VK ID does not know the client (APP ID) or its redirect URI (``invalid_client``)."""


class InvalidGrantError(VkIdError):
    """The authorization code or refresh token is invalid, expired, used, or the PKCE verifier does not
    match (``invalid_grant``)."""


class StateMismatchError(VkIdError):
    """The ``state`` that came back with the redirect is not the one that was sent."""


_VKID_ERROR_CLASSES: dict[str, type[VkIdError]] = {
    "invalid_request": InvalidRequestError,
    "invalid_client": InvalidClientError,
    "invalid_grant": InvalidGrantError,
}


def vkid_error_class(error: str) -> type[VkIdError]:
    """Return the exception class for a VK ID OAuth ``error`` code."""
    return _VKID_ERROR_CLASSES.get(error, VkIdError)
