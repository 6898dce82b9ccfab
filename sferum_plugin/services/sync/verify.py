"""Reading chats' real member lists (``messages.getConversationMembers``), 25 chats per ``execute`` request.

Used by the full pass to repair drift, and before re-applying anything whose outcome is unknown (a crashed
worker, a dropped connection): the real list decides what was done.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from sferum_plugin.gateway import operations
from sferum_plugin.gateway.errors import SferumError
from sferum_plugin.services.sync.api import ChatsApi
from sferum_plugin.services.sync.reasons import Verdict, verdict_of

__all__ = ["MemberLists", "read_member_lists"]


@attrs.define
class MemberLists:
    """Real members per chat row id; chats Sferum says are gone; chats that could not be read, with why."""

    members: dict[int, set[int]] = attrs.field(factory=dict)
    vanished: set[int] = attrs.field(factory=set)
    unreadable: dict[int, SferumError] = attrs.field(factory=dict)
    requests: int = 0


def read_member_lists(api: ChatsApi, chats: Mapping[int, int]) -> MemberLists:
    """Read every member of ``chats`` (chat row id → Sferum chat id); pages beyond the first follow in rounds."""
    result = MemberLists()
    offsets = {pk: 0 for pk in chats}
    while offsets:
        order = list(offsets)
        batch = [operations.chat_members_page(chats[pk], offset=offsets[pk]) for pk in order]
        result.requests += -(-len(batch) // 25)
        outcomes = api.execute_batch(batch)
        next_offsets: dict[int, int] = {}
        for pk, outcome in zip(order, outcomes, strict=True):
            if outcome.error is not None:
                if verdict_of(outcome.error) is Verdict.VANISHED:
                    result.vanished.add(pk)
                else:
                    result.unreadable[pk] = outcome.error
                result.members.pop(pk, None)
                continue
            page = outcome.unwrap()
            seen = result.members.setdefault(pk, set())
            seen.update(member.member_id for member in page.members)
            read = offsets[pk] + len(page.members)
            if page.members and read < page.total:
                next_offsets[pk] = read
        offsets = next_offsets
    return result
