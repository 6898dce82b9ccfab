"""The Bot API operations the sandbox serves, one function each, keyed by ``(verb, path template)``.

Each takes the core (its lock held) and the request's :class:`Params` and returns the 200 body, or raises
:class:`~._errors.MaxApiError`. What the schema leaves open and the sandbox chose:

- ``GET /chats`` lists every group chat the bot has been in, oldest first, with the bot's ``status`` in each
  (``active``, ``removed``); ``marker`` is the next chat's place in that order. (MAX stopped supporting the method
  in June 2026; it is served as the 2026-06-02 snapshot of the schema describes it: ``count`` 1-100, default 50.)
- ``GET /chats/{chatId}`` answers a chat the bot was removed from with ``status: removed``; the member calls on it
  answer 403 ``chat.denied``, as they do when the bot is not an administrator (or lacks ``add_remove_members``).
  An unknown chat is 404 ``chat.not.found``.
- Members come in join order; ``marker`` is the next member's place in it, so a page is not shifted by people
  leaving in between. With ``user_ids``, ``marker`` and ``count`` are ignored (as the schema says).
- ``POST /chats/{chatId}/members``: people already in the chat count as added; ``success`` is false when anyone
  was not added, and ``failed_user_ids``/``failed_user_details`` name them (absent when nobody failed). Each person
  added yields ``user_added`` with the bot as ``inviter_id``.
- ``DELETE /chats/{chatId}/members``: removing someone not in the chat answers ``{"success": false, "message"}``;
  the owner cannot be removed (403). The person removed yields ``user_removed`` with the bot as ``admin_id``.
- ``POST /messages``: the bot can write to a person only after they pressed Start (403 ``chat.denied`` otherwise,
  404 ``user.not.found`` for an unknown id), and to a chat only while it is in it. Only ``inline_keyboard``
  attachments are emulated; a ``chat`` button without ``uuid`` gets one.
- ``DELETE /subscriptions`` answers ``success: true`` even when no subscription had that URL (nothing to remove).
- ``GET /updates`` without ``marker`` answers the updates not read yet (those from the last ``marker`` the bot
  passed on), so none is ever lost; passing a marker marks everything before it read. With a subscription it
  answers 405: "both methods cannot be used simultaneously".
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

from werkzeug.datastructures import MultiDict

from ._core import START_PAYLOAD_MAX, MaxCore
from ._errors import MaxApiError, bad_request, chat_denied, chat_not_found
from ._state import BOT_USER_ID, SentMessage, Subscription
from ._wire import bot_info_json, bot_json, chat_json, message_json

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MEMBERS_PER_REQUEST = 100
MESSAGE_TEXT_MAX = 4000

UPDATE_TYPES = frozenset(
    {
        "message_created",
        "message_callback",
        "message_edited",
        "message_removed",
        "bot_added",
        "bot_removed",
        "bot_started",
        "bot_stopped",
        "user_added",
        "user_removed",
        "chat_title_changed",
        "message_chat_created",
        "dialog_muted",
        "dialog_unmuted",
        "dialog_cleared",
        "dialog_removed",
    }
)
"""``Update``'s discriminator values, plus ``message_chat_created`` (described but left out of the mapping)."""

_SECRET = re.compile(r"[a-zA-Z0-9_-]{5,256}")
_BUTTON_TYPES = frozenset(
    {"callback", "link", "request_geo_location", "request_contact", "open_app", "message", "clipboard", "chat"}
)


class Params:
    """A request's path values, query and JSON body, read with MAX's rules (400 ``proto.payload`` when wrong)."""

    def __init__(self, path: dict[str, str], query: MultiDict[str, str], data: bytes) -> None:
        self.path = path
        self.query = query
        self._data = data

    @staticmethod
    def _integer(raw: str, name: str) -> int:
        text = raw.strip()
        if not re.fullmatch(r"-?[0-9]+", text):
            raise bad_request(f"{name}: {raw!r} is not an integer")
        value = int(text)
        if not INT64_MIN <= value <= INT64_MAX:
            raise bad_request(f"{name}: {raw!r} is out of range")
        return value

    def chat_id(self) -> int:
        return self._integer(self.path["chat_id"], "chatId")

    def optional_int(
        self, name: str, *, default: int | None = None, low: int | None = None, high: int | None = None
    ) -> int | None:
        raw = self.query.get(name)
        if raw is None or raw.strip() in ("", "null"):
            return default
        value = self._integer(raw, name)
        if (low is not None and value < low) or (high is not None and value > high):
            raise bad_request(f"{name}: {value} is not within {low}..{high}")
        return value

    def required_int(self, name: str) -> int:
        value = self.optional_int(name)
        if value is None:
            raise bad_request(f"{name} is required")
        return value

    def strings(self, name: str) -> list[str] | None:
        """An array parameter: comma-separated (``style: simple``) and/or repeated."""
        raws = self.query.getlist(name)
        if not raws:
            return None
        return [item.strip() for raw in raws for item in raw.split(",") if item.strip()]

    def ints(self, name: str) -> list[int] | None:
        items = self.strings(name)
        return None if items is None else [self._integer(item, name) for item in items]

    def flag(self, name: str, default: bool) -> bool:
        raw = self.query.get(name)
        if raw is None or raw == "":
            return default
        if raw.lower() not in ("true", "false"):
            raise bad_request(f"{name}: {raw!r} is not true or false")
        return raw.lower() == "true"

    def body(self) -> dict[str, Any]:
        try:
            value = json.loads(self._data) if self._data else None
        except ValueError as error:
            raise bad_request(f"the body is not JSON: {error}") from error
        if not isinstance(value, dict):
            raise bad_request("the body must be a JSON object")
        return value


def _string(obj: dict[str, Any], key: str, *, high: int, low: int = 0, required: bool = False) -> str | None:
    value = obj.get(key)
    if value is None:
        if required:
            raise bad_request(f"{key} is required")
        return None
    if not isinstance(value, str) or not low <= len(value) <= high:
        raise bad_request(f"{key} must be a string of {low} to {high} characters")
    return value


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and INT64_MIN <= value <= INT64_MAX


# ---------------------------------------------------------------- the bot and its chats


def get_me(core: MaxCore, params: Params) -> dict[str, Any]:
    return bot_info_json(core.bot, core.now())


def _page(items: list[Any], start: int, count: int, order: Callable[[Any], int]) -> tuple[list[Any], int | None]:
    remaining = [item for item in items if order(item) >= start]
    page, rest = remaining[:count], remaining[count:]
    return page, (order(rest[0]) if rest else None)


def get_chats(core: MaxCore, params: Params) -> dict[str, Any]:
    count = params.optional_int("count", default=50, low=1, high=100) or 50
    marker = params.optional_int("marker", default=0) or 0
    chats = sorted(core.state.chats.values(), key=lambda chat: chat.order)
    page, next_marker = _page(chats, marker, count, lambda chat: chat.order)
    return {"chats": [chat_json(chat) for chat in page], "marker": next_marker}


def get_chat(core: MaxCore, params: Params) -> dict[str, Any]:
    chat_id = params.chat_id()
    chat = core.state.chats.get(chat_id)
    if chat is None:
        raise chat_not_found(chat_id)
    return chat_json(chat, participants=chat.bot is not None)


def patch_chat(core: MaxCore, params: Params) -> dict[str, Any]:
    body = params.body()
    chat = core.bot_chat(params.chat_id(), permission="change_chat_info")
    title = _string(body, "title", low=1, high=200)
    icon = body.get("icon")
    if icon is not None and not (isinstance(icon, dict) and isinstance(icon.get("url", ""), str)):
        raise bad_request("icon must be an object (PhotoAttachmentRequestPayload)")
    for key in ("pin",):
        if body.get(key) is not None and not isinstance(body[key], str):
            raise bad_request(f"{key} must be a string")
    if title is not None:
        chat.title = title
    if isinstance(icon, dict) and icon.get("url"):
        chat.icon_url = icon["url"]
    chat.last_event_time = core.now()
    return chat_json(chat, participants=True)


# ---------------------------------------------------------------- members


def get_members(core: MaxCore, params: Params) -> dict[str, Any]:
    chat = core.bot_chat(params.chat_id())
    user_ids = params.ints("user_ids")
    count = params.optional_int("count", default=20, low=1, high=MEMBERS_PER_REQUEST) or 20
    marker = params.optional_int("marker", default=0) or 0
    members = sorted(chat.members.values(), key=lambda m: m.order)
    if user_ids is not None:
        wanted = set(user_ids)
        return {"members": [core.membership_json(m) for m in members if m.user_id in wanted], "marker": None}
    page, next_marker = _page(members, marker, count, lambda m: m.order)
    return {"members": [core.membership_json(m) for m in page], "marker": next_marker}


def add_members(core: MaxCore, params: Params) -> dict[str, Any]:
    body = params.body()
    chat = core.bot_chat(params.chat_id(), permission="add_remove_members")
    user_ids = body.get("user_ids")
    if not isinstance(user_ids, list) or not all(_is_int(uid) for uid in user_ids):
        raise bad_request("user_ids must be an array of user ids")
    if len(user_ids) > MEMBERS_PER_REQUEST:
        raise bad_request(f"user_ids: at most {MEMBERS_PER_REQUEST} ids per request, got {len(user_ids)}")
    if len(set(user_ids)) != len(user_ids):
        raise bad_request("user_ids must not repeat an id")
    failed: dict[str, list[int]] = {}
    for user_id in user_ids:
        if user_id in chat.members:
            continue
        user = core.state.users.get(user_id)
        if user is None:
            failed.setdefault("add.participant.not.found", []).append(user_id)
        elif user.refuses_adds:
            failed.setdefault("add.participant.privacy", []).append(user_id)
        else:
            chat.add_member(user_id, core.now(), inviter_id=BOT_USER_ID)
            core.chat_event(chat, "user_added", user_id, inviter_id=BOT_USER_ID)
    if not failed:
        return {"success": True}
    return {
        "success": False,
        "message": "Some users were not added",
        "failed_user_ids": [uid for uid in user_ids if any(uid in ids for ids in failed.values())],
        "failed_user_details": [{"error_code": code, "user_ids": ids} for code, ids in failed.items()],
    }


def remove_member(core: MaxCore, params: Params) -> dict[str, Any]:
    chat = core.bot_chat(params.chat_id(), permission="add_remove_members")
    user_id = params.required_int("user_id")
    params.flag("block", False)  # accepted; the sandbox's chats have no block list
    if user_id == BOT_USER_ID:
        raise bad_request("the bot leaves a chat with DELETE /chats/{chatId}/members/me (not emulated)")
    if user_id == chat.owner_id:
        raise chat_denied("The chat owner cannot be removed")
    if user_id not in chat.members:
        return {"success": False, "message": f"User {user_id} is not a member of chat {chat.chat_id}"}
    del chat.members[user_id]
    core.chat_event(chat, "user_removed", user_id, admin_id=BOT_USER_ID)
    return {"success": True}


def get_membership(core: MaxCore, params: Params) -> dict[str, Any]:
    chat = core.bot_chat(params.chat_id(), admin=False)
    assert chat.bot is not None
    return core.membership_json(chat.bot)


# ---------------------------------------------------------------- messages


def _button(raw: object, taken: set[int], core: MaxCore) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise bad_request("a button must be an object")
    kind = raw.get("type")
    if kind not in _BUTTON_TYPES:
        raise bad_request(f"button type {kind!r} is not known")
    _string(raw, "text", low=1, high=128, required=True)
    button = dict(raw)
    if kind == "link":
        _string(raw, "url", low=1, high=2048, required=True)
    elif kind == "callback":
        _string(raw, "payload", high=1024, required=True)
    elif kind == "chat":
        _string(raw, "chat_title", low=1, high=200, required=True)
        _string(raw, "chat_description", high=400)
        _string(raw, "start_payload", high=START_PAYLOAD_MAX)
        uuid = raw.get("uuid")
        if uuid is None:
            uuid = core.rng.randrange(1, 2**31)
            while uuid in taken:
                uuid = core.rng.randrange(1, 2**31)
        elif not _is_int(uuid) or uuid in taken:
            raise bad_request("a chat button's uuid must be an integer, unique in the keyboard")
        taken.add(uuid)
        button["uuid"] = uuid
    return button


def _attachments(raw: object, core: MaxCore) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise bad_request("attachments must be an array")
    result: list[dict[str, Any]] = []
    taken: set[int] = set()
    for attachment in raw:
        kind = attachment.get("type") if isinstance(attachment, dict) else None
        if kind != "inline_keyboard":
            raise bad_request(f"attachment type {kind!r} is not emulated by the MAX sandbox")
        if result:
            raise bad_request("a message has at most one inline keyboard")
        payload = attachment.get("payload")
        rows = payload.get("buttons") if isinstance(payload, dict) else None
        if not isinstance(rows, list) or not rows or not all(isinstance(row, list) and row for row in rows):
            raise bad_request("an inline keyboard has rows of buttons")
        buttons = [[_button(button, taken, core) for button in row] for row in rows]
        result.append({"type": "inline_keyboard", "payload": {"buttons": buttons}})
    return result


def send_message(core: MaxCore, params: Params) -> dict[str, Any]:
    user_id, chat_id = params.optional_int("user_id"), params.optional_int("chat_id")
    params.flag("disable_link_preview", False)
    body = params.body()
    text = _string(body, "text", high=MESSAGE_TEXT_MAX)
    attachments = _attachments(body.get("attachments"), core)
    if body.get("link") is not None:
        raise bad_request("replies and forwards (link) are not emulated by the MAX sandbox")
    text_format = body.get("format")
    if text_format not in (None, "markdown", "html"):
        raise bad_request("format is markdown or html")
    if body.get("notify") is not None and not isinstance(body["notify"], bool):
        raise bad_request("notify must be a boolean")
    if not text and not attachments:
        raise bad_request("a message needs text or attachments")
    if (user_id is None) == (chat_id is None):
        raise bad_request("give either user_id or chat_id")
    if user_id is not None:
        dialog_id = core.check_dialog(user_id).dialog_id
        assert dialog_id is not None
        target = dialog_id
    else:
        assert chat_id is not None
        chat = core.state.chats.get(chat_id)
        if chat is None:
            raise chat_not_found(chat_id)
        if chat.bot is None:
            raise chat_denied(f"The bot is not a member of chat {chat_id}")
        chat.messages_count += 1
        chat.last_event_time = core.now()
        target = chat_id
    state = core.state
    message = SentMessage(
        mid=f"mid.{core.rng.getrandbits(64):016x}",
        seq=state.next_message_seq,
        timestamp=core.now(),
        chat_id=target,
        user_id=user_id,
        text=text,
        attachments=attachments,
        format=text_format,
    )
    state.next_message_seq += 1
    state.messages[message.mid] = message
    return {"message": message_json(message, bot_json(core.bot, core.now()))}


# ---------------------------------------------------------------- events


def get_subscriptions(core: MaxCore, params: Params) -> dict[str, Any]:
    sub = core.state.subscription
    return {"subscriptions": [] if sub is None else [sub.to_json()]}


def subscribe(core: MaxCore, params: Params) -> dict[str, Any]:
    body = params.body()
    url = _string(body, "url", low=1, high=2048, required=True)
    assert url is not None
    if not re.match(r"https?://[^/\s]+", url):
        raise bad_request("url must be an http(s) address")
    types = body.get("update_types")
    if types is not None:
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types) or len(set(types)) != len(types):
            raise bad_request("update_types must be an array of distinct update types")
        unknown = sorted(set(types) - UPDATE_TYPES)
        if unknown:
            raise bad_request(f"unknown update types: {unknown}")
    secret = body.get("secret")
    if secret is not None and not (isinstance(secret, str) and _SECRET.fullmatch(secret)):
        raise bad_request("secret must be 5 to 256 characters of A-Z, a-z, 0-9, _ and -")
    core.state.subscription = Subscription(url, core.now(), list(types) if types else None, secret)
    core.changed.notify_all()  # long polls end: the bot now has a webhook
    return {"success": True}


def unsubscribe(core: MaxCore, params: Params) -> dict[str, Any]:
    url = params.query.get("url")
    if not url:
        raise bad_request("url is required")
    sub = core.state.subscription
    if sub is not None and sub.url == url:
        drop_subscription(core, "the bot unsubscribed (DELETE /subscriptions)")
    return {"success": True}


def drop_subscription(core: MaxCore, reason: str) -> None:
    """End the webhook: its undelivered updates are dropped, long polling works again."""
    state = core.state
    if state.subscription is None:
        return
    core.webhook_log.append(
        {"event": "unsubscribed", "url": state.subscription.url, "reason": reason, "dropped": len(state.outbox)}
    )
    state.subscription = None
    state.outbox.clear()


def get_updates(core: MaxCore, params: Params) -> dict[str, Any]:
    if core.state.subscription is not None:
        raise MaxApiError(405, "Long polling is not available while the bot has a webhook subscription")
    limit = params.optional_int("limit", default=100, low=1, high=1000) or 100
    timeout = params.optional_int("timeout", default=30, low=0, high=90)
    marker = params.optional_int("marker")
    types = params.strings("types")
    wanted = set(types) if types else None
    deadline = time.monotonic() + min(float(timeout or 0), core.long_poll_max_wait)
    if marker is not None:
        state = core.state
        state.read_marker = max(state.read_marker, marker)
        state.updates = [(seq, update) for seq, update in state.updates if seq >= marker]
    start = core.state.read_marker if marker is None else marker
    while True:
        state = core.state
        if state.subscription is not None:
            return {"updates": [], "marker": start}
        found: list[dict[str, Any]] = []
        end = max(start, state.next_update_seq)
        for seq, update in state.updates:
            if seq < start:
                continue
            if len(found) == limit:
                end = seq
                break
            if wanted is None or update["update_type"] in wanted:
                found.append(update)
        remaining = deadline - time.monotonic()
        if found or remaining <= 0 or core.closing:
            return {"updates": found, "marker": end}
        core.changed.wait(remaining)


Operation = Callable[[MaxCore, Params], dict[str, Any]]

OPERATIONS: dict[tuple[str, str], Operation] = {
    ("GET", "/me"): get_me,
    ("GET", "/chats"): get_chats,
    ("GET", "/chats/{chatId}"): get_chat,
    ("PATCH", "/chats/{chatId}"): patch_chat,
    ("GET", "/chats/{chatId}/members"): get_members,
    ("POST", "/chats/{chatId}/members"): add_members,
    ("DELETE", "/chats/{chatId}/members"): remove_member,
    ("GET", "/chats/{chatId}/members/me"): get_membership,
    ("POST", "/messages"): send_message,
    ("GET", "/subscriptions"): get_subscriptions,
    ("POST", "/subscriptions"): subscribe,
    ("DELETE", "/subscriptions"): unsubscribe,
    ("GET", "/updates"): get_updates,
}
"""Every operation the sandbox serves, by ``(verb, template)`` as MAX's schema writes them."""
