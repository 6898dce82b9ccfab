"""The chat membership sync service (PRODUCT.md §5): desired members, diff, durable queue, leases, apply.

Typical use (what the background jobs do)::

    with platform_for(stored).membership(stored, sferum, share=1) as connection:
        report = run_pass(host.db, host.directory, connection.membership, account=connection.account,
                          now=host.clock.now(), options=PassOptions(full=True, strict=connection.strict))
"""

from sferum_plugin.services.sync.api import ChatMembership, ChatsApi
from sferum_plugin.services.sync.creation import find_by_marker, realize_chats, sferum_title
from sferum_plugin.services.sync.desired import ChatTarget, DesiredChat, desired_members
from sferum_plugin.services.sync.diff import MembershipDiff, membership_diff
from sferum_plugin.services.sync.plan import ChatPlan, Plan, make_plan
from sferum_plugin.services.sync.queue import claim_chats, enqueue, release_chats
from sferum_plugin.services.sync.worker import PassOptions, PassReport, run_pass

__all__ = [
    "ChatMembership",
    "ChatPlan",
    "ChatTarget",
    "ChatsApi",
    "DesiredChat",
    "MembershipDiff",
    "PassOptions",
    "PassReport",
    "Plan",
    "claim_chats",
    "desired_members",
    "enqueue",
    "find_by_marker",
    "make_plan",
    "membership_diff",
    "realize_chats",
    "release_chats",
    "run_pass",
    "sferum_title",
]
