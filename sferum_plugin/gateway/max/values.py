"""The values the MAX client returns: the bot, users, chats, members and the results of member changes.

Field names follow the schema's ``components.schemas``; times are Unix milliseconds, as MAX sends them (the
schema's ``info.description``, "Resources format").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import quote

import attrs

__all__ = [
    "ADD_PARTICIPANT_NOT_FOUND",
    "ADD_PARTICIPANT_PRIVACY",
    "DEEP_LINK_PAYLOAD_MAX_LENGTH",
    "FailedUserDetail",
    "MaxBot",
    "MaxChat",
    "MaxChatMember",
    "MaxSentMessage",
    "MaxSubscription",
    "MaxUser",
    "MembersPage",
    "ModifyMembersResult",
]

ADD_PARTICIPANT_PRIVACY = "add.participant.privacy"
"""The person's privacy settings do not let the bot add them (``FailedUserDetails.error_code``)."""

ADD_PARTICIPANT_NOT_FOUND = "add.participant.not.found"
"""No such MAX user (``FailedUserDetails.error_code``)."""

DEEP_LINK_PAYLOAD_MAX_LENGTH = 512
"""MAX passes a deep link's payload to the bot only up to 512 characters (``info.description``, "Deep linking";
``BotStartedUpdate.payload`` has ``maxLength: 512``)."""


@attrs.frozen
class MaxUser:
    """A MAX user or bot (``components.schemas.User``)."""

    user_id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    is_bot: bool = False


@attrs.frozen
class MaxBot:
    """The bot the token belongs to (``GET /me``, ``BotInfo``).

    :param name: the bot's display name (``first_name``).
    :param username: the bot's nickname, which its links use; None if MAX sent none.
    """

    user_id: int
    name: str
    username: str | None = None

    def deep_link(self, payload: str) -> str:
        """Return ``https://max.ru/<bot>?start=<payload>``: opening it makes MAX send the bot ``bot_started`` with
        ``payload`` (``info.description``, "Deep linking").

        :raises ValueError: the bot has no username, or ``payload`` is empty or longer than 512 characters.
        """
        if not self.username:
            raise ValueError("the bot has no username, so it has no deep link")
        if not 0 < len(payload) <= DEEP_LINK_PAYLOAD_MAX_LENGTH:
            raise ValueError(f"a deep link payload has 1 to {DEEP_LINK_PAYLOAD_MAX_LENGTH} characters")
        return f"https://max.ru/{quote(self.username)}?start={quote(payload, safe='')}"


@attrs.frozen
class MaxChat:
    """A group chat or channel as the bot sees it (``components.schemas.Chat``).

    :param status: the bot's standing in it: ``active``, ``removed``, ``left`` or ``closed`` (``ChatStatus``).
    """

    chat_id: int
    type: str
    status: str
    title: str | None = None
    participants_count: int | None = None
    is_public: bool = False
    link: str | None = None
    owner_id: int | None = None
    description: str | None = None

    @property
    def bot_is_member(self) -> bool:
        """Whether the bot is still an active member (``status == "active"``)."""
        return self.status == "active"


@attrs.frozen
class MaxChatMember:
    """A member of a chat (``components.schemas.ChatMember``).

    :param permissions: an administrator's rights (``ChatAdminPermission``); empty for other members.
    """

    user_id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    is_bot: bool = False
    is_owner: bool = False
    is_admin: bool = False
    permissions: frozenset[str] = frozenset()

    @property
    def can_add_remove_members(self) -> bool:
        """Whether this member may add and remove members: ``POST`` and ``DELETE /chats/{chatId}/members`` need an
        administrator with the ``add_remove_members`` right (their descriptions in the schema)."""
        return self.is_admin and "add_remove_members" in self.permissions


@attrs.frozen
class MembersPage:
    """One page of ``GET /chats/{chatId}/members`` (``ChatMembersList``); ``marker`` None on the last page."""

    members: tuple[MaxChatMember, ...]
    marker: int | None = None


@attrs.frozen
class FailedUserDetail:
    """Why some people were not added (``components.schemas.FailedUserDetails``)."""

    error_code: str
    user_ids: tuple[int, ...]


@attrs.frozen
class ModifyMembersResult:
    """The answer to ``POST /chats/{chatId}/members`` (``ModifyMembersResult``), or several merged.

    :param failed_user_ids: the people MAX did not add.
    :param failed_user_details: why, per reason (``add.participant.privacy``, ``add.participant.not.found``).
    """

    success: bool = True
    failed_user_ids: tuple[int, ...] = ()
    failed_user_details: tuple[FailedUserDetail, ...] = ()

    def reasons(self) -> Mapping[int, str]:
        """Each person not added, with MAX's reason (an empty string when MAX gave none for them)."""
        reasons = dict.fromkeys(self.failed_user_ids, "")
        for detail in self.failed_user_details:
            for user_id in detail.user_ids:
                reasons[user_id] = detail.error_code
        return reasons

    @classmethod
    def merge(cls, results: Iterable[ModifyMembersResult]) -> ModifyMembersResult:
        """Combine the results of several requests (a list split into requests of 100) into one."""
        collected = list(results)
        failed: dict[int, None] = {}
        by_code: dict[str, dict[int, None]] = {}
        for result in collected:
            failed.update(dict.fromkeys(result.failed_user_ids))
            for detail in result.failed_user_details:
                by_code.setdefault(detail.error_code, {}).update(dict.fromkeys(detail.user_ids))
        return cls(
            success=all(result.success for result in collected),
            failed_user_ids=tuple(failed),
            failed_user_details=tuple(FailedUserDetail(code, tuple(ids)) for code, ids in by_code.items()),
        )


@attrs.frozen
class MaxSubscription:
    """A webhook subscription (``components.schemas.Subscription``); ``update_types`` None means all types."""

    url: str
    time: int
    update_types: tuple[str, ...] | None = None


@attrs.frozen
class MaxSentMessage:
    """The message ``POST /messages`` created (``SendMessageResult.message``): its id and where it went."""

    message_id: str
    chat_id: int | None = None
    user_id: int | None = None
