"""Sferum operations: which VK method each one calls, with which parameters, and how its reply is read.

An :class:`Operation` is a value; :class:`~sferum_plugin.gateway.client.SferumClient` sends it alone
(``client.call(op)``) or packed with others into one ``execute`` request (``client.execute_batch(ops)``).
Method and parameter names, limits and reply shapes follow the schema in ``vk-api-schema/`` (file and
definition named next to each one).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Generic, TypeVar

import attrs

from sferum_plugin.gateway._parse import ReplyReader
from sferum_plugin.gateway.domain import (
    ChatInfo,
    ChatMember,
    CreatedChat,
    SferumApp,
    SferumUser,
    StartedCall,
    chat_id_from_peer_id,
    chat_peer_id,
)

__all__ = [
    "CONVERSATIONS_BY_ID_MAX",
    "MEMBERS_PAGE_MAX",
    "SEARCH_MAX",
    "USERS_GET_MAX",
    "ChatMembersPage",
    "Operation",
    "ParamValue",
    "add_chat_member",
    "apps",
    "chat_members_page",
    "chats_by_id",
    "create_chat",
    "finish_call",
    "invite_link",
    "remove_chat_member",
    "rename_chat",
    "search_chats",
    "start_call",
    "users",
]

T_co = TypeVar("T_co", covariant=True)

ParamValue = int | str | bool | Sequence[int] | Sequence[str] | None
"""A parameter before encoding: arrays become comma-separated values, booleans 0/1, None is left out."""

MEMBERS_PAGE_MAX = 1000
"""messages/methods.json, messages.getConversationMembers, ``count``: maximum 1000."""
CONVERSATIONS_BY_ID_MAX = 100
"""messages/methods.json, messages.getConversationsById, ``peer_ids``: maxItems 100."""
SEARCH_MAX = 255
"""messages/methods.json, messages.searchConversations, ``count``: maximum 255."""
USERS_GET_MAX = 1000
"""users/methods.json, users.get, ``user_ids``: maxItems 1000."""


@attrs.frozen
class Operation(Generic[T_co]):
    """One VK API call and the reader of its reply.

    :param method: VK method name.
    :param params: parameters (without ``access_token`` and ``v``, which the client adds).
    :param parse: turns the ``response`` value into the domain value; raises MalformedResponseError.
    :param idempotent: False when repeating the call after an ambiguous failure could apply it twice.
    """

    method: str
    params: Mapping[str, ParamValue]
    parse: Callable[[object], T_co] = attrs.field(repr=False, eq=False)
    idempotent: bool = True


@attrs.frozen
class ChatMembersPage:
    """One page of ``messages.getConversationMembers``: ``total`` is the chat's member count."""

    total: int
    members: tuple[ChatMember, ...]


def _ok(method: str, *, accept_object: bool = False) -> Callable[[object], None]:
    """Reader of base/responses.json#base_ok_response (``1``)."""

    def parse(response: object) -> None:
        if accept_object and isinstance(response, Mapping):
            return
        if isinstance(response, bool) or response != 1:
            raise ReplyReader(method).malformed(f"expected 1, got {response!r}")

    return parse


def _chat_info(reader: ReplyReader, conversation: Mapping[str, object]) -> ChatInfo | None:
    """Read messages/objects.json#messages_conversation; None for a conversation that is not a chat."""
    peer = reader.require_object(conversation.get("peer"), "peer")
    if reader.require_str(peer, "type") != "chat":
        return None
    peer_id = reader.require_int(peer, "id")
    try:
        chat_id = reader.optional_int(peer, "local_id") or chat_id_from_peer_id(peer_id)
    except ValueError as error:
        raise reader.malformed(str(error)) from error
    settings = reader.require_object(conversation.get("chat_settings"), "chat_settings")
    return ChatInfo(
        chat_id=chat_id,
        title=reader.require_str(settings, "title"),
        owner_id=reader.require_int(settings, "owner_id"),
        members_count=reader.optional_int(settings, "members_count"),
        admin_ids=reader.int_array(settings, "admin_ids"),
        state=reader.optional_str(settings, "state"),
    )


def _chat_list(method: str) -> Callable[[object], list[ChatInfo]]:
    """Reader of ``{count, items: [messages_conversation]}`` keeping only the chats."""

    def parse(response: object) -> list[ChatInfo]:
        reader = ReplyReader(method)
        body = reader.require_object(response, "response")
        reader.require_int(body, "count")
        chats = []
        for item in reader.require_array(body.get("items"), "items"):
            chat = _chat_info(reader, reader.require_object(item, "item"))
            if chat is not None:
                chats.append(chat)
        return chats

    return parse


def create_chat(title: str, member_ids: Sequence[int]) -> Operation[CreatedChat]:
    """``messages.createChat``: a new chat with ``title`` and the initial members (not idempotent)."""

    def parse(response: object) -> CreatedChat:
        reader = ReplyReader("messages.createChat")
        # Before messages_createChat_withPeerIds_response (messages/responses.json) the reply was the bare
        # chat id; an older api_version still answers that way.
        if isinstance(response, int) and not isinstance(response, bool):
            return CreatedChat(chat_id=response)
        body = reader.require_object(response, "response")
        peer_ids = reader.int_array(body, "peer_ids") if "peer_ids" in body else None
        return CreatedChat(chat_id=reader.require_int(body, "chat_id"), member_ids=peer_ids)

    return Operation("messages.createChat", {"title": title, "user_ids": list(member_ids)}, parse, idempotent=False)


def add_chat_member(chat_id: int, user_id: int) -> Operation[None]:
    """``messages.addChatUser``.  The reply is base_ok_response, deprecated from 5.201 (hence an object too)."""
    method = "messages.addChatUser"
    return Operation(method, {"chat_id": chat_id, "user_id": user_id}, _ok(method, accept_object=True))


def remove_chat_member(chat_id: int, user_id: int) -> Operation[None]:
    """``messages.removeChatUser``; a repeat after success answers 935 (UserNotInChatError)."""
    method = "messages.removeChatUser"
    return Operation(method, {"chat_id": chat_id, "user_id": user_id}, _ok(method))


def chat_members_page(chat_id: int, *, offset: int = 0, count: int = MEMBERS_PAGE_MAX) -> Operation[ChatMembersPage]:
    """``messages.getConversationMembers``, one page (messages/objects.json#messages_getConversationMembers)."""
    method = "messages.getConversationMembers"

    def parse(response: object) -> ChatMembersPage:
        reader = ReplyReader(method)
        body = reader.require_object(response, "response")
        members = []
        for raw in reader.require_array(body.get("items"), "items"):
            item = reader.require_object(raw, "item")
            members.append(
                ChatMember(
                    member_id=reader.require_int(item, "member_id"),
                    is_admin=reader.flag(item, "is_admin"),
                    is_owner=reader.flag(item, "is_owner"),
                    can_kick=reader.flag(item, "can_kick"),
                    invited_by=reader.optional_int(item, "invited_by"),
                    join_date=reader.optional_int(item, "join_date"),
                )
            )
        return ChatMembersPage(total=reader.require_int(body, "count"), members=tuple(members))

    params: dict[str, ParamValue] = {"peer_id": chat_peer_id(chat_id), "offset": offset, "count": count}
    return Operation(method, params, parse)


def chats_by_id(chat_ids: Sequence[int]) -> Operation[list[ChatInfo]]:
    """``messages.getConversationsById`` for at most 100 chats; chats the token cannot see are left out."""
    if not 1 <= len(chat_ids) <= CONVERSATIONS_BY_ID_MAX:
        raise ValueError(f"between 1 and {CONVERSATIONS_BY_ID_MAX} chat ids per call, got {len(chat_ids)}")
    method = "messages.getConversationsById"
    return Operation(method, {"peer_ids": [chat_peer_id(c) for c in chat_ids]}, _chat_list(method))


def search_chats(query: str, *, count: int = SEARCH_MAX) -> Operation[list[ChatInfo]]:
    """``messages.searchConversations``: the token owner's chats matching ``query`` (users are dropped)."""
    method = "messages.searchConversations"
    return Operation(method, {"q": query, "count": count}, _chat_list(method))


def rename_chat(chat_id: int, title: str) -> Operation[None]:
    """``messages.editChat``."""
    method = "messages.editChat"
    return Operation(method, {"chat_id": chat_id, "title": title}, _ok(method))


def invite_link(chat_id: int, *, reset: bool = False) -> Operation[str]:
    """``messages.getInviteLink`` (messages/responses.json#messages_getInviteLink_response)."""
    method = "messages.getInviteLink"

    def parse(response: object) -> str:
        reader = ReplyReader(method)
        return reader.require_str(reader.require_object(response, "response"), "link")

    return Operation(method, {"peer_id": chat_peer_id(chat_id), "reset": reset}, parse)


def start_call(*, group_id: int | None = None) -> Operation[StartedCall]:
    """``calls.start`` (calls/responses.json#calls_start_response); not idempotent: each call is a new call."""
    method = "calls.start"

    def parse(response: object) -> StartedCall:
        reader = ReplyReader(method)
        body = reader.require_object(response, "response")
        return StartedCall(
            join_link=reader.require_str(body, "join_link"),
            call_id=reader.optional_str(body, "call_id"),
            ok_join_link=reader.optional_str(body, "ok_join_link"),
        )

    return Operation(method, {"group_id": group_id}, parse, idempotent=False)


def finish_call(call_id: str) -> Operation[None]:
    """``calls.forceFinish``: end the call for everyone."""
    method = "calls.forceFinish"
    return Operation(method, {"call_id": call_id}, _ok(method))


def users(user_ids: Sequence[int] = ()) -> Operation[list[SferumUser]]:
    """``users.get`` for at most 1000 users; no ids means the token's owner (users/methods.json)."""
    if len(user_ids) > USERS_GET_MAX:
        raise ValueError(f"at most {USERS_GET_MAX} user ids per call, got {len(user_ids)}")
    method = "users.get"

    def parse(response: object) -> list[SferumUser]:
        reader = ReplyReader(method)
        found = []
        for raw in reader.require_array(response, "response"):
            item = reader.require_object(raw, "item")
            found.append(
                SferumUser(
                    id=reader.require_int(item, "id"),
                    first_name=reader.optional_str(item, "first_name") or "",
                    last_name=reader.optional_str(item, "last_name") or "",
                    deactivated=reader.optional_str(item, "deactivated"),
                )
            )
        return found

    return Operation(method, {"user_ids": list(user_ids)}, parse)


def apps(*, app_id: int | None = None) -> Operation[list[SferumApp]]:
    """``apps.get`` (apps/responses.json#apps_get_response); without ``app_id``, the token's own app."""
    method = "apps.get"

    def parse(response: object) -> list[SferumApp]:
        reader = ReplyReader(method)
        body = reader.require_object(response, "response")
        found = []
        for raw in reader.require_array(body.get("items"), "items"):
            item = reader.require_object(raw, "item")
            found.append(SferumApp(id=reader.require_int(item, "id"), title=reader.require_str(item, "title")))
        return found

    return Operation(method, {"app_id": app_id}, parse)
