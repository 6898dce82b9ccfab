"""Everything the MAX sandbox remembers: people, chats, the bot's messages, its subscription and its events.

Plain data with lookups and its JSON pictures (``snapshot`` for the state file, ``to_json`` for
``/_sandbox/state``); ``_core`` changes it while holding the sandbox's lock.

Ids look like MAX's: people and the bot have positive ids, group chats negative ones (``-70000000000001``), the
dialog of a person with the bot a positive chat id of its own; message ids are strings ``mid.<hex>``.
"""

from __future__ import annotations

from typing import Any

import attrs

BOT_USER_ID = 900_000_001
"""The bot's own MAX user id."""

FIRST_USER_ID = 100_000_001
FIRST_GROUP_CHAT_ID = -70_000_000_000_001
FIRST_DIALOG_ID = 50_000_000_001

SNAPSHOT_FORMAT = 1
"""Version of the ``--state`` file's layout."""

BOT_STATUS_ACTIVE, BOT_STATUS_REMOVED, BOT_STATUS_LEFT = "active", "removed", "left"

# ChatAdminPermission values a group chat's administrators hold (channel-only rights left out).
ADMIN_PERMISSIONS: tuple[str, ...] = (
    "read_all_messages",
    "add_remove_members",
    "add_admins",
    "change_chat_info",
    "pin_message",
    "write",
    "edit_link",
)
OWNER_PERMISSIONS: tuple[str, ...] = (*ADMIN_PERMISSIONS, "can_call")


@attrs.define
class MaxUser:
    """A person in MAX.

    :param refuses_adds: their privacy settings refuse being added to chats (``add.participant.privacy``).
    :param dialog_id: the chat id of their dialog with the bot, once they pressed Start (None: never did; the bot
        cannot write to them).
    """

    user_id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    refuses_adds: bool = False
    dialog_id: int | None = None
    last_activity_time: int = 0

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name


@attrs.define
class Membership:
    """Someone in a group chat; ``order`` is their place in join order (the members' paging marker)."""

    user_id: int
    order: int
    join_time: int
    is_owner: bool = False
    is_admin: bool = False
    permissions: list[str] | None = None
    inviter_id: int | None = None


@attrs.define
class Chat:
    """A group chat. The bot's own membership is among ``members`` while ``status`` is ``active``.

    :param status: the bot's status in it (``Chat.status``): active, removed (someone removed it), left.
    :param order: creation order (the chats' paging marker).
    :param origin: ``[message id, button uuid]`` of the ``chat`` button that created it, if one did.
    """

    chat_id: int
    title: str
    owner_id: int
    link_code: str
    order: int
    created_at: int
    last_event_time: int
    description: str | None = None
    icon_url: str | None = None
    status: str = BOT_STATUS_ACTIVE
    messages_count: int = 0
    next_member_order: int = 1
    members: dict[int, Membership] = attrs.field(factory=dict)
    origin: list[Any] | None = None

    @property
    def link(self) -> str:
        return f"https://max.ru/join/{self.link_code}"

    @property
    def bot(self) -> Membership | None:
        return self.members.get(BOT_USER_ID) if self.status == BOT_STATUS_ACTIVE else None

    def add_member(self, user_id: int, now: int, **flags: Any) -> Membership:
        membership = Membership(user_id, self.next_member_order, now, **flags)
        self.members[user_id] = membership
        self.next_member_order += 1
        return membership


@attrs.define
class SentMessage:
    """A message the bot sent: to a person (``user_id`` set, ``chat_id`` their dialog) or to a group chat.

    ``attachments`` are kept as MAX answers them (chat buttons with their ``uuid``); ``created_chats`` maps a chat
    button's uuid to the chat its first tap created.
    """

    mid: str
    seq: int
    timestamp: int
    chat_id: int
    user_id: int | None
    text: str | None
    attachments: list[dict[str, Any]] = attrs.field(factory=list)
    format: str | None = None
    created_chats: dict[int, int] = attrs.field(factory=dict)

    def buttons(self) -> list[dict[str, Any]]:
        """Every button of the message's inline keyboards, row after row."""
        return [
            button
            for attachment in self.attachments
            if attachment.get("type") == "inline_keyboard"
            for row in attachment["payload"]["buttons"]
            for button in row
        ]

    def chat_button(self, uuid: int) -> dict[str, Any] | None:
        return next((b for b in self.buttons() if b.get("type") == "chat" and b.get("uuid") == uuid), None)


@attrs.define(repr=False)
class Subscription:
    """The bot's webhook: MAX POSTs each update to ``url`` with ``secret`` in ``X-Max-Bot-Api-Secret``."""

    url: str
    time: int
    update_types: list[str] | None = None
    secret: str | None = None

    def wants(self, update_type: str) -> bool:
        return not self.update_types or update_type in self.update_types

    def to_json(self) -> dict[str, Any]:
        """The ``Subscription`` object (no secret: MAX never shows it back)."""
        return {"url": self.url, "time": self.time, "update_types": self.update_types}

    def __repr__(self) -> str:
        return f"Subscription(url={self.url!r})"  # never the secret


@attrs.define(eq=False)
class PendingDelivery:
    """An update waiting for webhook delivery; ``due_at`` and ``first_at`` are on the monotonic clock."""

    update: dict[str, Any]
    first_at: float
    due_at: float
    attempts: int = 0


@attrs.define
class MaxState:
    """The whole mutable state of one MAX sandbox.

    ``updates`` is the long-polling queue: ``[seq, update]`` pairs not yet read, ``read_marker`` the first seq not
    read (the last ``marker`` the bot passed), ``next_update_seq`` the seq of the next update.
    """

    users: dict[int, MaxUser] = attrs.field(factory=dict)
    chats: dict[int, Chat] = attrs.field(factory=dict)
    messages: dict[str, SentMessage] = attrs.field(factory=dict)
    subscription: Subscription | None = None
    updates: list[tuple[int, dict[str, Any]]] = attrs.field(factory=list)
    outbox: list[PendingDelivery] = attrs.field(factory=list)
    read_marker: int = 1
    next_update_seq: int = 1
    next_user_id: int = FIRST_USER_ID
    next_chat_order: int = 1
    next_dialog_id: int = FIRST_DIALOG_ID
    next_message_seq: int = 1

    def snapshot(self) -> dict[str, Any]:
        """What outlives a restart (``--state``): everything but the webhook deliveries' timing."""

        def chat_json(chat: Chat) -> dict[str, Any]:
            data = attrs.asdict(chat, filter=lambda a, _: a.name != "members")
            return {**data, "members": [attrs.asdict(m) for m in chat.members.values()]}

        def message_json(message: SentMessage) -> dict[str, Any]:
            data = attrs.asdict(message)
            return {**data, "created_chats": [[uuid, chat] for uuid, chat in message.created_chats.items()]}

        sub = self.subscription
        return {
            "format": SNAPSHOT_FORMAT,
            "platform": "max",
            "users": [attrs.asdict(user) for user in self.users.values()],
            "chats": [chat_json(chat) for chat in self.chats.values()],
            "messages": [message_json(message) for message in self.messages.values()],
            "subscription": None if sub is None else attrs.asdict(sub),
            "updates": [[seq, update] for seq, update in self.updates],
            "outbox": [{"update": p.update, "attempts": p.attempts} for p in self.outbox],
            "read_marker": self.read_marker,
            "next_update_seq": self.next_update_seq,
            "next_user_id": self.next_user_id,
            "next_chat_order": self.next_chat_order,
            "next_dialog_id": self.next_dialog_id,
            "next_message_seq": self.next_message_seq,
        }

    @classmethod
    def restore(cls, snapshot: dict[str, Any], now: float) -> MaxState:
        """A state from :meth:`snapshot`; pending webhook deliveries are due at ``now`` (monotonic).

        :raises ValueError: the snapshot is not one a MAX sandbox wrote.
        """
        if snapshot.get("format") != SNAPSHOT_FORMAT or snapshot.get("platform") != "max":
            raise ValueError(f"not a MAX sandbox state of format {SNAPSHOT_FORMAT}")
        try:
            chats = {}
            for raw in snapshot["chats"]:
                members = {m["user_id"]: Membership(**m) for m in raw["members"]}
                chats[raw["chat_id"]] = Chat(**{**raw, "members": members})
            messages = {}
            for raw in snapshot["messages"]:
                created = {int(uuid): int(chat) for uuid, chat in raw["created_chats"]}
                messages[raw["mid"]] = SentMessage(**{**raw, "created_chats": created})
            sub = snapshot["subscription"]
            return cls(
                users={u["user_id"]: MaxUser(**u) for u in snapshot["users"]},
                chats=chats,
                messages=messages,
                subscription=None if sub is None else Subscription(**sub),
                updates=[(int(seq), update) for seq, update in snapshot["updates"]],
                outbox=[PendingDelivery(p["update"], now, now, int(p["attempts"])) for p in snapshot["outbox"]],
                read_marker=int(snapshot["read_marker"]),
                next_update_seq=int(snapshot["next_update_seq"]),
                next_user_id=int(snapshot["next_user_id"]),
                next_chat_order=int(snapshot["next_chat_order"]),
                next_dialog_id=int(snapshot["next_dialog_id"]),
                next_message_seq=int(snapshot["next_message_seq"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"damaged MAX sandbox state: {error!r}") from error
