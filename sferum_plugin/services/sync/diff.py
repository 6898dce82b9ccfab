"""The difference between a chat's desired and known members: what to add, what to remove.

Removal is conservative: only *managed* Sferum users (those linked to an LMS account of this organisation)
are ever removed, and never a protected one (the chat owner, the organisation account), unless strict mode is
on, in which case every member that is not desired and not protected goes.
"""

from __future__ import annotations

from collections.abc import Set

import attrs

__all__ = ["MembershipDiff", "membership_diff"]


@attrs.frozen
class MembershipDiff:
    """Sferum users to add to and remove from one chat."""

    chat_pk: int
    add: frozenset[int]
    remove: frozenset[int]

    @property
    def empty(self) -> bool:
        """Whether there is nothing to do."""
        return not self.add and not self.remove


def membership_diff(
    chat_pk: int,
    desired: Set[int],
    known: Set[int],
    *,
    managed: Set[int],
    protected: Set[int],
    strict: bool = False,
    not_added: Set[int] | None = None,
) -> MembershipDiff:
    """Return what turns ``known`` into ``desired`` without touching unmanaged or protected members.

    :param managed: Sferum users linked to an LMS account (the only ones removed outside strict mode).
    :param protected: never removed, even in strict mode (the owner and the organisation account).
    :param not_added: never added, because Sferum keeps them by itself (the organisation account owns every chat it
        creates); ``None``: the protected ones.
    """
    add = frozenset(desired - known - (protected if not_added is None else not_added))
    extra = known - desired - protected
    remove = frozenset(extra if strict else extra & managed)
    return MembershipDiff(chat_pk=chat_pk, add=add, remove=remove)
