"""The VK API error codes the gateway treats specially.

Values and names come from the schema's ``errors.json`` (each member is named after its ``api_error_*``
entry, which the comment repeats).
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
    ACCESS = 15  # api_error_access
    GROUP_AUTH = 27  # api_error_group_auth
    APP_AUTH = 28  # api_error_app_auth
    RATE_LIMIT = 29  # api_error_rate_limit
    PARAM = 100  # api_error_param
    PARAM_USER_ID = 113  # api_error_param_user_id
    CHAT_USER_NO_ACCESS = 917  # api_error_messages_chat_user_no_access
    CHAT_NOT_ADMIN = 925  # api_error_messages_chat_not_admin
    CHAT_NOT_EXIST = 927  # api_error_messages_chat_not_exist
    CHAT_USER_NOT_IN_CHAT = 935  # api_error_messages_chat_user_not_in_chat
    CONTACT_NOT_FOUND = 936  # api_error_messages_contact_not_found
    ACCESS_TOKEN_EXPIRED = 1117  # api_error_auth_access_token_has_expired
