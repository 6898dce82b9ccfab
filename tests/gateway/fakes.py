"""Test doubles for the gateway: a scripted VK API behind ``httpx.MockTransport``, and a fake clock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import attrs
import httpx

Reply = dict[str, Any] | httpx.Response | Exception | Callable[[httpx.Request], Any]


def ok(response: Any) -> dict[str, Any]:
    """A successful VK reply body."""
    return {"response": response}


def vk_error(code: int, message: str = "error", **extra: Any) -> dict[str, Any]:
    """A VK error reply body (HTTP 200)."""
    return {"error": {"error_code": code, "error_msg": message, "request_params": [], **extra}}


@attrs.frozen
class RecordedRequest:
    """One request the gateway sent."""

    http_method: str
    url: str
    path: str
    query: str
    form: dict[str, str]
    headers: dict[str, str]

    @property
    def api_method(self) -> str:
        return self.path.removeprefix("/method/")

    @property
    def params(self) -> dict[str, str]:
        """The form without ``access_token`` and ``v`` (what ``check_request`` validates with them)."""
        return {k: v for k, v in self.form.items() if k not in ("access_token", "v")}


class FakeVkApi:
    """Answers requests from per-path scripts: replies are used in order, the last one repeats.

    A reply is a JSON body (dict), an ``httpx.Response``, an exception to raise (``httpx.ReadTimeout``...) or
    a callable taking the request and returning one of those.
    """

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._scripts: dict[str, list[Reply]] = {}

    def on(self, method: str, *replies: Reply) -> FakeVkApi:
        """Script the replies of API ``method`` (or of a path starting with ``/``)."""
        path = method if method.startswith("/") else f"/method/{method}"
        self._scripts[path] = list(replies)
        return self

    def calls(self, method: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.api_method == method]

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=self.transport())

    def __call__(self, request: httpx.Request) -> httpx.Response:
        form = dict(parse_qsl(request.content.decode("utf-8"), keep_blank_values=True))
        self.requests.append(
            RecordedRequest(
                http_method=request.method,
                url=str(request.url),
                path=request.url.path,
                query=request.url.query.decode(),
                form=form,
                headers=dict(request.headers),
            )
        )
        script = self._scripts.get(request.url.path)
        if not script:
            raise AssertionError(f"unexpected request to {request.url.path}")
        reply = script.pop(0) if len(script) > 1 else script[0]
        if callable(reply) and not isinstance(reply, Exception):
            reply = reply(request)
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, httpx.Response):
            return reply
        return httpx.Response(200, json=reply)


class FakeClock:
    """Monotonic seconds that advance only when something sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


# Replies shaped like the schema's response definitions (tests validate them with validate_response).


def conversation(chat_id: int, title: str, owner_id: int = 1, members_count: int = 2) -> dict[str, Any]:
    """messages/objects.json#messages_conversation of a chat."""
    return {
        "peer": {"id": 2_000_000_000 + chat_id, "type": "chat", "local_id": chat_id},
        "last_message_id": 0,
        "last_conversation_message_id": 0,
        "in_read": 0,
        "out_read": 0,
        "version": 1,
        "chat_settings": {
            "owner_id": owner_id,
            "title": title,
            "state": "in",
            "members_count": members_count,
            "admin_ids": [owner_id],
            "acl": {
                "can_change_info": True,
                "can_change_invite_link": True,
                "can_change_pin": True,
                "can_invite": True,
                "can_promote_users": True,
                "can_see_invite_link": True,
                "can_moderate": True,
                "can_copy_chat": True,
                "can_call": True,
                "can_use_mass_mentions": True,
            },
        },
    }


def user_conversation(user_id: int) -> dict[str, Any]:
    """A conversation with a user (search results mix them with chats)."""
    return {
        "peer": {"id": user_id, "type": "user", "local_id": user_id},
        "last_message_id": 0,
        "last_conversation_message_id": 0,
        "in_read": 0,
        "out_read": 0,
        "version": 1,
    }


def member(member_id: int, **flags: Any) -> dict[str, Any]:
    """messages/objects.json#messages_conversation_member."""
    return {"member_id": member_id, "invited_by": 1, "join_date": 1_700_000_000, **flags}
