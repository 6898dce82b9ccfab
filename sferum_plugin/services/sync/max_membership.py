"""The sync's adapter for MAX: the bot's client, which administers the chats.

- The organisation account is the bot itself (``GET /me``): never added, never removed.
- Chats are not created by the sync: MAX creates one when a person taps the ``chat`` button the bot sent them
  (:mod:`sferum_plugin.services.max_chats`); the row waits ``awaiting`` meanwhile and the sync never takes it.
- Member lists are read by pages of 100 (``GET /chats/{chatId}/members`` with ``marker``).
- Adds go 100 people to a request per chat (``POST /chats/{chatId}/members``); the people MAX names in
  ``failed_user_details`` fail one by one (:class:`~sferum_plugin.services.sync.reasons.PersonRefusedError`, with
  MAX's reason in words: their privacy settings, or no such user), the others of the request are added.  Removals
  go one per request (``DELETE /chats/{chatId}/members?user_id=``).

Failures: the client already paces at MAX's 30 requests per second (shared by the workers) and retries 429 and 5xx
honouring ``Retry-After``; one that persists stops the sending, and the changes not made wait with a backoff as
on VK.  401 (the token refused) stops everything: the service pauses until the token changes.  403 (the bot may not
manage the chat's members) and 404 (the chat is gone, or the bot is not in it) stop that chat alone, which is
marked with what to do; the other chats go on.  A 403 on a removal while the bot still administers the chat
refuses that person alone (MAX does not let anyone remove the chat's owner).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence, Set
from datetime import datetime
from functools import partial
from typing import Protocol, TypeVar

import attrs

from hookspecs.services import Database
from sferum_plugin.gateway.errors import MalformedResponseError, SferumError, may_have_been_applied
from sferum_plugin.gateway.max import MEMBERS_PER_REQUEST
from sferum_plugin.gateway.max.errors import MaxForbiddenError, MaxOperationFailedError
from sferum_plugin.gateway.max.values import MaxBot, MaxChatMember, MembersPage, ModifyMembersResult
from sferum_plugin.gateway.ratelimit import token_key
from sferum_plugin.gateway.tally import FailureTally
from sferum_plugin.services.sync.api import Change, Lease, MemberLists, Realized, Sent
from sferum_plugin.services.sync.reasons import PersonRefusedError, Verdict, reason_of, verdict_of

__all__ = ["BotApi", "MaxMembership"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

_CHAT_LEVEL = (Verdict.DENIED, Verdict.VANISHED)
"""Failures that end the chat's share of the pass (the chat is marked), the other chats going on."""
_PASS_LEVEL = (Verdict.STOP, Verdict.RETRY, Verdict.PAUSE)
"""Failures that end the pass's sending: refused credentials, or MAX still failing after the client's retries."""


class BotApi(Protocol):
    """What the sync needs of MAX (the gateway's :class:`~sferum_plugin.gateway.max.MaxClient` has it)."""

    def get_me(self) -> MaxBot: ...

    def chat_members_page(self, chat_id: int, *, marker: int | None = None, count: int = ...) -> MembersPage: ...

    def my_membership(self, chat_id: int) -> MaxChatMember: ...

    def add_members(self, chat_id: int, user_ids: Sequence[int]) -> ModifyMembersResult: ...

    def remove_member(self, chat_id: int, user_id: int) -> None: ...


class MaxMembership:
    """:class:`~sferum_plugin.services.sync.api.ChatMembership` over the MAX bot's ``client``.

    :param credential: the bot token's key (:func:`~sferum_plugin.gateway.ratelimit.token_key`): a pause for a
        refused token lasts until the token in the settings has another key.
    """

    creates_chats = False

    def __init__(self, client: BotApi, *, credential: str = "") -> None:
        self.client = client
        self._credential = credential
        self._failures = FailureTally()

    @classmethod
    def for_token(cls, client: BotApi, token: str) -> MaxMembership:
        """The adapter for ``client``, acting with the bot token ``token``."""
        return cls(client, credential=token_key(token))

    def __repr__(self) -> str:
        return f"MaxMembership({self.client!r})"

    @property
    def failures(self) -> FailureTally:
        """The calls' failures (the client retries 429 and 5xx inside one call: a call counts once)."""
        return self._failures

    @property
    def credential(self) -> str:
        return self._credential

    def call(self, call: Callable[[], T]) -> T:
        """Make one call of the client, counting its outcome in :attr:`failures`."""
        try:
            value = call()
        except SferumError as error:
            self._failures.attempt(error)
            raise
        self._failures.attempt(None)
        return value

    def organisation_id(self) -> int:
        return self.call(self.client.get_me).user_id

    def create_missing(
        self, db: Database, desired: Mapping[int, Set[int]], *, org_user_id: int | None, now: datetime, lease: Lease
    ) -> Realized:
        """Nothing: on MAX a chat is created by a person's tap on the bot's ``chat`` button."""
        return Realized()

    def read_members(self, chats: Mapping[int, int]) -> MemberLists:
        """Every member of each chat, by pages of 100.  401 is raised (the pass stops, the service pauses); MAX
        still failing after the retries leaves this chat and the rest unread this pass."""
        result = MemberLists()
        failure: SferumError | None = None
        for pk, chat_id in chats.items():
            if failure is not None:
                result.unreadable[pk] = failure
                continue
            try:
                result.members[pk] = self._read_chat(chat_id, result)
            except SferumError as error:
                verdict = verdict_of(error)
                if verdict is Verdict.STOP:
                    raise
                if verdict is Verdict.VANISHED:
                    result.vanished[pk] = reason_of(error)
                elif verdict is Verdict.DENIED:
                    result.denied[pk] = reason_of(error)
                else:
                    result.unreadable[pk] = error
                    failure = error if verdict in _PASS_LEVEL else None
        return result

    def _read_chat(self, chat_id: int, result: MemberLists) -> set[int]:
        members: set[int] = set()
        marker: int | None = None
        seen: set[int] = set()
        while True:
            result.requests += 1
            page = self.call(partial(self.client.chat_members_page, chat_id, marker=marker))
            members.update(member.user_id for member in page.members)
            if page.marker is None:
                return members
            if page.marker in seen:  # MAX handed back a marker it gave before: reading on would never end
                raise MalformedResponseError(f"marker {page.marker} came back twice", method="GET /chats/members")
            seen.add(page.marker)
            marker = page.marker

    def send_changes(self, changes: Sequence[Change]) -> Sent:
        """Adds 100 to a request per chat, then the chat's removals one by one, chat after chat."""
        sending = _Sending(self, changes)
        by_chat: dict[int, list[int]] = {}
        for index, change in enumerate(changes):
            by_chat.setdefault(change.chat_pk, []).append(index)
        for indexes in by_chat.values():
            adds = [i for i in indexes if changes[i].action == "add"]
            for start in range(0, len(adds), MEMBERS_PER_REQUEST):
                sending.add(adds[start : start + MEMBERS_PER_REQUEST])
            for index in indexes:
                if changes[index].action == "remove":
                    sending.remove(index)
        return sending.sent


@attrs.define
class _Sending:
    """Changes being sent: their outcomes so far, and what stops the rest (the pass's or one chat's failure)."""

    adapter: MaxMembership
    changes: Sequence[Change]
    sent: Sent = attrs.field(init=False)
    stopped: SferumError | None = None
    """The failure that ended the sending (401, or MAX failing after the retries): the changes left carry it."""
    lost: dict[int, SferumError] = attrs.field(factory=dict)
    """Chats MAX refused (403) or does not know (404): their changes left carry the failure."""
    checked: dict[int, bool] = attrs.field(factory=dict)
    """Chats whose bot's rights were looked up after a refused removal: whether it may add and remove members."""

    def __attrs_post_init__(self) -> None:
        self.sent = Sent(errors=[None] * len(self.changes))

    def _blocked(self, indexes: Sequence[int]) -> bool:
        """Give the changes the failure that stopped them, if one did."""
        failure = self.stopped or self.lost.get(self.changes[indexes[0]].chat_pk)
        if failure is None:
            return False
        for index in indexes:
            self.sent.errors[index] = failure
            self.sent.unsent.add(self.changes[index].key)
        return True

    def _failed(self, indexes: Sequence[int], error: SferumError) -> None:
        chat_pk = self.changes[indexes[0]].chat_pk
        verdict = verdict_of(error)
        if verdict in _CHAT_LEVEL:
            self.lost[chat_pk] = error
        elif verdict in _PASS_LEVEL:
            self.stopped = error
            logger.warning("MAX: sending stopped at chat row %s: %s", chat_pk, type(error).__name__)
        if may_have_been_applied(error):
            self.sent.unsure.add(chat_pk)  # the next pass reads the chat's list before changing it again
        for index in indexes:
            self.sent.errors[index] = error

    def add(self, indexes: Sequence[int]) -> None:
        """One ``POST /chats/{chatId}/members`` for up to 100 people of one chat."""
        if self._blocked(indexes):
            return
        chat_id = self.changes[indexes[0]].chat_id
        users = [self.changes[index].user for index in indexes]
        self.sent.requests += 1
        try:
            result = self.adapter.call(partial(self.adapter.client.add_members, chat_id, users))
        except SferumError as error:
            self._failed(indexes, error)
            return
        refused = result.reasons()
        for index in indexes:
            code = refused.get(self.changes[index].user)
            if code is not None:
                self.sent.errors[index] = PersonRefusedError(code, method="POST /chats/{chatId}/members")

    def remove(self, index: int) -> None:
        """One ``DELETE /chats/{chatId}/members`` for one person."""
        if self._blocked([index]):
            return
        change = self.changes[index]
        self.sent.requests += 1
        try:
            self.adapter.call(partial(self.adapter.client.remove_member, change.chat_id, change.user))
        except MaxOperationFailedError:
            # ``success: false``: the person is not in the chat (already left), which is what removing asks for;
            # the next pass reads the list in case MAX meant something else.
            self.sent.unsure.add(change.chat_pk)
        except MaxForbiddenError as error:
            if self._bot_manages(change):
                self.sent.errors[index] = PersonRefusedError("remove", method="DELETE /chats/{chatId}/members")
            else:
                self._failed([index], error)
        except SferumError as error:
            self._failed([index], error)

    def _bot_manages(self, change: Change) -> bool:
        """After a 403 on a removal: whether the bot still may add and remove the chat's members (then MAX refused
        this person alone, its owner say) — one ``GET /chats/{chatId}/members/me`` per chat and pass."""
        if change.chat_pk not in self.checked:
            self.sent.requests += 1
            try:
                me = self.adapter.call(partial(self.adapter.client.my_membership, change.chat_id))
            except SferumError:
                self.checked[change.chat_pk] = False
            else:
                self.checked[change.chat_pk] = me.can_add_remove_members
        return self.checked[change.chat_pk]
