"""Batching through ``execute``: safe VKScript, 25 calls per request, each outcome mapped back in order."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest

from sferum_plugin.gateway import (
    AuthError,
    BatchOutcome,
    ContactNotFoundError,
    MalformedResponseError,
    QuotaExceededError,
    SferumClient,
    UserNotInChatError,
    operations,
)
from sferum_plugin.gateway.batch import execute_code
from tests.gateway.fakes import FakeVkApi, ok, vk_error
from tests.vk_schema import check_request

_CALL = re.compile(r"API\.([a-z]+\.[A-Za-z]+)\(")


def parse_program(code: str) -> list[tuple[str, dict[str, Any]]]:
    """Read ``return [API.m({...}), ...];`` back strictly: any text outside the JSON literals fails."""
    assert code.startswith("return [")
    assert code.endswith("];")
    decoder = json.JSONDecoder()
    calls, position, body = [], 0, code[len("return [") : -2]
    while position < len(body):
        match = _CALL.match(body, position)
        assert match, f"unexpected code at {body[position:]!r}"
        arguments, end = decoder.raw_decode(body, match.end())
        assert body[end] == ")"
        calls.append((match.group(1), arguments))
        position = end + 1
        if position < len(body):
            assert body[position] == ","
            position += 1
    return calls


def _execute_results(request: httpx.Request) -> dict[str, Any]:
    """Answer an execute request: 1 for every call, ``false`` for users 13, 17 and 21 (not in the chat)."""
    code = dict(httpx.QueryParams(request.content.decode()))["code"]
    results: list[Any] = []
    errors = []
    for method, arguments in parse_program(code):
        if arguments.get("user_id") in (13, 17, 21):
            results.append(False)
            errors.append({"method": method, "error_code": 935, "error_msg": "User not found in chat"})
        else:
            results.append(1)
    body: dict[str, Any] = {"response": results}
    if errors:
        body["execute_errors"] = errors
    return body


@pytest.mark.parametrize(
    "title",
    [
        'Group "A"',
        'x"}); return API.users.get({"user_ids": 1}); ({"',
        "back\\slash\nnew line",
        "Группа 101 «весна»",
        "\u2028",
    ],
)
def test_values_cannot_break_out_of_their_string_literal(title: str) -> None:
    code = execute_code([operations.rename_chat(7, title), operations.add_chat_member(7, 12)])

    assert parse_program(code) == [
        ("messages.editChat", {"chat_id": 7, "title": title}),
        ("messages.addChatUser", {"chat_id": 7, "user_id": 12}),
    ]


def test_arrays_and_booleans_are_encoded_as_on_the_wire() -> None:
    code = execute_code([operations.users([1, 2, 3]), operations.invite_link(7, reset=True)])

    assert parse_program(code) == [
        ("users.get", {"user_ids": "1,2,3"}),
        ("messages.getInviteLink", {"peer_id": 2_000_000_007, "reset": 1}),
    ]


def test_names_that_are_not_identifiers_are_refused() -> None:
    bad_method = operations.Operation("users.get({}); API.x", {}, lambda r: r)
    bad_param = operations.Operation("users.get", {"a:1})//": 1}, lambda r: r)
    with pytest.raises(ValueError, match="cannot call"):
        execute_code([bad_method])
    with pytest.raises(ValueError, match="invalid parameter name"):
        execute_code([bad_param])
    with pytest.raises(ValueError, match="1 to 25"):
        execute_code([operations.users([1])] * 26)


def test_a_batch_of_25_with_3_failures_maps_each_outcome(client: SferumClient, fake_api: FakeVkApi) -> None:
    fake_api.on("execute", _execute_results)
    batch = [operations.remove_chat_member(7, user_id) for user_id in range(1, 26)]

    outcomes = client.execute_batch(batch)

    assert len(fake_api.requests) == 1
    assert check_request("execute", fake_api.requests[0].form) == []
    assert [o.operation for o in outcomes] == batch
    failed = [o.operation.params["user_id"] for o in outcomes if not o.ok]
    assert failed == [13, 17, 21]
    for outcome in outcomes:
        if outcome.ok:
            assert outcome.unwrap() is None
        else:
            assert isinstance(outcome.error, UserNotInChatError)
            assert outcome.error.method == "messages.removeChatUser"
            assert outcome.error.request_params == {"chat_id": "7", "user_id": str(outcome.operation.params["user_id"])}
            with pytest.raises(UserNotInChatError):
                outcome.unwrap()


def test_more_than_25_operations_take_several_execute_requests(client: SferumClient, fake_api: FakeVkApi) -> None:
    fake_api.on("execute", _execute_results)

    outcomes = client.execute_batch([operations.add_chat_member(7, u) for u in range(1, 61)])

    sizes = [len(parse_program(r.form["code"])) for r in fake_api.requests]
    assert sizes == [25, 25, 10]
    assert [o.operation.params["user_id"] for o in outcomes] == list(range(1, 61))
    assert sum(not o.ok for o in outcomes) == 3


def test_different_results_map_to_their_own_operations(client: SferumClient, fake_api: FakeVkApi) -> None:
    fake_api.on(
        "execute",
        {
            "response": [1, False, {"link": "https://vk.me/join/x"}, False],
            "execute_errors": [
                {"method": "messages.addChatUser", "error_code": 936, "error_msg": "Contact not found"},
                {"method": "messages.editChat", "error_code": 9, "error_msg": "Flood control"},
            ],
        },
    )
    batch: list[operations.Operation[object]] = [
        operations.add_chat_member(7, 1),
        operations.add_chat_member(7, 2),
        operations.invite_link(7),
        operations.rename_chat(7, "New"),
    ]

    added, missing, link, renamed = client.execute_batch(batch)

    assert added.ok
    assert isinstance(missing.error, ContactNotFoundError)
    assert link.value == "https://vk.me/join/x"
    assert isinstance(renamed.error, QuotaExceededError)
    assert renamed.error.resume_at is not None


def test_non_idempotent_operations_are_refused(client: SferumClient, fake_api: FakeVkApi) -> None:
    with pytest.raises(ValueError, match="not idempotent"):
        client.execute_batch([operations.add_chat_member(7, 1), operations.create_chat("t", [1])])
    with pytest.raises(ValueError, match="not idempotent"):
        client.execute_batch([operations.start_call()])
    assert fake_api.requests == []


def test_a_failed_execute_request_is_retried_as_a_unit(
    client: SferumClient, fake_api: FakeVkApi, waits: list[float]
) -> None:
    fake_api.on("execute", vk_error(6, "Too many requests per second"), httpx.Response(502), _execute_results)

    outcomes = client.execute_batch([operations.add_chat_member(7, u) for u in (1, 2, 3)])

    assert len(fake_api.requests) == 3
    assert len(set(r.form["code"] for r in fake_api.requests)) == 1
    assert all(o.ok for o in outcomes)


def test_when_a_whole_request_fails_the_rest_are_not_sent_and_carry_the_error(
    client: SferumClient, fake_api: FakeVkApi
) -> None:
    fake_api.on("execute", _execute_results, vk_error(5, "User authorization failed"))

    outcomes = client.execute_batch([operations.add_chat_member(7, u) for u in range(1, 61)])

    assert len(fake_api.requests) == 2
    assert [o.operation.params["user_id"] for o in outcomes[:25] if not o.ok] == [13, 17, 21]
    assert all(isinstance(o.error, AuthError) for o in outcomes[25:])
    assert len(outcomes) == 60


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"response": [1, False]}, "without an execute_errors entry"),
        (
            {"response": [1, False], "execute_errors": [{"method": "users.get", "error_code": 113, "error_msg": "x"}]},
            "is for users.get",
        ),
    ],
)
def test_a_false_without_a_matching_error_is_malformed(
    client: SferumClient, fake_api: FakeVkApi, body: dict[str, Any], detail: str
) -> None:
    fake_api.on("execute", body)

    first, second = client.execute_batch([operations.add_chat_member(7, 1), operations.add_chat_member(7, 2)])

    assert first.ok
    assert isinstance(second.error, MalformedResponseError)
    assert detail in str(second.error)


def test_a_result_count_mismatch_fails_every_operation_of_the_request(
    client: SferumClient, fake_api: FakeVkApi
) -> None:
    fake_api.on("execute", ok([1]))

    outcomes = client.execute_batch([operations.add_chat_member(7, 1), operations.add_chat_member(7, 2)])

    assert all(isinstance(o.error, MalformedResponseError) for o in outcomes)
    assert "execute" in str(outcomes[0].error)


def test_an_outcome_knows_success_from_failure() -> None:
    operation = operations.add_chat_member(7, 1)
    assert BatchOutcome(operation).ok
    assert not BatchOutcome(operation, error=UserNotInChatError(935, "gone")).ok
