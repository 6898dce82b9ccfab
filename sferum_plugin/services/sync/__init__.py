"""The chat membership sync service (PRODUCT.md §5): desired members, diff, durable queue, leases, apply.

Typical use (what the background jobs do)::

    report = run_pass(host.db, host.directory, client, account=settings.account, now=host.clock.now(),
                      options=PassOptions(full=True))
"""

from sferum_plugin.services.sync.api import ChatsApi
from sferum_plugin.services.sync.creation import find_by_marker, realize_chats, sferum_title
from sferum_plugin.services.sync.desired import ChatTarget, DesiredChat, desired_members
from sferum_plugin.services.sync.diff import MembershipDiff, membership_diff
from sferum_plugin.services.sync.plan import ChatPlan, Plan, make_plan
from sferum_plugin.services.sync.queue import claim_chats, enqueue, release_chats
from sferum_plugin.services.sync.worker import PassOptions, PassReport, run_pass

__all__ = [
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
