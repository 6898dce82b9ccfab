"""Ways in and controls: token placement, in-process use, state/reset/requests, pages, CLI, schema source."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import sferum_sandbox
from sferum_sandbox import DEFAULT_APP_TOKEN, SCHEMA_DIR, SUPPORTED_METHODS, Sandbox
from sferum_sandbox.vk._schema import load_contract
from sferum_sandbox.vk._state import AccessToken, SferumState

from tests import vk_schema

ANNA = 1001
REPO = Path(__file__).resolve().parents[2]


def test_token_in_body(http):
    reply = http.post("/method/users.get", data={"access_token": DEFAULT_APP_TOKEN, "v": "5.199"})
    assert reply.json()["response"][0]["id"] == 1000


def test_token_in_query(http):
    reply = http.get("/method/users.get", params={"access_token": DEFAULT_APP_TOKEN, "v": "5.199"})
    assert reply.json()["response"][0]["id"] == 1000


def test_token_as_bearer_header(http):
    reply = http.post(
        "/method/users.get", data={"v": "5.199"}, headers={"Authorization": f"Bearer {DEFAULT_APP_TOKEN}"}
    )
    assert reply.json()["response"][0]["id"] == 1000


def test_in_process_transport_works(sandbox):
    with httpx.Client(transport=httpx.WSGITransport(app=sandbox.wsgi_app), base_url="http://sandbox") as client:
        data = {"access_token": DEFAULT_APP_TOKEN, "v": "5.199", "user_ids": str(ANNA), "title": "t"}
        body = client.post("/method/messages.createChat", data=data).json()
    vk_schema.validate_response("messages.createChat", body)
    assert sandbox.state()["chats"][0]["title"] == "t"


def test_state_endpoint_matches_the_object(http, api, sandbox):
    chat_id = api.ok("messages.createChat", user_ids=str(ANNA), title="ИВТ-21")["chat_id"]
    call_id = api.ok("calls.start")["call_id"]

    state = http.get("/_sandbox/state").json()

    assert state == sandbox.state()
    assert len(state["users"]) == 11
    assert state["users"][0] == {"id": 1000, "first_name": "Демо-университет", "last_name": "Организация"}
    assert state["chats"][0]["chat_id"] == chat_id
    assert state["chats"][0]["owner_id"] == 1000
    assert state["calls"] == [
        {
            "call_id": call_id,
            "owner_id": 1000,
            "state": "active",
            "started_at": state["calls"][0]["started_at"],
            "finished_at": None,
        }
    ]
    assert DEFAULT_APP_TOKEN not in http.get("/_sandbox/state").text


def test_reset_returns_to_the_demo_organisation(http, api, sandbox):
    sandbox.add_user("Олег", "Сидоров")
    api.ok("messages.createChat", user_ids=str(ANNA), title="t")
    sandbox.faults.inject("*", error_code=10, times=3)

    assert http.post("/_sandbox/reset").json() == {"ok": True}

    state = sandbox.state()
    assert (len(state["users"]), state["chats"], state["calls"]) == (11, [], [])
    assert sandbox.faults.rules() == []
    assert sandbox.request_counts() == {}
    assert api.ok("messages.createChat", user_ids=str(ANNA), title="t")["chat_id"] == 1


def test_reset_repeats_the_same_random_values(api, sandbox):
    first = api.ok("calls.start")["call_id"]
    sandbox.reset()
    assert api.ok("calls.start")["call_id"] == first


def test_requests_are_counted_per_method(http, api, sandbox):
    api.ok("users.get")
    api.ok("users.get")
    api.error("messages.addChatUser", chat_id=1, user_id=ANNA)
    expected = {"users.get": 2, "messages.addChatUser": 1}
    assert http.get("/_sandbox/requests").json() == expected
    assert sandbox.request_counts() == expected


def test_calls_are_counted_per_method_inside_execute_too(api, sandbox):
    chat_id = api.ok("messages.createChat", user_ids=str(ANNA), title="t")["chat_id"]
    code = (
        f'return [API.messages.addChatUser({{"chat_id": {chat_id}, "user_id": 1002}}), '
        f'API.messages.getConversationMembers({{"peer_id": {2_000_000_000 + chat_id}}}), API.users.get()];'
    )
    assert "execute_errors" not in api.raw("execute", code=code)
    api.error("messages.addChatUser", chat_id=99, user_id=ANNA)
    assert sandbox.request_counts() == {"messages.createChat": 1, "execute": 1, "messages.addChatUser": 1}
    assert sandbox.call_counts() == {
        "messages.createChat": 1,
        "messages.addChatUser": 2,
        "messages.getConversationMembers": 1,
        "users.get": 1,
    }
    sandbox.reset()
    assert sandbox.call_counts() == {}


def test_users_can_be_added_over_http(http, sandbox):
    reply = http.post("/_sandbox/users", json={"first_name": "Олег", "last_name": "Сидоров"})
    assert reply.json()["id"] in [user["id"] for user in sandbox.state()["users"]]
    assert http.post("/_sandbox/users", json={"first_name": ""}).status_code == 400


def test_inspection_page_shows_chats_and_escapes_titles(http, api):
    api.ok("messages.createChat", user_ids=str(ANNA), title="<script>alert('x')</script>")
    api.ok("calls.start")

    page = http.get("/_sandbox/")

    assert page.status_code == 200
    assert "<script>" not in page.text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page.text
    assert "Анна Иванова" in page.text
    assert "active" in page.text


def test_root_redirects_to_the_inspection_page(http):
    assert http.get("/").headers["location"] == "/_sandbox/"


def test_avatar_is_an_svg(http):
    reply = http.get(f"/_sandbox/avatar/{ANNA}")
    assert reply.headers["content-type"].startswith("image/svg+xml")
    assert "АИ" in reply.text


def test_unknown_path_is_404(http):
    assert http.get("/nowhere").status_code == 404


def test_contract_is_read_from_the_vendored_schema(sandbox):
    assert SCHEMA_DIR.is_relative_to(Path(sferum_sandbox.__file__).parent)
    assert (SCHEMA_DIR / "LICENSE").is_file()
    assert (SCHEMA_DIR / "PROVENANCE.md").is_file()
    assert sandbox.contract_source == str(SCHEMA_DIR)
    assert vk_schema.SCHEMA_DIR == SCHEMA_DIR  # the tests' oracle reads the same copy
    assert set(load_contract().methods) == set(SUPPORTED_METHODS)


def test_another_schema_directory_must_hold_a_schema(tmp_path, monkeypatch):
    monkeypatch.setenv("VK_API_SCHEMA_DIR", str(tmp_path))
    with pytest.raises(RuntimeError, match="VK API schema not found"):
        Sandbox(rate_limit_per_second=None)


def test_tokens_never_appear_in_reprs(sandbox):
    assert DEFAULT_APP_TOKEN not in repr(sandbox)
    assert DEFAULT_APP_TOKEN not in repr(vars(sandbox))  # its internals' reprs too
    state = SferumState()
    state.tokens[DEFAULT_APP_TOKEN] = AccessToken(DEFAULT_APP_TOKEN, "user", 1000, issued_at=0)
    assert DEFAULT_APP_TOKEN not in repr(state)


def test_same_service_and_app_token_is_refused():
    with pytest.raises(ValueError, match="different"):
        Sandbox(service_token="same", app_token="same")


def test_cli_serves_until_interrupted():
    env = {**os.environ, "PYTHONPATH": str(REPO), "SFERUM_SANDBOX_APP_TOKEN": "app-t-from-the-environment"}
    process = subprocess.Popen(
        [sys.executable, "-m", "sferum_sandbox", "vk", "--port", "0", "--app-id", "777"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        url = first.split()[4]
        lines = [process.stdout.readline() for _ in range(6)]
        assert any("APP ID:            777" in line for line in lines)
        assert any("Application token: $SFERUM_SANDBOX_APP_TOKEN" in line for line in lines)
        with httpx.Client(base_url=url, verify=False) as client:
            body = client.post(
                "/method/apps.get", data={"access_token": "app-t-from-the-environment", "v": "5.199"}
            ).json()
        assert body["response"]["items"][0]["id"] == 777
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    assert "stopped" in stdout


def test_concurrent_requests_keep_the_state_consistent(api, running, sandbox):
    from concurrent.futures import ThreadPoolExecutor

    people = [sandbox.add_user("Студент", str(index)) for index in range(30)]
    chat_id = api.ok("messages.createChat", user_ids=str(ANNA), title="поток")["chat_id"]

    def add(user_id):
        with httpx.Client(base_url=running.url, verify=False) as client:
            data = {"access_token": DEFAULT_APP_TOKEN, "v": "5.199", "chat_id": chat_id, "user_id": user_id}
            return client.post("/method/messages.addChatUser", data=data).json()

    with ThreadPoolExecutor(max_workers=8) as pool:
        replies = list(pool.map(add, people))

    assert all(reply == {"response": 1} for reply in replies)
    members = sandbox.state()["chats"][0]["members"]
    assert sorted(m["member_id"] for m in members) == sorted([1000, ANNA, *people])


def test_server_log_never_shows_a_token_from_the_query(http, caplog):
    caplog.set_level("DEBUG")
    http.get("/method/users.get", params={"access_token": DEFAULT_APP_TOKEN, "v": "5.199"})
    # Only the sandbox's own loggers: httpx (the client here) logs full URLs by design.
    server_lines = [r.getMessage() for r in caplog.records if r.name.startswith(("sferum_sandbox", "werkzeug"))]
    assert any("/method/users.get" in line for line in server_lines)
    assert all(DEFAULT_APP_TOKEN not in line for line in server_lines)


def test_schema_oracle_fails_clearly_without_the_schema(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO), "VK_API_SCHEMA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", "import tests.vk_schema"], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode != 0
    assert "RuntimeError: VK API schema not found" in result.stderr
