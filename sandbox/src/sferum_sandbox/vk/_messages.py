"""The ``messages.*`` chat methods.

Choices where VK's behaviour is not in the schema (documented so the gateway can rely on them):

- chat ids are global in the sandbox (on VK they are local to each user; every chat here is made and managed
  by the organisation account, for which the two coincide);
- chat permissions are VK's defaults: any member may invite, the owner and admins may edit the title, see
  the invite link and remove members; the owner can never be removed (error 15, Access denied);
- adding someone who is already a member is error 15 (Access denied) and changes nothing, as VK answers in the
  field; removing someone who is not a member is error 935; an unknown user is error 936 (Contact not found);
- a person the sandbox marks as outside the organisation (``Sandbox.set_in_organisation``) cannot be added: error
  967, "This user can't be added to the work chat, as they aren't an employee." (dev.vk.com, messages.addChatUser);
  ``createChat`` leaves them out and its ``peer_ids`` name only the people it added;
- removing someone from a chat deleted in Sferum is error 1017, "Chat was deleted" (dev.vk.com,
  messages.removeChatUser); the other methods, whose pages do not list 1017, answer 927 for it;
- a caller who is not a member of the chat gets 917 (You don't have access to this chat).
"""

from __future__ import annotations

from typing import Any

from ._context import CallContext, Handler
from ._errors import VkApiError
from ._profiles import profile
from ._state import CHAT_PEER_OFFSET, Chat, ChatMember

_INVITE_CODE_LENGTH = 24
_PERMISSIONS = {
    "invite": "all",
    "change_info": "owner_and_admins",
    "change_pin": "owner_and_admins",
    "use_mass_mentions": "all",
    "see_invite_link": "owner_and_admins",
    "call": "all",
    "change_admins": "owner",
}


def _chat(ctx: CallContext, chat_id: int) -> Chat:
    """Return the chat the caller is a member of: 927 when it does not exist, 917 when not a member."""
    chat = ctx.state.chats.get(chat_id)
    if chat is None:
        raise VkApiError(927, f"chat {chat_id} does not exist")
    if ctx.caller_id not in chat.members:
        raise VkApiError(917, f"you are not a member of chat {chat_id}")
    return chat


def _chat_by_peer(ctx: CallContext, peer_id: int) -> Chat:
    if peer_id <= CHAT_PEER_OFFSET:
        raise VkApiError(100, f"peer_id {peer_id} is not a chat")
    return _chat(ctx, peer_id - CHAT_PEER_OFFSET)


def _is_privileged(chat: Chat, user_id: int) -> bool:
    member = chat.members.get(user_id)
    return member is not None and (member.is_admin or user_id == chat.owner_id)


def _conversation(ctx: CallContext, chat: Chat) -> dict[str, Any]:
    """Return ``messages_conversation`` of ``chat`` as the caller sees it."""
    privileged = _is_privileged(chat, ctx.caller_id)
    return {
        "peer": {"id": chat.peer_id, "type": "chat", "local_id": chat.chat_id},
        "last_message_id": 0,
        "last_conversation_message_id": 0,
        "in_read": 0,
        "out_read": 0,
        "version": chat.version,
        "chat_settings": {
            "owner_id": chat.owner_id,
            "title": chat.title,
            "state": "in",
            "members_count": len(chat.members),
            "admin_ids": chat.admin_ids,
            "active_ids": [],
            "is_group_channel": False,
            "permissions": dict(_PERMISSIONS),
            "acl": {
                "can_change_info": privileged,
                "can_change_invite_link": privileged,
                "can_change_pin": privileged,
                "can_invite": True,
                "can_promote_users": ctx.caller_id == chat.owner_id,
                "can_see_invite_link": privileged,
                "can_moderate": privileged,
                "can_copy_chat": privileged,
                "can_call": True,
                "can_use_mass_mentions": True,
            },
        },
    }


def _profiles(ctx: CallContext, user_ids: list[int], fields: list[str]) -> list[dict[str, Any]]:
    return [profile(ctx.state.users[uid], fields, ctx.base_url) for uid in user_ids if uid in ctx.state.users]


def create_chat(ctx: CallContext, params: dict[str, Any]) -> Any:
    owner_id = ctx.caller_id
    invited = list(dict.fromkeys(params.get("user_ids", [])))
    for user_id in invited:
        ctx.user(user_id)
    chat = Chat(ctx.state.next_chat_id, params.get("title", ""), owner_id, ctx.random_code(_INVITE_CODE_LENGTH))
    ctx.state.next_chat_id += 1
    chat.members[owner_id] = ChatMember(owner_id, owner_id, ctx.now, is_admin=True)
    added = [uid for uid in invited if uid != owner_id and uid not in ctx.state.outside_organisation]
    for user_id in added:
        chat.members[user_id] = ChatMember(user_id, owner_id, ctx.now)
    ctx.state.chats[chat.chat_id] = chat
    # 5.199 answers messages_createChat_withPeerIds_response: the chat and the peers actually added.
    return {"chat_id": chat.chat_id, "peer_ids": added}


def add_chat_user(ctx: CallContext, params: dict[str, Any]) -> Any:
    chat = _chat(ctx, params["chat_id"])
    if "user_id" not in params:
        raise VkApiError(100, "user_id is a required parameter")
    user = ctx.user(params["user_id"])
    if user.id in chat.members:
        raise VkApiError(15, f"user {user.id} is already a member of chat {chat.chat_id}")
    if user.id in ctx.state.outside_organisation:
        raise VkApiError(967, f"user {user.id} is not of the chat's organisation")
    chat.members[user.id] = ChatMember(user.id, ctx.caller_id, ctx.now)
    chat.version += 1
    return 1


def remove_chat_user(ctx: CallContext, params: dict[str, Any]) -> Any:
    if params["chat_id"] in ctx.state.deleted_chat_ids:
        raise VkApiError(1017, f"chat {params['chat_id']} was deleted")
    chat = _chat(ctx, params["chat_id"])
    target = params.get("member_id", params.get("user_id"))
    if target is None:
        raise VkApiError(100, "user_id or member_id is a required parameter")
    ctx.user(target)
    if target not in chat.members:
        raise VkApiError(935, f"user {target} is not a member of chat {chat.chat_id}")
    if target == chat.owner_id:
        raise VkApiError(15, "the chat owner cannot be removed")
    if target != ctx.caller_id and not _is_privileged(chat, ctx.caller_id):
        raise VkApiError(925, "only the owner and admins can remove members")
    del chat.members[target]
    chat.version += 1
    return 1


def get_conversation_members(ctx: CallContext, params: dict[str, Any]) -> Any:
    chat = _chat_by_peer(ctx, params["peer_id"])
    members = list(chat.members.values())
    if "member_ids" in params:
        wanted = set(params["member_ids"])
        members = [member for member in members if member.member_id in wanted]
    offset, count = params.get("offset", 0), params.get("count", 20)
    page = members[offset : offset + count]
    items = [
        {
            "member_id": member.member_id,
            "invited_by": member.invited_by,
            "join_date": member.join_date,
            "is_owner": member.member_id == chat.owner_id,
            "is_admin": member.is_admin,
            "can_kick": member.member_id != chat.owner_id and _is_privileged(chat, ctx.caller_id),
        }
        for member in page
    ]
    result: dict[str, Any] = {"count": len(members), "items": items}
    if params.get("extended"):
        result["profiles"] = _profiles(ctx, [m.member_id for m in page], params.get("fields", []))
        result["groups"] = []
    return result


def _extended(ctx: CallContext, params: dict[str, Any], chats: list[Chat], result: dict[str, Any]) -> Any:
    if params.get("extended"):
        owners = list(dict.fromkeys(chat.owner_id for chat in chats))
        result["profiles"] = _profiles(ctx, owners, params.get("fields", []))
        result["groups"] = []
    return result


def get_conversations_by_id(ctx: CallContext, params: dict[str, Any]) -> Any:
    # Like VK, peers the caller cannot see are left out rather than failing the whole call.
    chats = [
        chat
        for peer_id in dict.fromkeys(params["peer_ids"])
        if (chat := ctx.state.chats.get(peer_id - CHAT_PEER_OFFSET)) is not None and ctx.caller_id in chat.members
    ]
    items = [_conversation(ctx, chat) for chat in chats]
    return _extended(ctx, params, chats, {"count": len(items), "items": items})


def search_conversations(ctx: CallContext, params: dict[str, Any]) -> Any:
    needle = params.get("q", "").casefold()
    caller_id = ctx.caller_id
    matches = [
        chat
        for chat in reversed(ctx.state.chats.values())  # newest first, as VK sorts by activity
        if caller_id in chat.members and needle in chat.title.casefold()
    ]
    shown = matches[: params.get("count", 20)]
    items = [_conversation(ctx, chat) for chat in shown]
    return _extended(ctx, params, shown, {"count": len(matches), "items": items})


def edit_chat(ctx: CallContext, params: dict[str, Any]) -> Any:
    chat = _chat(ctx, params["chat_id"])
    if not _is_privileged(chat, ctx.caller_id):
        raise VkApiError(925, "only the owner and admins can change the title")
    title = params.get("title", "")
    if not title:
        raise VkApiError(100, "title is a required parameter")
    chat.title = title
    chat.version += 1
    return 1


def get_invite_link(ctx: CallContext, params: dict[str, Any]) -> Any:
    chat = _chat_by_peer(ctx, params["peer_id"])
    if not _is_privileged(chat, ctx.caller_id):
        raise VkApiError(919, "only the owner and admins can see the invite link")
    if params.get("reset"):
        chat.invite_code = ctx.random_code(_INVITE_CODE_LENGTH)
    return {"link": f"{ctx.base_url}/join/{chat.invite_code}"}


HANDLERS: dict[str, Handler] = {
    "messages.createChat": create_chat,
    "messages.addChatUser": add_chat_user,
    "messages.removeChatUser": remove_chat_user,
    "messages.getConversationMembers": get_conversation_members,
    "messages.getConversationsById": get_conversations_by_id,
    "messages.searchConversations": search_conversations,
    "messages.editChat": edit_chat,
    "messages.getInviteLink": get_invite_link,
}
