"""The MAX sandbox's internals: configuration, state, the lock, clocks, and every change people and the bot make.

``MaxSandbox`` (the public face) owns one ``MaxCore``; the Bot API handlers, the pages and the webhook deliverer
work on it. Every read or change of ``state`` happens under ``lock`` (one re-entrant lock; ``changed`` is a
condition on it that wakes long polls when an update is queued).

What people do in MAX (press Start on a deep link, tap a ``chat`` button, leave a chat, rename it...) is here too,
as methods that change the state and queue the updates MAX would send the bot: :meth:`MaxCore.emit` puts each
update either in the webhook outbox (while the bot has a subscription that wants its type) or in the long-polling
queue (while it has none), never in both.
"""

from __future__ import annotations

import random
import string
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import attrs

from ._demo import seed_demo_people
from ._errors import MaxApiError, chat_denied, chat_not_found
from ._faults import FaultInjector
from ._ratelimit import RollingWindowLimiter
from ._state import (
    ADMIN_PERMISSIONS,
    BOT_STATUS_REMOVED,
    BOT_USER_ID,
    FIRST_GROUP_CHAT_ID,
    OWNER_PERMISSIONS,
    Chat,
    MaxState,
    MaxUser,
    Membership,
    PendingDelivery,
    SentMessage,
)
from ._wire import BotIdentity, bot_json, chat_json, member_json, user_json

DEEP_LINK_HOST = "max.ru"
START_PAYLOAD_MAX = 512
"""A deep link's payload longer than this is not passed to the bot (``info.description``, "Deep linking")."""

DEFAULT_WEBHOOK_RETRY_DELAYS: tuple[float, ...] = tuple(60 * 2.5**n for n in range(10))
"""Seconds before each redelivery: ``POST /subscriptions`` says up to 10, from 60 s, each 2.5 times longer."""
DEFAULT_WEBHOOK_GIVE_UP_SECONDS = 8 * 3600.0
"""MAX unsubscribes the bot if a webhook has not accepted an update within 8 hours of it."""


@attrs.define(repr=False)
class MaxCore:
    """Configuration and mutable internals of one MAX sandbox."""

    bot: BotIdentity
    token: str
    seed: int
    clock: Callable[[], float]
    wall_clock: Callable[[], float]
    sleep: Callable[[float], None]
    rate_limit_per_second: float | None
    long_poll_max_wait: float
    webhook_retry_delays: tuple[float, ...]
    webhook_give_up_seconds: float
    lock: threading.RLock = attrs.field(factory=threading.RLock)
    state: MaxState = attrs.field(factory=MaxState)
    request_counts: Counter[str] = attrs.field(factory=Counter)
    webhook_log: deque[dict[str, Any]] = attrs.field(factory=lambda: deque(maxlen=200))
    closing: bool = False
    changed: threading.Condition = attrs.field(init=False)
    webhook_wakeup: threading.Event = attrs.field(factory=threading.Event)
    rng: random.Random = attrs.field(init=False)
    faults: FaultInjector = attrs.field(init=False)
    limiter: RollingWindowLimiter = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.changed = threading.Condition(self.lock)
        self.rng = random.Random(self.seed)
        self.faults = FaultInjector(self.lock, self.seed)
        self.limiter = RollingWindowLimiter(self.rate_limit_per_second, self.clock)
        self.reset()

    def __repr__(self) -> str:
        return f"MaxCore(bot={self.bot.name!r})"  # never the token

    # ---------------------------------------------------------------- basics

    def now(self) -> int:
        """Unix time in milliseconds, as MAX writes every date."""
        return int(self.wall_clock() * 1000)

    def reset(self) -> None:
        """Back to the seeded demo people: no chats, messages, subscription, updates, faults or counts.

        The update sequence keeps counting, so that a long-polling client's marker never points into the past.
        """
        with self.lock:
            next_update_seq = self.state.next_update_seq
            self.state = MaxState(read_marker=next_update_seq, next_update_seq=next_update_seq)
            seed_demo_people(self.state, self.now())
            self.rng.seed(self.seed)
            self.faults.reset(self.seed)
            self.limiter.reset()
            self.request_counts.clear()
            self.webhook_log.clear()
            self.changed.notify_all()

    def random_code(self, length: int) -> str:
        return "".join(self.rng.choice(string.ascii_letters + string.digits) for _ in range(length))

    def user(self, user_id: int) -> MaxUser:
        """A known person; raises KeyError otherwise."""
        user = self.state.users.get(user_id)
        if user is None:
            raise KeyError(f"no MAX user {user_id}")
        return user

    def chat(self, chat_id: int) -> Chat:
        """A known group chat; raises KeyError otherwise."""
        chat = self.state.chats.get(chat_id)
        if chat is None:
            raise KeyError(f"no MAX chat {chat_id}")
        return chat

    def person_json(self, user_id: int) -> dict[str, Any]:
        """``User`` of a person or of the bot."""
        return bot_json(self.bot, self.now()) if user_id == BOT_USER_ID else user_json(self.user(user_id))

    def _touch(self, user: MaxUser) -> None:
        user.last_activity_time = self.now()

    # ---------------------------------------------------------------- updates

    def emit(self, update_type: str, **fields: Any) -> None:
        """Queue an update for the bot: to its webhook while it has one, else for long polling."""
        update = {"update_type": update_type, "timestamp": self.now(), **fields}
        state = self.state
        if state.subscription is not None:
            if state.subscription.wants(update_type):
                now = self.clock()
                state.outbox.append(PendingDelivery(update, now, now))
                self.webhook_wakeup.set()
            return
        state.updates.append((state.next_update_seq, update))
        state.next_update_seq += 1
        self.changed.notify_all()

    def chat_event(self, chat: Chat, update_type: str, actor: int, **fields: Any) -> None:
        """Queue ``update_type`` about ``chat`` (``actor`` is its ``user``), if the bot is in the chat."""
        chat.last_event_time = self.now()
        if chat.bot is None:
            return  # MAX tells the bot only about chats it is in
        self.emit(update_type, chat_id=chat.chat_id, user=self.person_json(actor), is_channel=False, **fields)

    # ---------------------------------------------------------------- people

    def add_user(
        self, first_name: str, last_name: str | None = None, username: str | None = None, refuses_adds: bool = False
    ) -> MaxUser:
        if not first_name.strip():
            raise ValueError("a MAX user has a first name")
        state = self.state
        user = MaxUser(state.next_user_id, first_name.strip(), last_name, username, refuses_adds)
        user.last_activity_time = self.now()
        state.users[user.user_id] = user
        state.next_user_id += 1
        return user

    def deep_link(self, payload: str | None = None) -> str:
        base = f"https://{DEEP_LINK_HOST}/{self.bot.name}"
        return base if payload is None else f"{base}?start={quote(payload, safe='')}"

    def parse_deep_link(self, link: str) -> str | None:
        """The payload of this bot's deep link ``https://max.ru/<bot name>?start=<payload>`` (None: no payload).

        :raises ValueError: not a MAX link, or a link to another bot.
        """
        parts = urlsplit(link.strip())
        if parts.scheme not in ("https", "http") or parts.hostname not in (DEEP_LINK_HOST, f"www.{DEEP_LINK_HOST}"):
            raise ValueError(f"not a MAX deep link (https://{DEEP_LINK_HOST}/<bot name>?start=...)")
        name = parts.path.strip("/")
        if name.lower() != self.bot.name.lower():
            raise ValueError(f"this link opens another bot ({name or 'none'}), not {self.bot.name}")
        values = parse_qs(parts.query, keep_blank_values=True).get("start")
        return values[0] if values else None

    def press_start(self, user_id: int, payload: str | None) -> None:
        """The person opens the bot's dialog (a deep link, or the Start button) and presses Start."""
        user = self.user(user_id)
        if user.dialog_id is None:
            user.dialog_id = self.state.next_dialog_id
            self.state.next_dialog_id += 1
        self._touch(user)
        fields: dict[str, Any] = {"chat_id": user.dialog_id, "user": user_json(user), "user_locale": "ru"}
        if payload is not None and len(payload) <= START_PAYLOAD_MAX:
            fields["payload"] = payload  # a longer one is "omitted and not passed to the bot"
        self.emit("bot_started", **fields)

    def set_privacy(self, user_id: int, refuses_adds: bool) -> None:
        self.user(user_id).refuses_adds = refuses_adds

    # ---------------------------------------------------------------- chats

    def new_chat(self, title: str, owner_id: int, description: str | None = None) -> Chat:
        """A group chat with its owner (an administrator) and the bot as administrator."""
        state = self.state
        order = state.next_chat_order
        now = self.now()
        chat = Chat(
            chat_id=FIRST_GROUP_CHAT_ID - (order - 1),
            title=title,
            owner_id=owner_id,
            link_code=self.random_code(12),
            order=order,
            created_at=now,
            last_event_time=now,
            description=description,
        )
        state.next_chat_order += 1
        chat.add_member(owner_id, now, is_owner=True, is_admin=True, permissions=list(OWNER_PERMISSIONS))
        chat.add_member(BOT_USER_ID, now, is_admin=True, permissions=list(ADMIN_PERMISSIONS), inviter_id=owner_id)
        state.chats[chat.chat_id] = chat
        return chat

    def seed_chat(
        self,
        title: str,
        owner_id: int,
        member_ids: Iterable[int],
        *,
        description: str | None,
        bot_is_admin: bool,
        notify: bool,
    ) -> Chat:
        """A chat that already exists with the bot in it (say, one carried over from VK Messenger)."""
        if not 1 <= len(title) <= 200:
            raise ValueError("a chat title has 1 to 200 characters")
        self._touch(self.user(owner_id))
        members = [self.user(uid).user_id for uid in dict.fromkeys(member_ids) if uid != owner_id]
        chat = self.new_chat(title, owner_id, description)
        for user_id in members:
            chat.add_member(user_id, self.now(), inviter_id=owner_id)
        if not bot_is_admin:
            self.set_bot_admin(chat.chat_id, False)
        if notify:
            self.chat_event(chat, "bot_added", owner_id)
        return chat

    def tap_chat_button(self, user_id: int, mid: str, uuid: int) -> int:
        """The person taps the ``chat`` button ``uuid`` of message ``mid``; the first tap creates the chat.

        :raises KeyError: no such person, message or button.
        :raises PermissionError: the message is not one this person can see.
        """
        user = self.user(user_id)
        message = self.state.messages.get(mid)
        if message is None:
            raise KeyError(f"no message {mid}")
        if not self._sees(user_id, message):
            raise PermissionError(f"MAX user {user_id} cannot see message {mid}")
        button = message.chat_button(uuid)
        if button is None:
            raise KeyError(f"message {mid} has no chat button {uuid}")
        self._touch(user)
        existing = message.created_chats.get(uuid)
        if existing is not None and existing in self.state.chats:
            chat = self.state.chats[existing]
            if user_id not in chat.members:  # a later tap opens the chat, and joins whoever is not in it yet
                chat.add_member(user_id, self.now())
                self.chat_event(chat, "user_added", user_id, inviter_id=None)
            return chat.chat_id
        chat = self.new_chat(button["chat_title"], user_id, button.get("chat_description"))
        chat.origin = [mid, uuid]
        message.created_chats[uuid] = chat.chat_id
        fields: dict[str, Any] = {"chat": chat_json(chat), "message_id": mid}
        if button.get("start_payload") is not None:
            fields["start_payload"] = button["start_payload"]
        self.emit("message_chat_created", **fields)
        return chat.chat_id

    def _sees(self, user_id: int, message: SentMessage) -> bool:
        if message.user_id is not None:
            return message.user_id == user_id
        chat = self.state.chats.get(message.chat_id)
        return chat is not None and user_id in chat.members

    def remove_bot(self, chat_id: int, by_user_id: int | None) -> None:
        """Someone (default: the owner) removes the bot from the chat: ``bot_removed``."""
        chat = self.chat(chat_id)
        if chat.bot is None:
            raise ValueError(f"the bot is not in chat {chat_id}")
        actor = chat.owner_id if by_user_id is None else self.user(by_user_id).user_id
        self.chat_event(chat, "bot_removed", actor)
        del chat.members[BOT_USER_ID]
        chat.status = BOT_STATUS_REMOVED

    def set_bot_admin(self, chat_id: int, is_admin: bool, permissions: Iterable[str] | None = None) -> None:
        """Make the bot an administrator of the chat (with ``permissions``, default all) or a plain member."""
        chat = self.chat(chat_id)
        bot = chat.bot
        if bot is None:
            raise ValueError(f"the bot is not in chat {chat_id}")
        chosen = list(ADMIN_PERMISSIONS if permissions is None else permissions)
        unknown = set(chosen) - set(OWNER_PERMISSIONS)
        if unknown:
            raise ValueError(f"unknown permissions: {sorted(unknown)}")
        bot.is_admin = is_admin
        bot.permissions = chosen if is_admin else None

    def add_member(self, chat_id: int, user_id: int, by_user_id: int | None) -> None:
        """Someone else adds the person (``by_user_id`` None: they join by the chat's link): ``user_added``."""
        chat = self.chat(chat_id)
        user = self.user(user_id)
        if by_user_id is not None:
            self.user(by_user_id)
        if user_id in chat.members:
            raise ValueError(f"MAX user {user_id} is already in chat {chat_id}")
        self._touch(user)
        chat.add_member(user_id, self.now(), inviter_id=by_user_id)
        self.chat_event(chat, "user_added", user_id, inviter_id=by_user_id)

    def remove_member(self, chat_id: int, user_id: int, by_user_id: int | None) -> None:
        """The person leaves (``by_user_id`` None) or an administrator removes them: ``user_removed``."""
        chat = self.chat(chat_id)
        if user_id == BOT_USER_ID:
            raise ValueError("use remove_bot to take the bot out of a chat")
        if user_id not in chat.members:
            raise KeyError(f"MAX user {user_id} is not in chat {chat_id}")
        extra = {} if by_user_id is None else {"admin_id": self.user(by_user_id).user_id}
        del chat.members[user_id]
        self.chat_event(chat, "user_removed", user_id, **extra)

    def change_title(self, chat_id: int, title: str, by_user_id: int) -> None:
        """A member renames the chat: ``chat_title_changed``."""
        chat = self.chat(chat_id)
        if not 1 <= len(title) <= 200:
            raise ValueError("a chat title has 1 to 200 characters")
        if by_user_id not in chat.members:
            raise PermissionError(f"MAX user {by_user_id} is not in chat {chat_id}")
        chat.title = title
        self.chat_event(chat, "chat_title_changed", by_user_id, title=title)

    # ---------------------------------------------------------------- what the bot may do

    def bot_chat(self, chat_id: int, *, admin: bool = True, permission: str | None = None) -> Chat:
        """The chat, if the bot is in it (and an administrator, with ``permission``); else MAX's refusal."""
        chat = self.state.chats.get(chat_id)
        if chat is None:
            raise chat_not_found(chat_id)
        bot = chat.bot
        if bot is None:
            raise chat_denied(f"The bot is not a member of chat {chat_id}")
        if admin and not bot.is_admin:
            raise chat_denied(f"The bot is not an administrator of chat {chat_id}")
        if permission is not None and permission not in (bot.permissions or ()):
            raise chat_denied(f"The bot has no {permission} right in chat {chat_id}")
        return chat

    def membership_json(self, membership: Membership) -> dict[str, Any]:
        return member_json(membership, self.person_json(membership.user_id))

    def check_dialog(self, user_id: int) -> MaxUser:
        """The person the bot writes to; they must exist and have started the bot."""
        user = self.state.users.get(user_id)
        if user is None:
            raise MaxApiError(404, f"User {user_id} not found", "user.not.found")
        if user.dialog_id is None:
            raise chat_denied(f"User {user_id} has not started a dialog with the bot")
        return user

    # ---------------------------------------------------------------- the picture for /_sandbox/state

    def to_json(self) -> dict[str, Any]:
        """The state as ``GET /_sandbox/state`` shows it (the webhook's secret only as ``has_secret``)."""
        state = self.state
        sub = state.subscription

        def chat_picture(chat: Chat) -> dict[str, Any]:
            bot = chat.bot
            return {
                "chat_id": chat.chat_id,
                "title": chat.title,
                "description": chat.description,
                "owner_id": chat.owner_id,
                "status": chat.status,
                "bot_is_admin": bool(bot and bot.is_admin),
                "bot_permissions": list(bot.permissions or []) if bot and bot.is_admin else [],
                "link": chat.link,
                "created_by_button": None if chat.origin is None else {"mid": chat.origin[0], "uuid": chat.origin[1]},
                "members": [
                    {
                        "user_id": m.user_id,
                        "is_owner": m.is_owner,
                        "is_admin": m.is_admin,
                        "is_bot": m.user_id == BOT_USER_ID,
                        "join_time": m.join_time,
                        "inviter_id": m.inviter_id,
                    }
                    for m in sorted(chat.members.values(), key=lambda m: m.order)
                ],
            }

        return {
            "bot": {
                "user_id": self.bot.user_id,
                "name": self.bot.name,
                "title": self.bot.title,
                "deep_link": self.deep_link(),
            },
            "users": [
                {
                    "user_id": user.user_id,
                    "first_name": user.first_name,
                    "last_name": user.last_name,
                    "username": user.username,
                    "refuses_adds": user.refuses_adds,
                    "started_bot": user.dialog_id is not None,
                    "dialog_id": user.dialog_id,
                }
                for user in state.users.values()
            ],
            "chats": [chat_picture(chat) for chat in sorted(state.chats.values(), key=lambda c: c.order)],
            "messages": [
                {
                    "mid": m.mid,
                    "user_id": m.user_id,
                    "chat_id": m.chat_id,
                    "timestamp": m.timestamp,
                    "text": m.text,
                    "buttons": [[dict(b) for b in row] for a in m.attachments for row in a["payload"]["buttons"]],
                    "created_chats": {str(uuid): chat for uuid, chat in m.created_chats.items()},
                }
                for m in state.messages.values()
            ],
            "subscription": None if sub is None else {**sub.to_json(), "has_secret": sub.secret is not None},
            "updates": {
                "waiting": [update for seq, update in state.updates if seq >= state.read_marker],
                "read_marker": state.read_marker,
                "next_marker": state.next_update_seq,
            },
            "webhook": {
                "pending": [{"update_type": p.update["update_type"], "attempts": p.attempts} for p in state.outbox],
                "log": list(self.webhook_log),
            },
        }
