"""The Sferum API client: typed operations over the VK API wire format, paced, retried and batched.

Every call is ``POST {api_base_url}/method/{name}`` with a form body holding the parameters, ``v`` and
``access_token`` (never in the URL, where proxies and access logs would keep it).  The reply is
``{"response": ...}`` or, still with HTTP 200, ``{"error": {...}}`` (base/objects.json#base_error).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TypeVar

import httpx

from sferum_plugin.gateway import operations
from sferum_plugin.gateway._exchange import ApiReply, encode_form, post_form, read_api_reply
from sferum_plugin.gateway._parse import ReplyReader
from sferum_plugin.gateway.batch import (
    BatchOutcome,
    execute_code,
    map_execute_reply,
    split_batches,
    unknown_where_applied,
)
from sferum_plugin.gateway.config import GatewayConfig
from sferum_plugin.gateway.domain import ChatInfo, ChatMember, CreatedChat, SferumUser, StartedCall
from sferum_plugin.gateway.errors import MalformedResponseError, OutcomeUnknownError, SferumError
from sferum_plugin.gateway.operations import Operation, ParamValue
from sferum_plugin.gateway.ratelimit import RateLimiter, token_key
from sferum_plugin.gateway.redact import SecretScope, install_redaction, register_secret, scrub_params
from sferum_plugin.gateway.retry import RetryPolicy
from sferum_plugin.gateway.tally import FailureTally

__all__ = ["SferumClient"]

logger = logging.getLogger(__name__)
# Defence in depth: whatever this module logs is masked before any handler sees it.
install_redaction(logger)

T = TypeVar("T")


class SferumClient:
    """Sferum operations on behalf of one token (the organisation's application token, usually).

    :param config: base URL, API version, timeout, pacing.
    :param token: the access token; masked by value in logs and errors, never logged or shown.
    :param http: the HTTP client (tests pass one with ``httpx.MockTransport`` or the sandbox's WSGI app).
    :param limiter: the process's shared rate limiter; by default a private one built from ``config``.
    :param retry: the retry policy; by default :meth:`RetryPolicy.from_config`.
    :param secrets: the scope of the block of work the client belongs to: the token is masked by value while it
        is open (a user's token is short-lived).  Without one the token is masked for the life of the process,
        which only the organisation's own credentials may be.
    """

    def __init__(
        self,
        config: GatewayConfig,
        token: str,
        *,
        http: httpx.Client,
        limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
        secrets: SecretScope | None = None,
    ) -> None:
        if not token:
            raise ValueError("an access token is required")
        if secrets is not None:
            secrets.add(token)
        else:
            register_secret(token)
        self.config = config
        self._token = token
        self._token_key = token_key(token)
        self._http = http
        self._limiter = limiter or RateLimiter(config.requests_per_second, config.burst, margin=config.pacing_margin)
        self._retry = retry or RetryPolicy.from_config(config)
        self.failures = FailureTally()
        """Failed attempts by kind, retries included (the sync's history counts them)."""

    def __repr__(self) -> str:
        return f"SferumClient(api_base_url={self.config.api_base_url!r}, token_key={self._token_key!r})"

    # -- running operations ---------------------------------------------------------------------------------

    def call(self, operation: Operation[T]) -> T:
        """Send one operation and return its parsed value.

        :raises SferumError: see :mod:`sferum_plugin.gateway.errors`.
        """
        reply = self._send(operation.method, operation.params, idempotent=operation.idempotent)
        try:
            return operation.parse(reply.response)
        except MalformedResponseError as error:
            if operation.idempotent:
                raise
            # The call ran, but what it made cannot be read: as ambiguous as a lost reply (may_have_been_applied).
            raise OutcomeUnknownError(
                f"the reply cannot be read ({error.message}); reconcile before calling it again",
                method=operation.method,
                request_params=error.request_params,
            ) from error

    def execute_batch(self, batch: Sequence[Operation[T]]) -> list[BatchOutcome[T]]:
        """Run ``batch`` through ``execute``, 25 operations per request, and return one outcome per operation.

        A failure of a single operation is its outcome's error.  When a whole ``execute`` request fails
        (after the retries the policy allows), its operations and all the later ones (which are then not
        sent) carry that error.

        :raises ValueError: the batch holds a non-idempotent operation: a retried ``execute`` must not create
            a chat or a call twice, so those go through :meth:`execute_once` (or alone through :meth:`call`).
        """
        for operation in batch:
            if not operation.idempotent:
                raise ValueError(f"{operation.method} is not idempotent: send it with execute_once, not execute_batch")
        outcomes: list[BatchOutcome[T]] = []
        for run in split_batches(batch):
            try:
                reply = self._send("execute", {"code": execute_code(run)}, idempotent=True)
                mapped = map_execute_reply(run, reply, retry=self._retry)
                for outcome in mapped:
                    if outcome.error is not None:
                        self.failures.refusal(outcome.error)
                outcomes.extend(mapped)
            except SferumError as error:
                logger.warning("execute of %d operations failed: %s", len(run), error)
                outcomes.extend(BatchOutcome(operation, error=error) for operation in batch[len(outcomes) :])
                break
        return outcomes

    def execute_once(self, run: Sequence[Operation[T]]) -> list[BatchOutcome[T]]:
        """Run up to 25 operations that must not be applied twice (``messages.createChat``) in one ``execute``
        request that is never sent again once it may have reached Sferum; return one outcome per operation.

        The request is repeated only after a failure that applied nothing (no connection, HTTP 429, error 6).
        A call that fails inside it is its own outcome: a refusal as it is; a failure after which the call may have
        been applied (error 1 or 10, a result that cannot be read) as :class:`OutcomeUnknownError`.

        :raises OutcomeUnknownError: the request failed after it may have been applied (no reply, a timeout, HTTP
            5xx, error 1 or 10, a reply that cannot be read): any of its calls may have taken effect, so each must be
            reconciled (a chat searched for) before it is sent again.
        :raises SferumError: the request was refused as a whole without being applied (a quota error, a rejected
            token, error 6 after the retries).
        :raises ValueError: no operation, or more than 25.
        """
        code = execute_code(run)
        try:
            reply = self._send("execute", {"code": code}, idempotent=False)
            try:
                mapped = map_execute_reply(run, reply, retry=self._retry)
            except MalformedResponseError as error:
                # Which of the calls ran cannot be read: the whole request is as ambiguous as a lost reply.
                raise OutcomeUnknownError(
                    f"the reply cannot be read ({error.message}); reconcile every call before sending any again",
                    method="execute",
                    request_params=error.request_params,
                ) from error
        except SferumError as error:
            logger.warning("execute of %d operations that must not be repeated failed: %s", len(run), error)
            raise
        for outcome in mapped:
            if outcome.error is not None:
                self.failures.refusal(outcome.error)
        return unknown_where_applied(mapped)

    def _send(self, method: str, params: Mapping[str, ParamValue], *, idempotent: bool) -> ApiReply:
        form = encode_form(params)
        public_params = scrub_params(form)
        url = f"{self.config.api_base_url}/method/{method}"
        body = {**form, "v": self.config.api_version, "access_token": self._token}

        def attempt() -> ApiReply:
            self._limiter.acquire_key(self._token_key)
            logger.debug("POST %s %s", method, public_params)
            response = post_form(
                self._http,
                url,
                body,
                timeout=self.config.timeout_seconds,
                method=method,
                public_params=public_params,
            )
            return read_api_reply(response, method=method, public_params=public_params, retry=self._retry)

        def counted() -> ApiReply:
            try:
                reply = attempt()
            except SferumError as error:
                self.failures.attempt(error)
                raise
            self.failures.attempt(None)
            return reply

        return self._retry.run(counted, method=method, idempotent=idempotent)

    # -- chats ----------------------------------------------------------------------------------------------

    def create_chat(self, title: str, member_ids: Sequence[int]) -> CreatedChat:
        """Create a chat owned by the token's user with ``title`` and initial members.

        :raises OutcomeUnknownError: the request failed after it may have been applied; look the chat up
            (:meth:`search_chats`) before creating it again.
        """
        return self.call(operations.create_chat(title, member_ids))

    def add_chat_member(self, chat_id: int, user_id: int) -> None:
        """Add ``user_id`` to chat ``chat_id``."""
        self.call(operations.add_chat_member(chat_id, user_id))

    def remove_chat_member(self, chat_id: int, user_id: int) -> None:
        """Remove ``user_id`` from chat ``chat_id`` (UserNotInChatError when already gone)."""
        self.call(operations.remove_chat_member(chat_id, user_id))

    def list_chat_members(self, chat_id: int) -> list[ChatMember]:
        """Return every member of chat ``chat_id``, reading all pages (1000 members per request)."""
        members: list[ChatMember] = []
        while True:
            page = self.call(operations.chat_members_page(chat_id, offset=len(members)))
            members.extend(page.members)
            if not page.members or len(members) >= page.total:
                return members

    def get_chats(self, chat_ids: Sequence[int]) -> list[ChatInfo]:
        """Return the chats among ``chat_ids`` the token can see (100 per request)."""
        found: list[ChatInfo] = []
        limit = operations.CONVERSATIONS_BY_ID_MAX
        for start in range(0, len(chat_ids), limit):
            chats = self.call(operations.chats_by_id(chat_ids[start : start + limit]))
            found.extend(chats)
        return found

    def get_chat(self, chat_id: int) -> ChatInfo | None:
        """Return chat ``chat_id``, or None when the token cannot see it."""
        found = self.get_chats([chat_id])
        return found[0] if found else None

    def search_chats(self, query: str, *, exact_title: bool = False) -> list[ChatInfo]:
        """Return the token owner's chats matching ``query`` (at most 255); ``exact_title`` keeps only chats
        titled exactly ``query`` (how a lost ``create_chat`` is reconciled)."""
        chats = self.call(operations.search_chats(query))
        return [chat for chat in chats if chat.title == query] if exact_title else chats

    def get_invite_link(self, chat_id: int, *, reset: bool = False) -> str:
        """Return the chat's invite link; ``reset`` revokes the previous one."""
        return self.call(operations.invite_link(chat_id, reset=reset))

    def rename_chat(self, chat_id: int, title: str) -> None:
        """Change the chat's title."""
        self.call(operations.rename_chat(chat_id, title))

    # -- calls ----------------------------------------------------------------------------------------------

    def start_call(self, *, group_id: int | None = None) -> StartedCall:
        """Start a call (an online lesson) and return its links.

        :raises OutcomeUnknownError: the request failed after it may have been applied.
        """
        return self.call(operations.start_call(group_id=group_id))

    def finish_call(self, call_id: str) -> None:
        """Force-finish call ``call_id`` for everyone."""
        self.call(operations.finish_call(call_id))

    # -- users ----------------------------------------------------------------------------------------------

    def get_users(self, user_ids: Sequence[int]) -> list[SferumUser]:
        """Return the users among ``user_ids`` that exist (1000 per request)."""
        found: list[SferumUser] = []
        limit = operations.USERS_GET_MAX
        for start in range(0, len(user_ids), limit):
            users = self.call(operations.users(user_ids[start : start + limit]))
            found.extend(users)
        return found

    def get_token_owner(self) -> SferumUser:
        """Return the user the token belongs to."""
        found = self.call(operations.users())
        if len(found) != 1:
            raise ReplyReader("users.get").malformed(f"{len(found)} users for the token owner")
        return found[0]
