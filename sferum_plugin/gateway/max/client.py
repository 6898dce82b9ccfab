"""The MAX Bot API client: typed calls over MAX's wire format, paced, retried, and held to the vendored schema.

Every call is ``{base_url}{path}`` with the path as the schema writes it (``/chats/{chatId}/members``), query
parameters for what the schema puts in the query, a JSON body for what it puts in the body, and the bot token in
the ``Authorization`` header only.  A 200 reply is read into the values of :mod:`.values` and :mod:`.updates`; any
other status becomes a :class:`~sferum_plugin.gateway.max.errors.MaxApiError`.

Idempotency, per call (what the retry policy may repeat after an ambiguous failure): every read; ``add_members``
(adding someone already in the chat changes nothing); ``remove_member`` (the person ends up out either way, though
a repeat after a lost reply may be refused because they are already out); ``edit_chat_title`` (sets the same
title); ``subscribe``/``unsubscribe`` (they set the subscription for a URL).  ``send_message`` is not: a repeat
would post a second message (a second ``chat`` button could create a second chat), so an ambiguous failure raises
:class:`~sferum_plugin.gateway.errors.OutcomeUnknownError` after that one request.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

import httpx

from sferum_plugin.gateway.errors import MalformedResponseError
from sferum_plugin.gateway.max import _parse
from sferum_plugin.gateway.max._exchange import MaxRequest, read_reply, send
from sferum_plugin.gateway.max._parse import MaxReplyReader
from sferum_plugin.gateway.max._retry import honouring_retry_after
from sferum_plugin.gateway.max.buttons import Button, keyboard_attachment
from sferum_plugin.gateway.max.config import MaxConfig
from sferum_plugin.gateway.max.errors import MaxOperationFailedError
from sferum_plugin.gateway.max.updates import PRODUCT_UPDATE_TYPES, UpdatesPage, read_updates_page
from sferum_plugin.gateway.max.values import (
    MaxBot,
    MaxChat,
    MaxChatMember,
    MaxSentMessage,
    MaxSubscription,
    MembersPage,
    ModifyMembersResult,
)
from sferum_plugin.gateway.ratelimit import RateLimiter, token_key
from sferum_plugin.gateway.redact import install_redaction, register_secret
from sferum_plugin.gateway.retry import RetryPolicy

__all__ = ["MEMBERS_PER_REQUEST", "MESSAGE_TEXT_MAX_LENGTH", "MaxClient"]

logger = logging.getLogger(__name__)
# Defence in depth: whatever this module logs is masked before any handler sees it.
install_redaction(logger)

T = TypeVar("T")

MEMBERS_PER_REQUEST = 100
"""At most 100 user ids per ``POST /chats/{chatId}/members`` (``UserIdsList.user_ids``), and at most 100 members per
page of ``GET /chats/{chatId}/members`` (its ``count`` parameter: ``maximum: 100``)."""

MESSAGE_TEXT_MAX_LENGTH = 4000
"""``NewMessageBody.text`` has ``maxLength: 4000``."""

# SubscriptionRequestBody.secret: "^[a-zA-Z0-9_-]{5,256}$".
_SECRET = re.compile(r"[a-zA-Z0-9_-]{5,256}")


def _chunks(items: Sequence[int], size: int) -> Iterator[list[int]]:
    unique = list(dict.fromkeys(items))  # the schema's arrays of ids have uniqueItems
    for start in range(0, len(unique), size):
        yield unique[start : start + size]


class MaxClient:
    """MAX Bot API calls on behalf of one bot.

    :param config: base URL, timeout, pacing, attempts.
    :param token: the bot's token (from @MasterBot); registered for redaction, never logged or shown.
    :param http: the HTTP client (tests pass one with ``httpx.MockTransport``).
    :param limiter: the process's shared rate limiter; by default a private one built from ``config``.
    :param retry: the retry policy; by default one with ``config.max_attempts``.  Either way its waits are made to
        honour MAX's ``Retry-After``.
    """

    def __init__(
        self,
        config: MaxConfig,
        token: str,
        *,
        http: httpx.Client,
        limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        if not token:
            raise ValueError("a bot token is required")
        register_secret(token)
        self.config = config
        self._token = token
        self._token_key = token_key(token)
        self._http = http
        self._limiter = limiter or RateLimiter(config.requests_per_second, config.burst)
        policy = retry or RetryPolicy(max_attempts=config.max_attempts)
        self._retry = honouring_retry_after(policy, config.max_retry_after_seconds)

    def __repr__(self) -> str:
        return f"MaxClient(base_url={self.config.base_url!r}, token_key={self._token_key!r})"

    def _call(
        self,
        request: MaxRequest,
        read: Callable[[MaxReplyReader, object], T],
        *,
        idempotent: bool,
        timeout: float | None = None,
    ) -> T:
        reader = MaxReplyReader(request.name)

        def attempt() -> T:
            self._limiter.acquire_key(self._token_key)
            logger.debug("%s %s", request.name, request.public_params())
            response = send(
                self._http,
                request,
                base_url=self.config.base_url,
                token=self._token,
                timeout=self.config.timeout_seconds if timeout is None else timeout,
            )
            # Read inside the attempt: a reply that cannot be read is, for send_message, as ambiguous as none.
            return read(reader, read_reply(response, request))

        return self._retry.run(attempt, method=request.name, idempotent=idempotent)

    # -- the bot --------------------------------------------------------------------------------------------

    def get_me(self) -> MaxBot:
        """The bot the token belongs to (``GET /me``): «Проверить подключение» shows its name."""
        return self._call(MaxRequest("GET", "/me"), _parse.read_bot, idempotent=True)

    # -- chats ----------------------------------------------------------------------------------------------

    def list_chats(self) -> list[MaxChat]:
        """Every chat the bot is in (``GET /chats``, all pages by ``marker``).

        The vendored schema says MAX stopped supporting this method in June 2026 and no longer describes its
        parameters or reply; they are sent and read as the schema's snapshot of 2026-06-02 described them
        (``count`` up to 100, ``marker``; the reply ``ChatList``), which MAX's TypeScript client still uses.  If MAX
        answers 404 or 405, the bot's chats are known only from ``bot_added``/``bot_removed`` events, as the schema
        now recommends.
        """
        chats: list[MaxChat] = []
        marker: int | None = None
        seen: set[int] = set()
        while True:
            request = MaxRequest("GET", "/chats", query={"count": MEMBERS_PER_REQUEST, "marker": marker})
            page, marker = self._call(request, _parse.read_chats_page, idempotent=True)
            chats.extend(page)
            if marker is None:
                return chats
            _check_marker_advances(marker, seen, request.name)

    def get_chat(self, chat_id: int) -> MaxChat:
        """Chat ``chat_id`` as the bot sees it (``GET /chats/{chatId}``); its ``status`` says whether the bot is
        still in it."""
        return self._call(
            MaxRequest("GET", "/chats/{chatId}", path={"chatId": chat_id}), _parse.read_chat, idempotent=True
        )

    def edit_chat_title(self, chat_id: int, title: str) -> MaxChat:
        """Rename the chat (``PATCH /chats/{chatId}``, ``ChatPatch.title``: 1 to 200 characters); the bot must be
        an administrator.  Returns the chat as changed."""
        if not 1 <= len(title) <= 200:
            raise ValueError("a chat title has 1 to 200 characters (ChatPatch.title)")
        request = MaxRequest("PATCH", "/chats/{chatId}", path={"chatId": chat_id}, body={"title": title})
        return self._call(request, _parse.read_chat, idempotent=True)

    # -- members --------------------------------------------------------------------------------------------

    def chat_members_page(
        self, chat_id: int, *, marker: int | None = None, count: int = MEMBERS_PER_REQUEST
    ) -> MembersPage:
        """One page of the chat's members (``GET /chats/{chatId}/members``, ``count`` 1 to 100); pass the returned
        ``marker`` for the next page.  The bot must be an administrator of the chat."""
        if not 1 <= count <= MEMBERS_PER_REQUEST:
            raise ValueError(f"count is 1 to {MEMBERS_PER_REQUEST}")
        request = MaxRequest(
            "GET", "/chats/{chatId}/members", path={"chatId": chat_id}, query={"marker": marker, "count": count}
        )
        return self._call(request, _parse.read_members_page, idempotent=True)

    def chat_members(self, chat_id: int) -> list[MaxChatMember]:
        """Every member of the chat, reading pages of 100 until MAX sends no ``marker``."""
        members: list[MaxChatMember] = []
        marker: int | None = None
        seen: set[int] = set()
        while True:
            page = self.chat_members_page(chat_id, marker=marker)
            members.extend(page.members)
            if page.marker is None:
                return members
            _check_marker_advances(page.marker, seen, "GET /chats/{chatId}/members")
            marker = page.marker

    def chat_members_by_ids(self, chat_id: int, user_ids: Sequence[int]) -> list[MaxChatMember]:
        """Those of ``user_ids`` who are members of the chat (``GET /chats/{chatId}/members?user_ids=``).

        The schema sets no limit on ``user_ids``; 100 per request (the page size) keeps the URL short.
        """
        found: list[MaxChatMember] = []
        for chunk in _chunks(user_ids, MEMBERS_PER_REQUEST):
            request = MaxRequest("GET", "/chats/{chatId}/members", path={"chatId": chat_id}, query={"user_ids": chunk})
            found.extend(self._call(request, _parse.read_members_page, idempotent=True).members)
        return found

    def my_membership(self, chat_id: int) -> MaxChatMember:
        """The bot's own membership (``GET /chats/{chatId}/members/me``): whether it is an administrator and
        with which rights (:attr:`MaxChatMember.can_add_remove_members`)."""
        request = MaxRequest("GET", "/chats/{chatId}/members/me", path={"chatId": chat_id})
        return self._call(request, _parse.read_member, idempotent=True)

    def add_members(self, chat_id: int, user_ids: Sequence[int]) -> ModifyMembersResult:
        """Add people to the chat, 100 per request (``POST /chats/{chatId}/members``), and return the merged result:
        whom MAX did not add and why (``add.participant.privacy``, ``add.participant.not.found``).

        Safe to repeat.  If a request fails, the error is raised; the requests before it have been applied.

        :raises MaxOperationFailedError: MAX answered ``success: false`` without naming anyone it did not add.
        """
        results = []
        for chunk in _chunks(user_ids, MEMBERS_PER_REQUEST):
            request = MaxRequest("POST", "/chats/{chatId}/members", path={"chatId": chat_id}, body={"user_ids": chunk})
            result = self._call(request, _parse.read_modify_members, idempotent=True)
            if not result.success and not result.failed_user_ids and not result.failed_user_details:
                raise MaxOperationFailedError(
                    200, "", "success: false", method=request.name, request_params=request.public_params()
                )
            results.append(result)
        return ModifyMembersResult.merge(results)

    def remove_member(self, chat_id: int, user_id: int) -> None:
        """Remove one person from the chat (``DELETE /chats/{chatId}/members?user_id=``: one per request).

        :raises MaxOperationFailedError: MAX answered ``success: false``.
        """
        request = MaxRequest("DELETE", "/chats/{chatId}/members", path={"chatId": chat_id}, query={"user_id": user_id})
        self._call(request, _succeeded, idempotent=True)

    # -- messages -------------------------------------------------------------------------------------------

    def send_message(
        self,
        text: str,
        *,
        user_id: int | None = None,
        chat_id: int | None = None,
        buttons: Sequence[Sequence[Button]] = (),
    ) -> MaxSentMessage:
        """Send ``text`` to a person (``user_id``) or a chat (``chat_id``), with rows of ``buttons`` as an inline
        keyboard (``POST /messages``): a ``chat`` button to create a chat, ``link`` buttons for a call or a chat.

        :raises OutcomeUnknownError: the request failed after it may have been delivered; never repeated.
        :raises ValueError: neither or both recipients, or ``text`` longer than 4000 characters.
        """
        if (user_id is None) == (chat_id is None):
            raise ValueError("send a message either to user_id or to chat_id")
        if len(text) > MESSAGE_TEXT_MAX_LENGTH:
            raise ValueError(f"a message has at most {MESSAGE_TEXT_MAX_LENGTH} characters (NewMessageBody.text)")
        # NewMessageBody requires text, attachments and link (the last two nullable).
        body = {"text": text, "attachments": [keyboard_attachment(buttons)] if buttons else [], "link": None}
        request = MaxRequest("POST", "/messages", query={"user_id": user_id, "chat_id": chat_id}, body=body)
        return self._call(request, _parse.read_sent_message, idempotent=False)

    # -- events ---------------------------------------------------------------------------------------------

    def subscribe(self, url: str, secret: str, update_types: Sequence[str] = PRODUCT_UPDATE_TYPES) -> None:
        """Have MAX POST events of ``update_types`` to ``url`` with ``secret`` in ``X-Max-Bot-Api-Secret``
        (``POST /subscriptions``).  While subscribed, long polling does not work.

        :raises ValueError: ``secret`` is not 5 to 256 of ``A-Z a-z 0-9 _ -`` (``SubscriptionRequestBody``).
        """
        if not _SECRET.fullmatch(secret):
            raise ValueError("a webhook secret is 5 to 256 characters of A-Z, a-z, 0-9, '_' and '-'")
        register_secret(secret)
        body = {"url": url, "secret": secret, "update_types": list(dict.fromkeys(update_types))}
        self._call(MaxRequest("POST", "/subscriptions", body=body), _succeeded, idempotent=True)

    def unsubscribe(self, url: str) -> None:
        """Stop webhook delivery to ``url`` (``DELETE /subscriptions?url=``); long polling works again."""
        self._call(MaxRequest("DELETE", "/subscriptions", query={"url": url}), _succeeded, idempotent=True)

    def subscriptions(self) -> list[MaxSubscription]:
        """The bot's webhook subscriptions (``GET /subscriptions``)."""
        return self._call(MaxRequest("GET", "/subscriptions"), _parse.read_subscriptions, idempotent=True)

    def get_updates(
        self,
        marker: int | None = None,
        *,
        limit: int = 100,
        timeout: int = 30,
        types: Sequence[str] = PRODUCT_UPDATE_TYPES,
    ) -> UpdatesPage:
        """Long polling (``GET /updates``): wait up to ``timeout`` seconds for events after ``marker`` and return
        them with the marker to pass next.  Passing a marker marks the earlier events read; without one MAX returns
        only the latest.  The schema calls this unfit for production (use :meth:`subscribe`).

        :raises ValueError: ``limit`` not 1 to 1000, or ``timeout`` not 0 to 90 (the schema's ranges).
        """
        if not 1 <= limit <= 1000 or not 0 <= timeout <= 90:
            raise ValueError("limit is 1 to 1000 and timeout 0 to 90 seconds")
        query = {"marker": marker, "limit": limit, "timeout": timeout, "types": list(dict.fromkeys(types)) or None}
        request = MaxRequest("GET", "/updates", query=query)
        # The HTTP read must outlast the poll.
        http_timeout = timeout + self.config.timeout_seconds
        return self._call(request, _read_updates, idempotent=True, timeout=http_timeout)


def _succeeded(reader: MaxReplyReader, value: object) -> None:
    success, message = _parse.read_success(reader, value)
    if not success:
        raise MaxOperationFailedError(200, "", message or "success: false", method=reader.method)


def _read_updates(reader: MaxReplyReader, value: object) -> UpdatesPage:
    return read_updates_page(value, method=reader.method)


def _check_marker_advances(marker: int, seen: set[int], method: str) -> None:
    """Stop reading pages if MAX hands back a marker it gave before (it would loop forever)."""
    if marker in seen:
        raise MalformedResponseError(f"marker {marker} came back twice", method=method)
    seen.add(marker)
