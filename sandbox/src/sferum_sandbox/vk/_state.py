"""Everything the sandbox remembers: people, chats, calls, tokens and VK ID grants.

Plain data with no behaviour beyond lookups and its JSON picture; the methods in ``_messages``, ``_calls``,
``_accounts`` and ``_vkid`` change it while holding the sandbox's lock.
"""

from __future__ import annotations

from typing import Any

import attrs

CHAT_PEER_OFFSET = 2_000_000_000
"""VK numbers chat peers as 2000000000 + chat_id."""

ORG_ACCOUNT_ID = 1000
"""The demo organisation's own Sferum account (the owner of the application token)."""

TOKEN_USER, TOKEN_SERVICE = "user", "service"

SNAPSHOT_FORMAT = 1
"""Version of the ``--state`` file's layout."""


@attrs.define
class SferumUser:
    """A person's Sferum (educational VK) profile."""

    id: int
    first_name: str
    last_name: str


@attrs.define
class ChatMember:
    """A chat member and how they got there."""

    member_id: int
    invited_by: int
    join_date: int
    is_admin: bool = False


@attrs.define
class Chat:
    """A group chat; ``members`` keeps join order."""

    chat_id: int
    title: str
    owner_id: int
    invite_code: str
    members: dict[int, ChatMember] = attrs.field(factory=dict)
    version: int = 1

    @property
    def peer_id(self) -> int:
        return CHAT_PEER_OFFSET + self.chat_id

    @property
    def admin_ids(self) -> list[int]:
        return [member.member_id for member in self.members.values() if member.is_admin]


@attrs.define
class Call:
    """A group video call started through ``calls.start``."""

    call_id: str
    owner_id: int
    started_at: int
    finished_at: int | None = None

    @property
    def is_active(self) -> bool:
        return self.finished_at is None


@attrs.define(repr=False)
class AccessToken:
    """A token the sandbox accepts; ``expires_at`` is on the monotonic clock (None: never expires).

    ``issued_at`` and ``expire_unix`` are unix times for secure.checkToken (``expire_unix`` 0: never).
    """

    value: str
    kind: str
    user_id: int | None
    issued_at: int
    expires_at: float | None = None
    expire_unix: int = 0

    def is_expired(self, monotonic_now: float) -> bool:
        return self.expires_at is not None and self.expires_at <= monotonic_now

    def __repr__(self) -> str:
        return f"AccessToken(kind={self.kind!r}, user_id={self.user_id!r})"  # never the value


@attrs.define(repr=False)
class AuthorizationRequest:
    """A VK ID authorisation waiting on the consent page, keyed by its form nonce."""

    client_id: int
    redirect_uri: str
    state: str
    code_challenge: str
    scope: str

    def __repr__(self) -> str:
        return f"AuthorizationRequest(client_id={self.client_id!r})"


@attrs.define(repr=False)
class AuthorizationCode:
    """A VK ID code granted on the consent page, redeemable once before ``expires_at`` (monotonic)."""

    request: AuthorizationRequest
    user_id: int
    device_id: str
    expires_at: float

    def __repr__(self) -> str:
        return f"AuthorizationCode(user_id={self.user_id!r})"


@attrs.define(repr=False)
class RefreshGrant:
    """A VK ID refresh token's grant."""

    user_id: int
    client_id: int
    device_id: str
    scope: str

    def __repr__(self) -> str:
        return f"RefreshGrant(user_id={self.user_id!r})"


@attrs.define
class SferumState:
    """The whole mutable state of one sandbox."""

    users: dict[int, SferumUser] = attrs.field(factory=dict)
    chats: dict[int, Chat] = attrs.field(factory=dict)
    calls: dict[str, Call] = attrs.field(factory=dict)
    tokens: dict[str, AccessToken] = attrs.field(factory=dict, repr=False)
    consents: dict[str, AuthorizationRequest] = attrs.field(factory=dict, repr=False)
    codes: dict[str, AuthorizationCode] = attrs.field(factory=dict, repr=False)
    refresh_grants: dict[str, RefreshGrant] = attrs.field(factory=dict, repr=False)
    deleted_chat_ids: set[int] = attrs.field(factory=set)
    """Chats someone deleted in Sferum (``messages.removeChatUser`` on them answers 1017, other methods 927)."""
    outside_organisation: set[int] = attrs.field(factory=set)
    """People who are not of the organisation: ``addChatUser`` refuses them (967), ``createChat`` leaves them out."""
    next_user_id: int = ORG_ACCOUNT_ID
    next_chat_id: int = 1

    def add_user(self, first_name: str, last_name: str) -> SferumUser:
        user = SferumUser(self.next_user_id, first_name, last_name)
        self.users[user.id] = user
        self.next_user_id += 1
        return user

    def snapshot(self) -> dict[str, Any]:
        """What outlives a restart (``--state``): people, chats with their members and invite codes, calls and the
        id counters.  Tokens, consents, codes and grants are not kept: a restart signs everyone out."""
        return {
            "format": SNAPSHOT_FORMAT,
            "users": [attrs.asdict(user) for user in self.users.values()],
            "chats": [
                {**attrs.asdict(chat, filter=lambda a, _: a.name != "members"),
                 "members": [attrs.asdict(member) for member in chat.members.values()]}
                for chat in self.chats.values()
            ],
            "calls": [attrs.asdict(call) for call in self.calls.values()],
            "deleted_chat_ids": sorted(self.deleted_chat_ids),
            "outside_organisation": sorted(self.outside_organisation),
            "next_user_id": self.next_user_id,
            "next_chat_id": self.next_chat_id,
        }  # fmt: skip

    def restore(self, snapshot: dict[str, Any]) -> None:
        """Replace people, chats, calls and counters with those of ``snapshot`` (from :meth:`snapshot`).

        :raises ValueError: the snapshot is not one this sandbox wrote.
        """
        if snapshot.get("format") != SNAPSHOT_FORMAT:
            raise ValueError(f"not a sandbox state of format {SNAPSHOT_FORMAT}")
        try:
            users = {u["id"]: SferumUser(**u) for u in snapshot["users"]}
            chats = {}
            for raw in snapshot["chats"]:
                members = {m["member_id"]: ChatMember(**m) for m in raw["members"]}
                chats[raw["chat_id"]] = Chat(**{**raw, "members": members})
            calls = {c["call_id"]: Call(**c) for c in snapshot["calls"]}
            next_user_id, next_chat_id = int(snapshot["next_user_id"]), int(snapshot["next_chat_id"])
            deleted = {int(chat_id) for chat_id in snapshot.get("deleted_chat_ids", [])}  # absent from older files
            outside = {int(user_id) for user_id in snapshot.get("outside_organisation", [])}
        except (KeyError, TypeError) as error:
            raise ValueError(f"damaged sandbox state: {error}") from error
        self.users, self.chats, self.calls = users, chats, calls
        self.next_user_id, self.next_chat_id = next_user_id, next_chat_id
        self.deleted_chat_ids, self.outside_organisation = deleted, outside

    def to_json(self) -> dict[str, Any]:
        """Return the state as ``GET /_sandbox/state`` shows it (no tokens, codes or grants)."""
        return {
            "users": [attrs.asdict(user) for user in self.users.values()],
            "chats": [
                {
                    "chat_id": chat.chat_id,
                    "peer_id": chat.peer_id,
                    "title": chat.title,
                    "owner_id": chat.owner_id,
                    "admin_ids": chat.admin_ids,
                    "members": [attrs.asdict(member) for member in chat.members.values()],
                }
                for chat in self.chats.values()
            ],
            "calls": [
                {
                    "call_id": call.call_id,
                    "owner_id": call.owner_id,
                    "state": "active" if call.is_active else "finished",
                    "started_at": call.started_at,
                    "finished_at": call.finished_at,
                }
                for call in self.calls.values()
            ],
        }
