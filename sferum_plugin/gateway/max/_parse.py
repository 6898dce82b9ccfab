"""Read MAX's JSON replies into the client's values; every surprise becomes a MalformedResponseError naming the
method.

The fields the module uses are checked for presence (when the schema requires them) and type; fields it does not
read are not insisted on, so that MAX adding or dropping one the module ignores breaks nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

from sferum_plugin.gateway._parse import ReplyReader
from sferum_plugin.gateway.max.values import (
    FailedUserDetail,
    MaxBot,
    MaxChat,
    MaxChatMember,
    MaxSentMessage,
    MaxSubscription,
    MaxUser,
    MembersPage,
    ModifyMembersResult,
)


class MaxReplyReader(ReplyReader):
    """:class:`ReplyReader` plus the JSON types MAX uses that VK does not (real booleans, string arrays)."""

    def optional_bool(self, obj: Mapping[str, object], key: str, default: bool = False) -> bool:
        value = obj.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.malformed(f"field {key!r} is {value!r}, expected a boolean")
        return value

    def str_array(self, obj: Mapping[str, object], key: str) -> tuple[str, ...] | None:
        value = obj.get(key)
        if value is None:
            return None
        items = self.require_array(value, repr(key))
        if not all(isinstance(item, str) for item in items):
            raise self.malformed(f"field {key!r} holds a non-string")
        return tuple(str(item) for item in items)

    def object_field(self, obj: Mapping[str, object], key: str) -> Mapping[str, object]:
        return self.require_object(obj.get(key), repr(key))


def read_user(reader: MaxReplyReader, value: object, where: str = "user") -> MaxUser:
    """``components.schemas.User``."""
    obj = reader.require_object(value, where)
    return MaxUser(
        user_id=reader.require_int(obj, "user_id"),
        first_name=reader.require_str(obj, "first_name"),
        last_name=reader.optional_str(obj, "last_name"),
        username=reader.optional_str(obj, "username"),
        is_bot=reader.optional_bool(obj, "is_bot"),
    )


def read_bot(reader: MaxReplyReader, value: object) -> MaxBot:
    """``GET /me``: ``BotInfo``.  Its name is ``first_name``; ``name`` is marked deprecated in the schema."""
    user = read_user(reader, value, "reply")
    return MaxBot(user_id=user.user_id, name=user.first_name, username=user.username)


def read_chat(reader: MaxReplyReader, value: object, where: str = "chat") -> MaxChat:
    """``components.schemas.Chat``."""
    obj = reader.require_object(value, where)
    return MaxChat(
        chat_id=reader.require_int(obj, "chat_id"),
        type=reader.require_str(obj, "type"),
        status=reader.require_str(obj, "status"),
        title=reader.optional_str(obj, "title"),
        participants_count=reader.optional_int(obj, "participants_count"),
        is_public=reader.optional_bool(obj, "is_public"),
        link=reader.optional_str(obj, "link"),
        owner_id=reader.optional_int(obj, "owner_id"),
        description=reader.optional_str(obj, "description"),
    )


def read_chats_page(reader: MaxReplyReader, value: object) -> tuple[list[MaxChat], int | None]:
    """``components.schemas.ChatList``: the chats and the next page's marker."""
    obj = reader.require_object(value, "reply")
    chats = [read_chat(reader, item, "a chat") for item in reader.require_array(obj.get("chats"), "'chats'")]
    return chats, reader.optional_int(obj, "marker")


def read_member(reader: MaxReplyReader, value: object, where: str = "member") -> MaxChatMember:
    """``components.schemas.ChatMember``."""
    obj = reader.require_object(value, where)
    user = read_user(reader, obj, where)
    return MaxChatMember(
        user_id=user.user_id,
        first_name=user.first_name,
        last_name=user.last_name,
        username=user.username,
        is_bot=user.is_bot,
        is_owner=reader.optional_bool(obj, "is_owner"),
        is_admin=reader.optional_bool(obj, "is_admin"),
        permissions=frozenset(reader.str_array(obj, "permissions") or ()),
    )


def read_members_page(reader: MaxReplyReader, value: object) -> MembersPage:
    """``components.schemas.ChatMembersList``."""
    obj = reader.require_object(value, "reply")
    items = reader.require_array(obj.get("members"), "'members'")
    members = tuple(read_member(reader, item, "a member") for item in items)
    return MembersPage(members=members, marker=reader.optional_int(obj, "marker"))


def read_success(reader: MaxReplyReader, value: object) -> tuple[bool, str]:
    """``components.schemas.SimpleQueryResult``: whether it worked, and MAX's message if not."""
    obj = reader.require_object(value, "reply")
    if not isinstance(obj.get("success"), bool):
        raise reader.malformed("required field 'success' is missing or not a boolean")
    return bool(obj["success"]), reader.optional_str(obj, "message") or ""


def read_modify_members(reader: MaxReplyReader, value: object) -> ModifyMembersResult:
    """``components.schemas.ModifyMembersResult`` (a ``SimpleQueryResult`` plus the people not added)."""
    success, _ = read_success(reader, value)
    obj = reader.require_object(value, "reply")
    details = []
    for item in reader.require_array(obj.get("failed_user_details") or [], "'failed_user_details'"):
        detail = reader.require_object(item, "a failed_user_details entry")
        reader.require_array(detail.get("user_ids"), "'user_ids'")  # required by the schema
        details.append(
            FailedUserDetail(
                error_code=reader.require_str(detail, "error_code"), user_ids=reader.int_array(detail, "user_ids")
            )
        )
    return ModifyMembersResult(
        success=success, failed_user_ids=reader.int_array(obj, "failed_user_ids"), failed_user_details=tuple(details)
    )


def read_subscriptions(reader: MaxReplyReader, value: object) -> list[MaxSubscription]:
    """``components.schemas.GetSubscriptionsResult``."""
    obj = reader.require_object(value, "reply")
    subscriptions = []
    for item in reader.require_array(obj.get("subscriptions"), "'subscriptions'"):
        entry = reader.require_object(item, "a subscription")
        subscriptions.append(
            MaxSubscription(
                url=reader.require_str(entry, "url"),
                time=reader.require_int(entry, "time"),
                update_types=reader.str_array(entry, "update_types"),
            )
        )
    return subscriptions


def read_sent_message(reader: MaxReplyReader, value: object) -> MaxSentMessage:
    """``components.schemas.SendMessageResult``: the new message's ``body.mid`` and its ``recipient``."""
    message = reader.object_field(reader.require_object(value, "reply"), "message")
    body = reader.object_field(message, "body")
    recipient = reader.object_field(message, "recipient")
    return MaxSentMessage(
        message_id=reader.require_str(body, "mid"),
        chat_id=reader.optional_int(recipient, "chat_id"),
        user_id=reader.optional_int(recipient, "user_id"),
    )
