"""What the sync service needs of the platform hosting the chats: the port :class:`ChatMembership`.

The sync's planning, queue, leases, history and page are shared; four things differ between VK Messenger and MAX,
and an adapter supplies them: who the organisation account is (never removed), creating the missing chats, reading
member lists, and sending adds and removes.  :class:`~sferum_plugin.services.sync.vk_membership.VkMembership` wraps
the VK client (:class:`ChatsApi`, ``execute`` batches of 25); :class:`~sferum_plugin.services.sync.max_membership.
MaxMembership` wraps the MAX bot's client.  :func:`sferum_plugin.services.platforms.platform_for` picks one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from datetime import datetime, timedelta
from typing import Protocol, TypeVar, runtime_checkable

import attrs

from hookspecs.services import Database
from sferum_plugin.account import Account
from sferum_plugin.gateway.batch import BatchOutcome
from sferum_plugin.gateway.domain import ChatInfo, SferumUser
from sferum_plugin.gateway.errors import QuotaExceededError, SferumError
from sferum_plugin.gateway.operations import Operation
from sferum_plugin.gateway.tally import FailureTally

__all__ = ["Change", "ChatMembership", "ChatsApi", "Lease", "MemberLists", "Realized", "Sent", "SyncConnection"]

T = TypeVar("T")


class ChatsApi(Protocol):
    """Chats on behalf of the organisation account (the application token)."""

    @property
    def failures(self) -> FailureTally:
        """Failed attempts by kind, retries included (a pass records its share in the history)."""
        ...

    def execute_batch(self, batch: Sequence[Operation[T]]) -> list[BatchOutcome[T]]:
        """Run idempotent operations, 25 per ``execute`` request."""
        ...

    def execute_once(self, run: Sequence[Operation[T]]) -> list[BatchOutcome[T]]:
        """Up to 25 ``messages.createChat`` in one ``execute`` request, never repeated blindly: it raises
        OutcomeUnknownError for the whole request after an ambiguous failure."""
        ...

    def search_chats(self, query: str, *, exact_title: bool = False) -> list[ChatInfo]:
        """``messages.searchConversations`` among the organisation account's chats."""
        ...

    def get_token_owner(self) -> SferumUser:
        """The organisation account (``users.get`` without ids)."""
        ...


@attrs.frozen
class Lease:
    """The leases a pass holds, renewed at each checkpoint so that a long creation pass keeps its chats."""

    holder: str
    length: timedelta
    chat_pks: tuple[int, ...]


@attrs.define
class Realized:
    """What a creation step did: chats now active (created or found), chats refused, requests, a quota stop."""

    created: int = 0
    failed: int = 0
    requests: int = 0
    checkpoints: int = 0
    quota: QuotaExceededError | None = None


@attrs.define
class MemberLists:
    """Real members per chat row id; chats the platform says are gone; chats the bot may no longer manage (MAX
    403); chats that could not be read, with why."""

    members: dict[int, set[int]] = attrs.field(factory=dict)
    vanished: dict[int, str] = attrs.field(factory=dict)
    """Chat row id → the reason to record (a source string of :mod:`~sferum_plugin.services.explain`)."""
    unreadable: dict[int, SferumError] = attrs.field(factory=dict)
    denied: dict[int, str] = attrs.field(factory=dict)
    """Chat row id → the reason to record."""
    requests: int = 0


@attrs.frozen
class Change:
    """One add or remove to send: the chat's row id and platform id, the person's platform id, the action."""

    chat_pk: int
    chat_id: int
    user: int
    action: str  # "add" | "remove"

    @property
    def key(self) -> tuple[int, int, str]:
        """The operation's identity while it is open: ``(chat row id, user, action)``."""
        return (self.chat_pk, self.user, self.action)


@attrs.define
class Sent:
    """What sending changes came to: one error (or ``None``) per change, in order; requests made; the changes whose
    outcome is still open (left ``sending`` for the next pass's member-list read to settle); chats whose member
    list the next pass should read (an answer did not say exactly what it did)."""

    errors: list[SferumError | None]
    requests: int = 0
    unsettled: set[tuple[int, int, str]] = attrs.field(factory=set)
    unsure: set[int] = attrs.field(factory=set)
    unsent: set[tuple[int, int, str]] = attrs.field(factory=set)
    """Changes never sent (a failure stopped the sending before them): they carry that failure, but it cannot have
    applied them, so their chats need no reading for it."""


@runtime_checkable
class ChatMembership(Protocol):
    """The platform side of the membership sync (one adapter per platform)."""

    @property
    def failures(self) -> FailureTally:
        """Failed attempts by kind (a pass records its share in the history)."""
        ...

    @property
    def creates_chats(self) -> bool:
        """Whether the sync creates the chats (VK: ``createChat``).  When not (MAX: a person's tap on a ``chat``
        button creates it), passes never take chats that are not active yet."""
        ...

    @property
    def credential(self) -> str:
        """A stable key of the credentials in use (never the secret): a pause for refused credentials lasts until
        it changes."""
        ...

    def organisation_id(self) -> int:
        """The organisation account's platform id (VK: the application token's owner; MAX: the bot): never added
        by the sync, never removed."""
        ...

    def create_missing(
        self, db: Database, desired: Mapping[int, Set[int]], *, org_user_id: int | None, now: datetime, lease: Lease
    ) -> Realized:
        """Create the chats ``desired`` names (chat row id → desired members) that do not exist yet."""
        ...

    def read_members(self, chats: Mapping[int, int]) -> MemberLists:
        """Every member of ``chats`` (chat row id → platform chat id)."""
        ...

    def send_changes(self, changes: Sequence[Change]) -> Sent:
        """Send adds and removes; a failure is the change's outcome, never raised."""
        ...


@attrs.frozen
class SyncConnection:
    """What :meth:`sferum_plugin.services.platforms.Platform.membership` opens for a pass: whose rows it syncs, the
    platform's adapter over an open connection, and the sync's options from the settings.

    :param strict: «Строгий режим»: remove every member who is not desired (but the organisation account and the
        chat's owner).
    """

    account: Account
    membership: ChatMembership
    strict: bool = False
