"""Test doubles for the MAX client: a scripted Bot API behind ``httpx.MockTransport`` that holds both sides to
MAX's OpenAPI document, and builders of replies shaped like the document's schemas."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import attrs
import httpx

from tests.max_schema import validate_request, validate_response

Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response | Exception]


@attrs.frozen
class Served:
    """One exchange: the request the client sent, and the template it was routed by."""

    request: httpx.Request
    template: str

    @property
    def json(self) -> Any:
        return json.loads(self.request.content) if self.request.content else None

    @property
    def query(self) -> dict[str, str]:
        return dict(self.request.url.params)


def reply(status: int = 200, body: Any = None, *, headers: dict[str, str] | None = None) -> httpx.Response:
    """A JSON reply."""
    return httpx.Response(status, json=body, headers=headers)


def error(status: int, code: str, message: str = "error", **headers: str) -> httpx.Response:
    """MAX's error reply: the status and ``{"code", "message"}`` (``components.schemas.Error``)."""
    return httpx.Response(status, json={"code": code, "message": message}, headers=headers)


def _pattern(template: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{(\w+)\\\}", r"[^/]+", re.escape(template)))


class FakeMaxApi:
    """Answers by ``(verb, template)`` scripts: replies are used in order, the last one repeats.

    Every request is validated against MAX's document before it is answered, and every JSON reply with it before
    it is returned, unless the script was registered with ``conforming=False`` (for replies that break the schema
    on purpose).
    """

    def __init__(self) -> None:
        self.served: list[Served] = []
        self._scripts: dict[tuple[str, str], tuple[list[Reply], bool]] = {}

    def on(self, verb: str, template: str, *replies: Reply, conforming: bool = True) -> FakeMaxApi:
        self._scripts[(verb, template)] = (list(replies), conforming)
        return self

    def calls(self, verb: str, template: str) -> list[Served]:
        return [s for s in self.served if s.request.method == verb and s.template == template]

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=self.transport())

    def _route(self, request: httpx.Request) -> tuple[str, list[Reply], bool]:
        # Most specific first: a template with fewer placeholders wins ("/chats/{chatId}/members/me").
        for (verb, template), (replies, conforming) in sorted(
            self._scripts.items(), key=lambda item: item[0][1].count("{")
        ):
            if verb == request.method and _pattern(template).fullmatch(request.url.path):
                return template, replies, conforming
        raise AssertionError(f"unexpected request {request.method} {request.url.path}")

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        validate_request(request)
        template, replies, conforming = self._route(request)
        self.served.append(Served(request, template))
        answer = replies.pop(0) if len(replies) > 1 else replies[0]
        if callable(answer) and not isinstance(answer, Exception):
            answer = answer(request)
        if isinstance(answer, Exception):
            raise answer
        if conforming and answer.headers.get("content-type", "").startswith("application/json"):
            answer.read()
            validate_response(request.method, request.url.path, answer.status_code, answer.json())
        return answer


# -- replies shaped like components.schemas -------------------------------------------------------------------


def user(
    user_id: int, first_name: str = "Ivan", *, is_bot: bool = False, username: str | None = None
) -> dict[str, Any]:
    """``User`` (every field it requires, ``name`` deprecated but still required)."""
    return {
        "user_id": user_id,
        "first_name": first_name,
        "last_name": None if is_bot else "Petrov",
        "username": username,
        "is_bot": is_bot,
        "last_activity_time": 1_764_000_000_000,
        "name": first_name,
    }


def bot_info(user_id: int = 900, name: str = "Sferum LMS", username: str = "sferum_lms_bot") -> dict[str, Any]:
    """``BotInfo``."""
    return {**user(user_id, name, is_bot=True, username=username), "description": None, "commands": None}


def chat(chat_id: int, title: str | None = "Group 101", *, status: str = "active", **extra: Any) -> dict[str, Any]:
    """``Chat``."""
    return {
        "chat_id": chat_id,
        "type": "chat",
        "status": status,
        "title": title,
        "icon": None,
        "last_event_time": 1_764_000_000_000,
        "participants_count": 3,
        "is_public": False,
        "description": None,
        **extra,
    }


def member(
    user_id: int, *, is_admin: bool = False, permissions: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    """``ChatMember``."""
    return {
        **user(user_id, is_bot=extra.pop("is_bot", False)),
        "last_access_time": 1_764_000_000_000,
        "is_owner": False,
        "is_admin": is_admin,
        "join_time": 1_764_000_000_000,
        "permissions": permissions,
        **extra,
    }


def members_page(user_ids: range | list[int], marker: int | None = None) -> dict[str, Any]:
    """``ChatMembersList``."""
    return {"members": [member(i) for i in user_ids], "marker": marker}


def modify_result(failed: dict[str, list[int]] | None = None, *, success: bool = True) -> dict[str, Any]:
    """``ModifyMembersResult``: ``failed`` maps an error code to the ids it concerns."""
    failed = failed or {}
    ids = [user_id for user_ids in failed.values() for user_id in user_ids]
    details = [{"error_code": code, "user_ids": user_ids} for code, user_ids in failed.items()]
    return {"success": success, "failed_user_ids": ids or None, "failed_user_details": details or None}


def sent_message(*, chat_id: int | None = None, user_id: int | None = None, mid: str = "mid.0001") -> dict[str, Any]:
    """``SendMessageResult``."""
    recipient = {"chat_id": chat_id, "chat_type": "chat" if chat_id is not None else "dialog", "user_id": user_id}
    body = {"mid": mid, "seq": 1, "text": "text", "attachments": None, "link": None}
    return {"message": {"sender": user(900, is_bot=True), "recipient": recipient, "timestamp": 1, "body": body}}


def success(ok: bool = True, message: str | None = None) -> dict[str, Any]:
    """``SimpleQueryResult``."""
    return {"success": ok} if message is None else {"success": ok, "message": message}
