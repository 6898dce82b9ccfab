"""The oracle (``tests/max_schema.py``) is not vacuous: it refuses what MAX's document refuses."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.gateway_max import fakes
from tests.max_schema import DOCUMENT, request_problems, response_problems

BASE = "https://max.test"
AUTH = {"Authorization": "max-bot-token-0000"}


def _request(verb: str, path: str, *, params: Any = None, json: Any = None, headers: Any = AUTH) -> httpx.Request:
    return httpx.Request(verb, BASE + path, params=params, json=json, headers=headers)


def test_the_document_is_the_vendored_openapi_0_0_32() -> None:
    assert DOCUMENT["openapi"].startswith("3.0")
    assert DOCUMENT["info"]["version"] == "0.0.32"
    assert DOCUMENT["servers"] == [{"url": "https://platform-api2.max.ru"}]


@pytest.mark.parametrize(
    ("request_", "problem"),
    [
        (_request("GET", "/me", params={"access_token": "t"}), "token is in the URL"),
        (_request("GET", "/me", headers={}), "no Authorization header"),
        (_request("PUT", "/chats/-1/members"), "no operation"),
        (_request("GET", "/chats/-1/members", params={"count": 101}), "maximum of 100"),
        (_request("GET", "/chats/-1/members", params={"user_ids": "1,x"}), "user_ids"),
        (_request("GET", "/chats/-1/members", params={"offset": 5}), "'offset' is not in the document"),
        (_request("POST", "/chats/-1/members", json={"user_ids": list(range(101))}), "too long"),
        (_request("POST", "/chats/-1/members", json={"user_ids": ["7"]}), "not of type 'integer'"),
        (_request("DELETE", "/chats/-1/members"), "user_id"),
        (_request("POST", "/messages", params={"chat_id": -1}, json={"text": "hi", "attachments": []}), "'link'"),
        (
            _request(
                "POST",
                "/messages",
                params={"user_id": 7},
                json={
                    "text": "hi",
                    "attachments": [
                        {"type": "inline_keyboard", "payload": {"buttons": [[{"type": "chat", "text": "Go"}]]}}
                    ],
                    "link": None,
                },
            ),
            "'chat_title' is a required property",
        ),
        (_request("POST", "/subscriptions", json={"url": "https://x.test", "secret": "a b"}), "does not match"),
        (_request("GET", "/updates", params={"timeout": 91}), "maximum of 90"),
    ],
)
def test_requests_the_document_refuses_are_refused(request_: httpx.Request, problem: str) -> None:
    problems = request_problems(request_)
    assert any(problem in p for p in problems), problems


@pytest.mark.parametrize(
    ("method", "path", "status", "body", "problem"),
    [
        ("GET", "/me", 200, {"user_id": 1}, "'first_name' is a required property"),
        ("GET", "/chats/-1/members/me", 200, fakes.user(900, is_bot=True), "'is_admin' is a required property"),
        ("GET", "/chats/-1", 404, {"message": "gone"}, "'code' is a required property"),
        ("POST", "/chats/-1/members", 200, {"failed_user_ids": [1]}, "'success' is a required property"),
        ("GET", "/updates", 200, {"updates": [{"update_type": "bot_started", "timestamp": 1}], "marker": 1}, "'user'"),
        ("GET", "/updates", 200, {"updates": [], "marker": "x"}, "not of type 'integer'"),
    ],
)
def test_replies_the_document_refuses_are_refused(method: str, path: str, status: int, body: Any, problem: str) -> None:
    problems = response_problems(method, path, status, body)
    assert any(problem in p for p in problems), problems


def test_a_chat_id_path_is_not_taken_for_a_channel_link_nor_members_me_for_me() -> None:
    assert request_problems(_request("GET", "/chats/-70000000123")) == []
    assert response_problems("GET", "/chats/-1/members/me", 200, fakes.member(900, is_admin=True)) == []
