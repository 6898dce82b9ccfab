"""The values the gateway returns: chats, members, users and calls as Sferum reports them."""

from __future__ import annotations

import attrs

__all__ = [
    "CHAT_PEER_OFFSET",
    "ChatInfo",
    "ChatMember",
    "CreatedChat",
    "SferumApp",
    "SferumUser",
    "StartedCall",
    "chat_id_from_peer_id",
    "chat_peer_id",
]

CHAT_PEER_OFFSET = 2_000_000_000
"""A chat's peer id is this offset plus its chat id.  Source: the schema, messages/methods.json,
``messages.getConversationsById``, parameter ``peer_ids``: "For chat: '2000000000' + 'chat_id'"
(also dev.vk.com/reference/objects/message, ``peer_id``)."""


def chat_peer_id(chat_id: int) -> int:
    """Return the peer id of chat ``chat_id``."""
    return CHAT_PEER_OFFSET + chat_id


def chat_id_from_peer_id(peer_id: int) -> int:
    """Return the chat id of a chat's ``peer_id``.

    :raises ValueError: ``peer_id`` is a user or community, not a chat.
    """
    if peer_id <= CHAT_PEER_OFFSET:
        raise ValueError(f"peer {peer_id} is not a chat")
    return peer_id - CHAT_PEER_OFFSET


@attrs.frozen
class CreatedChat:
    """A chat just created by ``messages.createChat``.

    :param member_ids: the members Sferum actually added; None when the API version answers with the bare
        chat id only.
    """

    chat_id: int
    member_ids: tuple[int, ...] | None = None

    @property
    def peer_id(self) -> int:
        """The chat's peer id."""
        return chat_peer_id(self.chat_id)


@attrs.frozen
class ChatMember:
    """A member of a chat (``messages_conversation_member``); ``member_id`` < 0 is a community."""

    member_id: int
    is_admin: bool = False
    is_owner: bool = False
    can_kick: bool = False
    invited_by: int | None = None
    join_date: int | None = None


@attrs.frozen
class ChatInfo:
    """A chat as ``messages.getConversationsById`` or ``messages.searchConversations`` describe it."""

    chat_id: int
    title: str
    owner_id: int
    members_count: int | None = None
    admin_ids: tuple[int, ...] = ()
    state: str | None = None

    @property
    def peer_id(self) -> int:
        """The chat's peer id."""
        return chat_peer_id(self.chat_id)


@attrs.frozen
class SferumUser:
    """A Sferum user (``users_user_min``); ``deactivated`` is "deleted" or "banned" when the profile is gone."""

    id: int
    first_name: str = ""
    last_name: str = ""
    deactivated: str | None = None

    @property
    def full_name(self) -> str:
        """First and last name, as Sferum shows them."""
        return f"{self.first_name} {self.last_name}".strip()


@attrs.frozen
class StartedCall:
    """A call started by ``calls.start``.

    :param call_id: the id ``calls.forceFinish`` needs; the schema does not mark it required, so it may be
        None.
    :param join_link: the link participants open.
    """

    join_link: str
    call_id: str | None = None
    ok_join_link: str | None = None


@attrs.frozen
class SferumApp:
    """A VK application (``apps_app_min``): the organisation's APP ID and its title."""

    id: int
    title: str
