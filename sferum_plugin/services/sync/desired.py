"""Desired members of each chat, derived from the host's records and the profile links (PRODUCT.md §5).

A study-group chat holds the group's active students and the group's active staff; a unit chat holds the
unit's active employees; a custom chat holds its listed accounts while they are active.  Every chat also holds
its owner, the LMS account that asked for it (whatever becomes of their records: the owner is never removed),
and the organisation account, which creates every chat in Sferum with the application token.  People with no
linked Sferum profile (or no LMS account) are *waiting for a profile*; they are added once they link.

Every directory query is bulk: one call per kind of container, whatever the number of chats.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import attrs

from hookspecs.services import Directory
from hookspecs.types import Person

__all__ = ["ChatTarget", "DesiredChat", "desired_members"]


@attrs.frozen
class ChatTarget:
    """What the planner needs of a managed chat: its row id, its kind and the group or unit it is for."""

    pk: int
    kind: str
    target_id: int | None
    owner_user_id: int | None = None
    """The LMS account that asked for the chat."""


@attrs.frozen
class DesiredChat:
    """The Sferum users a chat should hold, and how many active people still wait for a profile."""

    members: frozenset[int]
    waiting: frozenset[str]
    """LMS person keys (``"student:12"``) or account keys (``"user:7"``) of active people without a link."""


def _split(people: Iterable[Person], links: Mapping[int, int]) -> tuple[set[int], set[str]]:
    members: set[int] = set()
    waiting: set[str] = set()
    for person in people:
        if not person.active:
            continue
        sferum_id = links.get(person.user_id) if person.user_id is not None else None
        if sferum_id is None:
            waiting.add(f"{person.kind.value}:{person.id}")
        else:
            members.add(sferum_id)
    return members, waiting


def desired_members(
    directory: Directory,
    chats: Sequence[ChatTarget],
    *,
    links: Mapping[int, int],
    listed: Mapping[int, Sequence[int]],
    org_user_id: int | None,
) -> dict[int, DesiredChat]:
    """Return the desired state of every chat in ``chats``, keyed by chat row id.

    :param links: LMS account id → Sferum user id, for every linked profile of the organisation.
    :param listed: custom chat row id → the LMS accounts listed in it.
    :param org_user_id: the organisation account's Sferum id (always a member), if known.
    """
    group_ids = sorted({c.target_id for c in chats if c.kind == "group" and c.target_id is not None})
    unit_ids = sorted({c.target_id for c in chats if c.kind == "unit" and c.target_id is not None})
    students = directory.group_members(group_ids) if group_ids else {}
    staff = directory.group_staff(group_ids) if group_ids else {}
    employees = directory.unit_members(unit_ids) if unit_ids else {}
    listed_users = sorted({user for c in chats if c.kind == "custom" for user in listed.get(c.pk, ())})
    accounts = directory.people_by_user(listed_users) if listed_users else {}
    owner = {org_user_id} if org_user_id is not None else set()

    desired: dict[int, DesiredChat] = {}
    for chat in chats:
        if chat.kind == "group" and chat.target_id is not None:
            members, waiting = _split([*students.get(chat.target_id, ()), *staff.get(chat.target_id, ())], links)
        elif chat.kind == "unit" and chat.target_id is not None:
            members, waiting = _split(employees.get(chat.target_id, ()), links)
        else:
            members = set()
            waiting = set()
            for user_id in listed.get(chat.pk, ()):
                if not any(person.active for person in accounts.get(user_id, ())):
                    continue
                if user_id in links:
                    members.add(links[user_id])
                else:
                    waiting.add(f"user:{user_id}")
        if chat.owner_user_id is not None:
            if chat.owner_user_id in links:
                members.add(links[chat.owner_user_id])
            else:
                waiting.add(f"user:{chat.owner_user_id}")
        desired[chat.pk] = DesiredChat(members=frozenset(members | owner), waiting=frozenset(waiting))
    return desired
