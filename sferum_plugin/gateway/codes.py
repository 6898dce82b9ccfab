"""The VK API error codes the gateway treats specially.

Values and names come from the schema's ``errors.json`` (each member is named after its ``api_error_*``
entry, which the comment repeats), except four codes VK documents only on its method pages (dev.vk.com/method/...),
whose comment quotes the page's text instead.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["VkErrorCode"]


class VkErrorCode(IntEnum):
    """The VK API error codes the gateway treats specially (``errors.json``, names after ``api_error_``)."""

    UNKNOWN = 1  # api_error_unknown
    AUTH = 5  # api_error_auth
    TOO_MANY = 6  # api_error_too_many
    PERMISSION = 7  # api_error_permission
    FLOOD = 9  # api_error_flood
    SERVER = 10  # api_error_server
    COMPILE = 12  # api_error_compile
    CAPTCHA = 14  # api_error_captcha "Captcha needed"
    ACCESS = 15  # api_error_access
    GROUP_AUTH = 27  # api_error_group_auth
    APP_AUTH = 28  # api_error_app_auth
    RATE_LIMIT = 29  # api_error_rate_limit
    PARAM = 100  # api_error_param
    NOT_FOUND = 104  # api_error_not_found "Not found"
    PARAM_USER_ID = 113  # api_error_param_user_id
    CHAT_USER_NO_ACCESS = 917  # api_error_messages_chat_user_no_access
    CHAT_NOT_ADMIN = 925  # api_error_messages_chat_not_admin
    CHAT_NOT_EXIST = 927  # api_error_messages_chat_not_exist
    CHAT_USER_NOT_IN_CHAT = 935  # api_error_messages_chat_user_not_in_chat
    CONTACT_NOT_FOUND = 936  # api_error_messages_contact_not_found
    NOT_AN_EMPLOYEE = 967  # messages.addChatUser: "This user can't be added to the work chat, as they aren't an
    #                        employee."
    SPAM_RESTRICTION = 984  # messages.createChat, addChatUser, removeChatUser: "You has spam restriction"
    CHAT_DELETED = 1017  # messages.removeChatUser: "Chat was deleted"
    NOT_ORGANISATION_MEMBER = 1019  # messages.getChatPreview: "Chat can not be joined because user who want to join
    #                                 not organization member"
    ACCESS_TOKEN_EXPIRED = 1117  # api_error_auth_access_token_has_expired
