"""What the sync service needs of Sferum (the gateway's :class:`~sferum_plugin.gateway.SferumClient` has it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from sferum_plugin.gateway.batch import BatchOutcome
from sferum_plugin.gateway.domain import ChatInfo, SferumUser
from sferum_plugin.gateway.operations import Operation
from sferum_plugin.gateway.tally import FailureTally

__all__ = ["ChatsApi"]

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
