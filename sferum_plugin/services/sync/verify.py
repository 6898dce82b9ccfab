"""Reading chats' real member lists on VK Messenger (``messages.getConversationMembers``), 25 chats per ``execute``
request (MAX's reading is :meth:`~sferum_plugin.services.sync.max_membership.MaxMembership.read_members`).

Used by the full pass to repair drift, and before re-applying anything whose outcome is unknown (a crashed
worker, a dropped connection): the real list decides what was done.
"""

from __future__ import annotations

from collections.abc import Mapping

from sferum_plugin.gateway import operations
from sferum_plugin.services.sync.api import ChatsApi, MemberLists
from sferum_plugin.services.sync.reasons import Verdict, reason_of, verdict_of

__all__ = ["MemberLists", "read_member_lists"]


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
                    result.vanished[pk] = reason_of(outcome.error)
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
