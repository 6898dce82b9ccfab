"""The sync's adapter for VK Messenger: the organisation account's client, ``execute`` batches of 25.

Creating chats is :func:`~sferum_plugin.services.sync.creation.realize_chats`, reading member lists
:func:`~sferum_plugin.services.sync.verify.read_member_lists`; adds and removes go 25 to an ``execute`` request,
calls for different chats sharing a request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from datetime import datetime

from hookspecs.services import Database
from sferum_plugin.gateway import operations
from sferum_plugin.gateway.batch import EXECUTE_MAX_CALLS
from sferum_plugin.gateway.codes import VkErrorCode
from sferum_plugin.gateway.errors import AccessDeniedError, QuotaExceededError
from sferum_plugin.gateway.operations import Operation
from sferum_plugin.gateway.ratelimit import token_key
from sferum_plugin.gateway.tally import FailureTally
from sferum_plugin.services.sync.api import Change, ChatsApi, Lease, MemberLists, Realized, Sent
from sferum_plugin.services.sync.creation import realize_chats
from sferum_plugin.services.sync.verify import read_member_lists

__all__ = ["VkMembership"]


class VkMembership:
    """:class:`~sferum_plugin.services.sync.api.ChatMembership` over the organisation account's ``api``.

    :param credential: the application token's key (:func:`~sferum_plugin.gateway.ratelimit.token_key`), or ``""``.
    """

    creates_chats = True

    def __init__(self, api: ChatsApi, *, credential: str = "") -> None:
        self.api = api
        self._credential = credential

    @classmethod
    def for_token(cls, api: ChatsApi, token: str) -> VkMembership:
        """The adapter for ``api``, acting with the application token ``token``."""
        return cls(api, credential=token_key(token))

    def __repr__(self) -> str:
        return f"VkMembership({self.api!r})"

    @property
    def failures(self) -> FailureTally:
        return self.api.failures

    @property
    def credential(self) -> str:
        return self._credential

    def organisation_id(self) -> int:
        return self.api.get_token_owner().id

    def create_missing(
        self, db: Database, desired: Mapping[int, Set[int]], *, org_user_id: int | None, now: datetime, lease: Lease
    ) -> Realized:
        return realize_chats(db, self.api, desired, org_user_id=org_user_id, now=now, lease=lease)

    def read_members(self, chats: Mapping[int, int]) -> MemberLists:
        return read_member_lists(self.api, chats)

    def send_changes(self, changes: Sequence[Change]) -> Sent:
        batch: list[Operation[None]] = [
            operations.add_chat_member(change.chat_id, change.user)
            if change.action == "add"
            else operations.remove_chat_member(change.chat_id, change.user)
            for change in changes
        ]
        outcomes = self.api.execute_batch(batch)
        # An upper bound: execute_batch stops at a request that fails as a whole (a quota error, say).
        sent = Sent(errors=[o.error for o in outcomes], requests=-(-len(batch) // EXECUTE_MAX_CALLS))
        self._settle_re_adds(changes, sent)
        return sent

    def _settle_re_adds(self, changes: Sequence[Change], sent: Sent) -> None:
        """Sferum answers error 15 (access denied) to adding someone who is already in the chat (seen in the field).
        So after a 15 on an add, the chat's real member list decides: there, the add is done (its error is cleared);
        not there, Sferum refused it (the error stays).  The adds whose list could not be read (or that met a quota
        pause, which forbids reading now) stay ``sending``, for the next pass's read to settle, as after a crash."""
        errors = sent.errors
        re_adds = [
            index
            for index, (change, error) in enumerate(zip(changes, errors, strict=True))
            if change.action == "add" and isinstance(error, AccessDeniedError) and error.code == VkErrorCode.ACCESS
        ]
        if not re_adds:
            return
        if any(isinstance(error, QuotaExceededError) for error in errors):
            sent.unsettled.update(changes[index].key for index in re_adds)
            return
        lists = read_member_lists(self.api, {changes[index].chat_pk: changes[index].chat_id for index in re_adds})
        sent.requests += lists.requests
        for index in re_adds:
            change = changes[index]
            if change.chat_pk not in lists.members:
                sent.unsettled.add(change.key)
            elif change.user in lists.members[change.chat_pk]:
                errors[index] = None
