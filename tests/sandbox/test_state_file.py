"""``sferum-sandbox vk --state FILE``: people, chats and calls outlive a restart; nothing else does."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from sferum_sandbox import DEFAULT_APP_TOKEN, Sandbox, serve

from tests.sandbox.conftest import VkApi


def _api(box: Sandbox) -> tuple[httpx.Client, VkApi]:
    client = httpx.Client(transport=httpx.WSGITransport(app=box.wsgi_app), base_url="http://sandbox.test")
    return client, VkApi(client)


def test_people_chats_and_calls_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "sandbox-state.json"
    first = Sandbox(rate_limit_per_second=None, state_file=path)
    student = first.add_user("Пётр", "Студентов")
    client, api = _api(first)
    with client:
        chat_id = api.ok("messages.createChat", title="ИВТ-21 [g1]", user_ids=student)["chat_id"]
        link = api.ok("messages.getInviteLink", peer_id=2_000_000_000 + chat_id)["link"]
        api.ok("calls.start")
        user_token = first.issue_user_token(student)
    before = first.state()

    second = Sandbox(rate_limit_per_second=None, state_file=path)
    assert second.state() == before
    client, api = _api(second)
    with client:
        assert api.ok("messages.getInviteLink", peer_id=2_000_000_000 + chat_id)["link"] == link
        assert api.error("users.get", access_token=user_token)["error_code"] == 5  # sessions do not survive
        assert api.ok("messages.createChat", title="Второй", user_ids=student)["chat_id"] == chat_id + 1
    assert second.add_user("Новый", "Человек") == student + 1


def test_the_file_holds_no_token_and_is_rewritten_only_on_change(tmp_path: Path) -> None:
    path = tmp_path / "sandbox-state.json"
    box = Sandbox(rate_limit_per_second=None, state_file=path)
    client, api = _api(box)
    with client:
        api.ok("messages.createChat", title="Чат", user_ids=box.add_user("А", "Б"))
        written = path.stat().st_mtime_ns
        text = path.read_text(encoding="utf-8")
        api.ok("messages.searchConversations", q="Чат")  # a read changes nothing
    assert path.stat().st_mtime_ns == written
    assert DEFAULT_APP_TOKEN not in text
    assert "Чат" in json.loads(text)["chats"][0]["title"]
    assert not list(tmp_path.glob("*.partial"))


def test_a_damaged_state_file_is_refused_at_start(tmp_path: Path) -> None:
    path = tmp_path / "sandbox-state.json"
    path.write_text('{"format": 1, "users": [{"id": "x"}]}', encoding="utf-8")
    with pytest.raises(ValueError, match="damaged sandbox state"):
        Sandbox(state_file=path)
    path.write_text('{"format": 99}', encoding="utf-8")
    with pytest.raises(ValueError, match="format"):
        Sandbox(state_file=path)


def test_the_served_sandbox_keeps_its_state_file_current(tmp_path: Path) -> None:
    path = tmp_path / "sandbox-state.json"
    box = Sandbox(rate_limit_per_second=None, state_file=path)
    with serve(box) as running, httpx.Client(base_url=running.url) as client:
        VkApi(client).ok("messages.createChat", title="По сети", user_ids=box.add_user("В", "Г"))
    assert [chat["title"] for chat in json.loads(path.read_text(encoding="utf-8"))["chats"]] == ["По сети"]
