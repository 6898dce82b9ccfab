"""``execute_once``: chats created 25 to an ``execute`` request, a request never sent again once it may have
reached Sferum, and each call's own failure settled for that call alone."""

from __future__ import annotations

from typing import Any

import pytest

from sferum_plugin.gateway import (
    ContactNotFoundError,
    CreatedChat,
    OutcomeUnknownError,
    RetryableApiError,
    SferumClient,
    SferumError,
    may_have_been_applied,
    operations,
)
from tests.gateway.fakes import FakeVkApi, ok
from tests.gateway.test_ambiguity import _client, _replies
from tests.gateway.test_batch import parse_program
from tests.vk_schema import check_request

CREATED = ok([{"chat_id": 5, "peer_ids": [1]}, {"chat_id": 6, "peer_ids": []}])


def _chats(count: int = 2) -> list[operations.Operation[CreatedChat]]:
    return [operations.create_chat(f"ИВТ-{n} [g{n}]", [1] if n == 1 else []) for n in range(1, count + 1)]


def test_create_chat_calls_share_one_execute_request_and_map_to_their_chats(
    client: SferumClient, fake_api: FakeVkApi
) -> None:
    fake_api.on("execute", CREATED)

    first, second = client.execute_once(_chats())

    (request,) = fake_api.requests
    assert check_request("execute", request.form) == []
    assert parse_program(request.form["code"]) == [
        ("messages.createChat", {"title": "ИВТ-1 [g1]", "user_ids": "1"}),
        ("messages.createChat", {"title": "ИВТ-2 [g2]"}),
    ]
    assert first.unwrap() == CreatedChat(chat_id=5, member_ids=(1,))
    assert second.unwrap() == CreatedChat(chat_id=6, member_ids=())


@pytest.mark.parametrize(("reply", "applied"), _replies())
def test_a_batch_of_chats_is_never_sent_twice_after_an_ambiguous_failure(reply: Any, applied: bool) -> None:
    fake = FakeVkApi().on("execute", reply, CREATED)
    failure: SferumError | None = None
    with fake.client() as http:
        try:
            outcomes = _client(fake, http).execute_once(_chats())
        except SferumError as error:
            failure = error
        else:
            assert all(outcome.ok for outcome in outcomes)
    if isinstance(failure, OutcomeUnknownError):
        assert applied, "only an ambiguous failure may leave the batch's outcome unknown"
        assert isinstance(failure.__cause__, SferumError)
        assert may_have_been_applied(failure.__cause__)
    elif failure is not None:
        assert not applied
        assert not may_have_been_applied(failure)
    else:
        assert not applied  # a refusal that applied nothing was retried, and the retry created the chats once
    sent = len(fake.calls("execute"))
    assert sent == 1 if applied else sent <= 3


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(ok([{"chat_id": 5, "peer_ids": []}]), id="fewer results than calls"),
        pytest.param(ok({"chat_id": 5}), id="not an array"),
    ],
)
def test_a_reply_that_does_not_say_which_calls_ran_is_an_unknown_outcome_for_the_whole_batch(
    client: SferumClient, fake_api: FakeVkApi, body: dict[str, Any]
) -> None:
    fake_api.on("execute", body)

    with pytest.raises(OutcomeUnknownError) as caught:
        client.execute_once(_chats())

    assert len(fake_api.requests) == 1
    assert may_have_been_applied(caught.value)


def test_a_call_refused_inside_the_request_is_its_own_refusal_and_one_that_may_have_run_is_unknown(
    client: SferumClient, fake_api: FakeVkApi
) -> None:
    fake_api.on(
        "execute",
        {
            "response": [{"chat_id": 5, "peer_ids": []}, False, False, "garbled"],
            "execute_errors": [
                {"method": "messages.createChat", "error_code": 936, "error_msg": "Contact not found"},
                {"method": "messages.createChat", "error_code": 10, "error_msg": "Internal server error"},
            ],
        },
    )

    created, refused, failed_inside, unreadable = client.execute_once(_chats(4))

    assert len(fake_api.requests) == 1
    assert created.unwrap().chat_id == 5
    assert isinstance(refused.error, ContactNotFoundError)  # a refusal: nothing was created
    assert isinstance(failed_inside.error, OutcomeUnknownError)  # error 10: the chat may exist
    assert isinstance(failed_inside.error.__cause__, RetryableApiError)
    assert isinstance(unreadable.error, OutcomeUnknownError)  # it ran; what it made cannot be read


def test_no_more_than_25_calls_go_in_one_request(client: SferumClient, fake_api: FakeVkApi) -> None:
    with pytest.raises(ValueError, match="1 to 25"):
        client.execute_once(_chats(26))
    with pytest.raises(ValueError, match="1 to 25"):
        client.execute_once([])
    assert fake_api.requests == []
