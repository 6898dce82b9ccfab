"""``Sandbox.write_counts``: the calls that changed Sferum, those inside an ``execute`` included."""

from __future__ import annotations

import json

import httpx
import pytest
from sferum_sandbox import DEFAULT_APP_TOKEN

from tests import vk_schema

ANNA, BORIS = 1001, 1002
PEER = 2_000_000_000


def _execute(*calls: tuple[str, dict[str, object]]) -> str:
    return "return [" + ",".join(f"API.{m}({json.dumps(p, ensure_ascii=False)})" for m, p in calls) + "];"


def test_every_call_that_changed_sferum_is_counted_alone_or_inside_execute(api, sandbox):
    first = api.ok("messages.createChat", user_ids=str(ANNA), title="ИВТ-21 [g1]")["chat_id"]
    body = api.raw(
        "execute",
        code=_execute(
            ("messages.createChat", {"title": "ИВТ-22 [g2]", "user_ids": f"{ANNA},{BORIS}"}),
            ("messages.createChat", {"title": "ИВТ-23 [g3]", "user_ids": "99999"}),  # refused: 936
            ("messages.addChatUser", {"chat_id": first, "user_id": BORIS}),
            ("messages.removeChatUser", {"chat_id": first, "user_id": ANNA}),
            ("messages.removeChatUser", {"chat_id": first, "user_id": ANNA}),  # refused: 935
            ("messages.editChat", {"chat_id": first, "title": "ИВТ-21а [g1]"}),
            ("messages.getConversationMembers", {"peer_id": PEER + first}),
            ("messages.searchConversations", {"q": "[g2]"}),
        ),
    )
    api.ok("messages.getInviteLink", peer_id=PEER + first)
    api.ok("messages.getInviteLink", peer_id=PEER + first, reset=1)
    call_id = api.ok("calls.start")["call_id"]
    api.ok("calls.forceFinish", call_id=call_id)
    api.ok("users.get")

    created = body["response"][0]
    vk_schema.validate_response("messages.createChat", {"response": created})  # as it answers alone
    assert created == {"chat_id": 2, "peer_ids": [ANNA, BORIS]}
    assert [(e["method"], e["error_code"]) for e in body["execute_errors"]] == [
        ("messages.createChat", 936),
        ("messages.removeChatUser", 935),
    ]
    assert sandbox.write_counts() == {
        "messages.createChat": 2,
        "messages.addChatUser": 1,
        "messages.removeChatUser": 1,
        "messages.editChat": 1,
        "messages.getInviteLink": 1,
        "calls.start": 1,
        "calls.forceFinish": 1,
    }
    assert sandbox.request_counts()["execute"] == 1
    sandbox.reset()
    assert sandbox.write_counts() == {}


@pytest.mark.parametrize(("fault", "written"), [({"drop": True}, 0), ({"drop_after_apply": True}, 1)])
def test_a_call_counts_as_a_write_only_if_it_took_effect(http, sandbox, fault, written):
    sandbox.faults.inject("messages.createChat", **fault)
    code = _execute(("messages.createChat", {"title": "a", "user_ids": str(ANNA)}))
    with pytest.raises(httpx.RemoteProtocolError):
        http.post("/method/execute", data={"access_token": DEFAULT_APP_TOKEN, "v": "5.199", "code": code})
    assert len(sandbox.state()["chats"]) == written
    assert sandbox.write_counts() == ({"messages.createChat": 1} if written else {})
