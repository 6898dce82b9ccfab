"""One error tree: every VK error code lands on a typed class that carries what an operator needs."""

from __future__ import annotations

import builtins
import inspect

import pytest

from sferum_plugin.gateway import (
    AccessDeniedError,
    ApiError,
    AuthError,
    ChatError,
    ChatNotFoundError,
    ContactNotFoundError,
    InvalidParameterError,
    InvalidUserIdError,
    NotChatAdminError,
    PermanentApiError,
    QuotaExceededError,
    RetryableApiError,
    SferumClient,
    SferumError,
    UserNotInChatError,
    errors,
)
from sferum_plugin.gateway.errors import api_error_class
from tests.gateway.conftest import NOW, TOKEN
from tests.gateway.fakes import FakeVkApi, vk_error
from tests.vk_schema import error_codes


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (1, RetryableApiError),
        (6, RetryableApiError),
        (10, RetryableApiError),
        (9, QuotaExceededError),
        (29, QuotaExceededError),
        (5, AuthError),
        (28, AuthError),
        (15, AccessDeniedError),
        (100, InvalidParameterError),
        (113, InvalidUserIdError),
        (917, errors.ChatAccessDeniedError),
        (925, NotChatAdminError),
        (927, ChatNotFoundError),
        (935, UserNotInChatError),
        (936, ContactNotFoundError),
        (945, ChatError),
        (12, PermanentApiError),
    ],
)
def test_vk_error_codes_map_to_typed_errors(code: int, expected: type[ApiError]) -> None:
    assert code in error_codes(), "codes come from errors.json"
    assert api_error_class(code) is expected


def test_every_documented_code_maps_into_the_tree() -> None:
    for code in error_codes():
        error_class = api_error_class(code)
        assert issubclass(error_class, ApiError)
        assert issubclass(error_class, RetryableApiError | QuotaExceededError | PermanentApiError)
        if 900 <= code < 1000:
            assert issubclass(error_class, ChatError)


def test_the_tree_is_drawn_in_the_module_docstring_and_rooted_in_sferum_error() -> None:
    doc = inspect.getdoc(errors) or ""
    classes = [obj for obj in vars(errors).values() if inspect.isclass(obj) and issubclass(obj, Exception)]
    for cls in classes:
        assert issubclass(cls, SferumError), cls
        assert cls.__name__ in doc, f"{cls.__name__} is missing from the tree in the docstring"
        assert cls.__name__ not in vars(builtins), f"{cls.__name__} shadows a builtin"


def test_an_api_error_carries_code_message_method_and_params_without_the_token(
    client: SferumClient, fake_api: FakeVkApi
) -> None:
    fake_api.on("messages.addChatUser", vk_error(936, "Contact not found"))

    with pytest.raises(ContactNotFoundError) as caught:
        client.add_chat_member(7, 12)

    error = caught.value
    assert error.code == 936
    assert error.error_msg == "Contact not found"
    assert error.method == "messages.addChatUser"
    assert error.request_params == {"chat_id": "7", "user_id": "12"}
    assert str(error) == "messages.addChatUser: VK API error 936: Contact not found"
    assert TOKEN not in str(error)
    assert TOKEN not in repr(error)


def test_a_token_echoed_by_the_server_is_masked(client: SferumClient, fake_api: FakeVkApi) -> None:
    fake_api.on("users.get", vk_error(5, f"User authorization failed: invalid access_token {TOKEN}."))

    with pytest.raises(AuthError) as caught:
        client.get_users([1])

    assert TOKEN not in caught.value.error_msg
    assert TOKEN not in str(caught.value)
    assert TOKEN not in repr(caught.value)
    assert "access_token ***" in caught.value.error_msg


def test_quota_errors_say_when_to_resume(client: SferumClient, fake_api: FakeVkApi) -> None:
    fake_api.on("messages.addChatUser", vk_error(9, "Flood control"))
    fake_api.on("messages.editChat", vk_error(29, "Rate limit reached"))

    with pytest.raises(QuotaExceededError) as flood:
        client.add_chat_member(7, 12)
    with pytest.raises(QuotaExceededError) as quota:
        client.rename_chat(7, "New")

    assert flood.value.retry_after == 600.0
    assert (flood.value.resume_at - NOW).total_seconds() == 600.0
    assert quota.value.retry_after == 3600.0
    assert (quota.value.resume_at - NOW).total_seconds() == 3600.0
