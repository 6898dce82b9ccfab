"""The JSON objects the sandbox answers, each shaped as its ``components.schemas`` entry in MAX's document.

Where the schema marks a field required, it is always present (``null`` where it allows that): ``User.name`` (marked
deprecated, still required), ``Chat.description`` and ``Chat.icon``, ``MessageBody.link``, ``ChatMember.permissions``.
"""

from __future__ import annotations

from typing import Any

import attrs

from ._state import BOT_USER_ID, Chat, MaxUser, Membership, SentMessage


@attrs.frozen
class BotIdentity:
    """Who the bot is: ``name`` is its username (the ``<bot name>`` of its deep links), ``title`` its display name."""

    name: str
    title: str
    description: str
    user_id: int = BOT_USER_ID


def user_json(user: MaxUser) -> dict[str, Any]:
    """``User``."""
    return {
        "user_id": user.user_id,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "username": user.username,
        "is_bot": False,
        "last_activity_time": user.last_activity_time,
        "name": user.full_name,
    }


def bot_json(bot: BotIdentity, now: int) -> dict[str, Any]:
    """``User`` for the bot (bots have no ``last_name``)."""
    return {
        "user_id": bot.user_id,
        "first_name": bot.title,
        "username": bot.name,
        "is_bot": True,
        "last_activity_time": now,
        "name": bot.title,
    }


def bot_info_json(bot: BotIdentity, now: int) -> dict[str, Any]:
    """``BotInfo`` (``GET /me``)."""
    return {**bot_json(bot, now), "description": bot.description, "commands": None}


def chat_json(chat: Chat, *, participants: bool = False) -> dict[str, Any]:
    """``Chat``; ``participants`` (member id -> last activity) only for a single chat, as MAX sends it."""
    return {
        "chat_id": chat.chat_id,
        "type": "chat",
        "status": chat.status,
        "title": chat.title,
        "icon": {"url": chat.icon_url} if chat.icon_url else None,
        "last_event_time": chat.last_event_time,
        "participants_count": len(chat.members),
        "owner_id": chat.owner_id,
        "participants": {str(m.user_id): m.join_time for m in chat.members.values()} if participants else None,
        "is_public": False,
        "link": chat.link,
        "description": chat.description,
        "messages_count": chat.messages_count,
    }


def member_json(membership: Membership, person: dict[str, Any]) -> dict[str, Any]:
    """``ChatMember``: ``person`` (a ``User``) plus the membership; ``permissions`` null for non-administrators."""
    return {
        **person,
        "last_access_time": membership.join_time,
        "is_owner": membership.is_owner,
        "is_admin": membership.is_admin,
        "join_time": membership.join_time,
        "permissions": list(membership.permissions) if membership.is_admin and membership.permissions else None,
    }


def message_json(message: SentMessage, sender: dict[str, Any]) -> dict[str, Any]:
    """``Message`` sent by the bot (``sender``): to a person it is a ``dialog`` recipient, else a ``chat``."""
    return {
        "sender": sender,
        "recipient": {
            "chat_id": message.chat_id,
            "chat_type": "dialog" if message.user_id is not None else "chat",
            "user_id": message.user_id,
        },
        "timestamp": message.timestamp,
        "link": None,
        "body": {
            "mid": message.mid,
            "seq": message.seq,
            "text": message.text,
            "attachments": message.attachments or None,
            "link": None,
            "markup": None,
        },
        "stat": None,
        "url": None,
    }
