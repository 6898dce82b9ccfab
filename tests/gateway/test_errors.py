"""One error tree: every VK error code lands on a typed class that carries what an operator needs."""

from __future__ import annotations

import builtins
import inspect

import pytest

from sferum_plugin.gateway import (
    AccessDeniedError,
    ApiError,
    AuthError,
    CaptchaNeededError,
    ChatDeletedError,
    ChatError,
    ChatNotFoundError,
    ContactNotFoundError,
    InvalidParameterError,
    InvalidUserIdError,
    NotChatAdminError,
    NotFoundError,
    NotOrganisationMemberError,
    PermanentApiError,
    QuotaExceededError,
    RetryableApiError,
    SferumClient,
    SferumError,
    SpamRestrictionError,
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
        (14, CaptchaNeededError),  # api_error_captcha "Captcha needed"
        (104, NotFoundError),  # api_error_not_found "Not found"
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


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        # Codes VK documents on its method pages (dev.vk.com) but the schema's errors.json does not list.
        (967, NotOrganisationMemberError),  # messages.addChatUser: "…can't be added to the work chat, as they
        #                                     aren't an employee."
        (984, SpamRestrictionError),  # messages.createChat, addChatUser, removeChatUser: "You has spam restriction"
        (1017, ChatDeletedError),  # messages.removeChatUser: "Chat was deleted"
        (1019, NotOrganisationMemberError),  # messages.getChatPreview: "…user who want to join not organization member"
    ],
)
def test_codes_vk_documents_beyond_the_schema_map_to_what_they_mean(code: int, expected: type[ApiError]) -> None:
    assert code not in error_codes()
    assert api_error_class(code) is expected


def test_a_deleted_chat_is_a_chat_that_is_not_there_and_a_stranger_is_refused_for_good() -> None:
    assert issubclass(ChatDeletedError, ChatNotFoundError)  # 1017 means what 927 means: the chat is gone
    assert issubclass(NotOrganisationMemberError, PermanentApiError)
    for code in (967, 1019, 1017, 104):
        assert not api_error_class(code)(code, "x").may_have_been_applied, code


@pytest.mark.parametrize(
    ("code", "expected", "pause"), [(14, CaptchaNeededError, 3600.0), (984, SpamRestrictionError, 21600.0)]
)
def test_a_captcha_or_a_spam_restriction_asks_for_a_pause_and_is_never_retried(
    client: SferumClient, fake_api: FakeVkApi, code: int, expected: type[QuotaExceededError], pause: float
) -> None:
    fake_api.on("messages.addChatUser", vk_error(code, "restricted"))

    with pytest.raises(expected) as caught:
        client.add_chat_member(7, 12)

    assert isinstance(caught.value, QuotaExceededError)
    assert caught.value.retry_after == pause
    assert (caught.value.resume_at - NOW).total_seconds() == pause
    assert not caught.value.may_have_been_applied
    assert len(fake_api.calls("messages.addChatUser")) == 1
