"""The events MAX sends the bot (``components.schemas.Update``), as values, for the types the module acts on.

The same objects arrive by webhook (the body of MAX's POST to the subscribed URL) and by long polling
(``GET /updates``), so :func:`read_update` serves both.  Types the module does not act on become
:class:`OtherUpdate`.  In a long-polling page an event that cannot be read becomes :class:`UnreadableUpdate`
instead of failing the page: MAX serves the same page again until the next ``marker`` is passed, so one bad event
must not stop every later one (the caller records it and moves on).
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from sferum_plugin.gateway.errors import MalformedResponseError
from sferum_plugin.gateway.max._parse import MaxReplyReader, read_chat, read_user
from sferum_plugin.gateway.max.values import MaxChat, MaxUser

__all__ = [
    "PRODUCT_UPDATE_TYPES",
    "BotAddedUpdate",
    "BotRemovedUpdate",
    "BotStartedUpdate",
    "ChatTitleChangedUpdate",
    "MaxUpdate",
    "MessageChatCreatedUpdate",
    "OtherUpdate",
    "UnreadableUpdate",
    "UpdatesPage",
    "UserAddedUpdate",
    "UserRemovedUpdate",
    "read_update",
]


@attrs.frozen
class BotStartedUpdate:
    """A person pressed Start or opened the bot's deep link (``BotStartedUpdate``); ``payload`` is the link's."""

    update_type: ClassVar[str] = "bot_started"
    timestamp: int
    chat_id: int
    user: MaxUser
    payload: str | None = None


@attrs.frozen
class BotAddedUpdate:
    """The bot was added to a chat (``BotAddedToChatUpdate``); ``user`` added it."""

    update_type: ClassVar[str] = "bot_added"
    timestamp: int
    chat_id: int
    user: MaxUser
    is_channel: bool = False


@attrs.frozen
class BotRemovedUpdate:
    """The bot was removed from a chat (``BotRemovedFromChatUpdate``); ``user`` removed it."""

    update_type: ClassVar[str] = "bot_removed"
    timestamp: int
    chat_id: int
    user: MaxUser
    is_channel: bool = False


@attrs.frozen
class UserAddedUpdate:
    """Someone joined a chat the bot administers (``UserAddedToChatUpdate``); ``inviter_id`` None: by link."""

    update_type: ClassVar[str] = "user_added"
    timestamp: int
    chat_id: int
    user: MaxUser
    inviter_id: int | None = None
    is_channel: bool = False


@attrs.frozen
class UserRemovedUpdate:
    """Someone left or was removed from a chat the bot administers (``UserRemovedFromChatUpdate``);
    ``admin_id`` None: they left by themselves."""

    update_type: ClassVar[str] = "user_removed"
    timestamp: int
    chat_id: int
    user: MaxUser
    admin_id: int | None = None
    is_channel: bool = False


@attrs.frozen
class ChatTitleChangedUpdate:
    """``user`` renamed the chat to ``title`` (``ChatTitleChangedUpdate``)."""

    update_type: ClassVar[str] = "chat_title_changed"
    timestamp: int
    chat_id: int
    user: MaxUser
    title: str


@attrs.frozen
class MessageChatCreatedUpdate:
    """Someone tapped a ``chat`` button and MAX created ``chat`` (``MessageChatCreatedUpdate``);
    ``start_payload`` is the button's, ``message_id`` the message that held it."""

    update_type: ClassVar[str] = "message_chat_created"
    timestamp: int
    chat: MaxChat
    message_id: str
    start_payload: str | None = None


@attrs.frozen
class OtherUpdate:
    """An event of a type the module does not act on (``message_created``, ``dialog_muted``...)."""

    update_type: str
    timestamp: int


@attrs.frozen
class UnreadableUpdate:
    """An event in a long-polling page that does not have the schema's shape; ``problem`` says what is wrong."""

    update_type: str
    timestamp: int | None
    problem: str


MaxUpdate = (
    BotStartedUpdate
    | BotAddedUpdate
    | BotRemovedUpdate
    | UserAddedUpdate
    | UserRemovedUpdate
    | ChatTitleChangedUpdate
    | MessageChatCreatedUpdate
    | OtherUpdate
    | UnreadableUpdate
)
"""Any event :func:`read_update` returns."""

PRODUCT_UPDATE_TYPES: tuple[str, ...] = (
    BotStartedUpdate.update_type,
    BotAddedUpdate.update_type,
    BotRemovedUpdate.update_type,
    UserAddedUpdate.update_type,
    UserRemovedUpdate.update_type,
    ChatTitleChangedUpdate.update_type,
    MessageChatCreatedUpdate.update_type,
)
"""The types the module subscribes to (``update_types`` of ``POST /subscriptions``, ``types`` of
``GET /updates``)."""


@attrs.frozen
class UpdatesPage:
    """A ``GET /updates`` reply (``UpdateList``): pass ``marker`` to the next call to get the events after these.

    ``bodies`` are the events as MAX sent them (JSON objects, in the order of ``updates``): the module's inbox keeps
    those, so that an event polled and the same event posted to the webhook are one and the same row.
    """

    updates: tuple[MaxUpdate, ...]
    marker: int | None
    bodies: tuple[object, ...] = attrs.field(default=(), eq=False, repr=False)


def read_update(value: object, *, method: str = "update") -> MaxUpdate:
    """Read one ``Update`` object (a webhook body, or an item of ``GET /updates``).

    :raises MalformedResponseError: ``value`` is not an update of the schema's shape.
    """
    reader = MaxReplyReader(method)
    obj = reader.require_object(value, "update")
    kind = reader.require_str(obj, "update_type")
    timestamp = reader.require_int(obj, "timestamp")
    if kind == MessageChatCreatedUpdate.update_type:
        return MessageChatCreatedUpdate(
            timestamp=timestamp,
            chat=read_chat(reader, obj.get("chat")),
            message_id=reader.require_str(obj, "message_id"),
            start_payload=reader.optional_str(obj, "start_payload"),
        )
    if kind not in PRODUCT_UPDATE_TYPES:
        return OtherUpdate(update_type=kind, timestamp=timestamp)
    chat_id, user = reader.require_int(obj, "chat_id"), read_user(reader, obj.get("user"))
    if kind == BotStartedUpdate.update_type:
        return BotStartedUpdate(timestamp, chat_id, user, payload=reader.optional_str(obj, "payload"))
    if kind == ChatTitleChangedUpdate.update_type:
        return ChatTitleChangedUpdate(timestamp, chat_id, user, title=reader.require_str(obj, "title"))
    is_channel = reader.optional_bool(obj, "is_channel")
    if kind == BotAddedUpdate.update_type:
        return BotAddedUpdate(timestamp, chat_id, user, is_channel=is_channel)
    if kind == BotRemovedUpdate.update_type:
        return BotRemovedUpdate(timestamp, chat_id, user, is_channel=is_channel)
    if kind == UserAddedUpdate.update_type:
        inviter_id = reader.optional_int(obj, "inviter_id")
        return UserAddedUpdate(timestamp, chat_id, user, inviter_id=inviter_id, is_channel=is_channel)
    admin_id = reader.optional_int(obj, "admin_id")
    return UserRemovedUpdate(timestamp, chat_id, user, admin_id=admin_id, is_channel=is_channel)


def read_updates_page(value: object, *, method: str) -> UpdatesPage:
    """Read a ``GET /updates`` reply; an event that cannot be read becomes :class:`UnreadableUpdate`.

    :raises MalformedResponseError: the page itself (``updates``, ``marker``) is not of the schema's shape.
    """
    reader = MaxReplyReader(method)
    obj = reader.require_object(value, "reply")
    updates: list[MaxUpdate] = []
    items = reader.require_array(obj.get("updates"), "'updates'")
    for item in items:
        try:
            updates.append(read_update(item, method=method))
        except MalformedResponseError as error:
            updates.append(_unreadable(item, error))
    return UpdatesPage(updates=tuple(updates), marker=reader.optional_int(obj, "marker"), bodies=tuple(items))


def _unreadable(item: object, error: MalformedResponseError) -> UnreadableUpdate:
    kind = item.get("update_type") if isinstance(item, dict) else None
    timestamp = item.get("timestamp") if isinstance(item, dict) else None
    return UnreadableUpdate(
        update_type=kind if isinstance(kind, str) else "",
        timestamp=timestamp if isinstance(timestamp, int) and not isinstance(timestamp, bool) else None,
        problem=error.message,
    )
