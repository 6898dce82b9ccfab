"""MAX's Bot API: the client, its values, its errors and its settings.

Sferum's chats moved from VK Messenger to MAX in August–December 2025; this subpackage is MAX's wire format, held
to MAX's official OpenAPI document (version 0.0.32), vendored as data in the sandbox distribution
(``sandbox/src/sferum_sandbox/max/schema/openapi.json``, see its PROVENANCE.md).  Typical use::

    connector = SferumConnector()
    with connector.connect_max(MaxConfig(base_url=settings.max_api_url), bot_token) as max_client:
        bot = max_client.get_me()
        result = max_client.add_members(chat_id, user_ids)      # 100 per request
        for user_id, reason in result.reasons().items(): ...    # add.participant.privacy, ...

Its errors are one more branch of the gateway's tree (:mod:`sferum_plugin.gateway.errors`)::

    SferumError
    ├── TransportError ............... no reply at all (as for VK)
    ├── OutcomeUnknownError .......... send_message failed ambiguously: it may have been delivered
    ├── MalformedResponseError ....... a reply that is not what the schema describes (as for VK)
    └── MaxApiError .................. an HTTP error status from MAX, with its {"code", "message"}
        ├── MaxOperationFailedError .. HTTP 200 {"success": false, "message"}
        ├── MaxBadRequestError ....... 400 invalid request
        ├── MaxUnauthorizedError ..... 401 the bot token is wrong or revoked: pause everything
        ├── MaxForbiddenError ........ 403 the bot may not (not an administrator, lacks a right)
        ├── MaxNotFoundError ......... 404 the chat is gone or the bot is not in it
        ├── MaxMethodNotAllowedError . 405 e.g. long polling while a webhook is subscribed
        └── MaxTransientError ........ 429 and 5xx, also a ServerError: retried with backoff, honouring Retry-After
            ├── MaxTooManyRequestsError .... 429 over 30 requests per second (``retry_after``)
            └── MaxServiceUnavailableError . 503 service unavailable (``retry_after``)

==========================================  ======================  ================================
failure                                     may have been applied?  retried?
==========================================  ======================  ================================
400, 401, 403, 404, 405, success: false     no (a refusal)          never
429                                         no (refused first)      yes, after Retry-After if sent
503 and other 5xx                           yes                     idempotent calls only
==========================================  ======================  ================================
"""

from sferum_plugin.gateway.max.buttons import Button, ChatButton, LinkButton, keyboard_attachment
from sferum_plugin.gateway.max.client import MEMBERS_PER_REQUEST, MESSAGE_TEXT_MAX_LENGTH, MaxClient
from sferum_plugin.gateway.max.config import DEFAULT_MAX_BASE_URL, MaxConfig
from sferum_plugin.gateway.max.errors import (
    MaxApiError,
    MaxBadRequestError,
    MaxForbiddenError,
    MaxMethodNotAllowedError,
    MaxNotFoundError,
    MaxOperationFailedError,
    MaxServiceUnavailableError,
    MaxTooManyRequestsError,
    MaxTransientError,
    MaxUnauthorizedError,
    max_error_class,
)
from sferum_plugin.gateway.max.updates import (
    PRODUCT_UPDATE_TYPES,
    BotAddedUpdate,
    BotRemovedUpdate,
    BotStartedUpdate,
    ChatTitleChangedUpdate,
    MaxUpdate,
    MessageChatCreatedUpdate,
    OtherUpdate,
    UnreadableUpdate,
    UpdatesPage,
    UserAddedUpdate,
    UserRemovedUpdate,
    read_update,
)
from sferum_plugin.gateway.max.values import (
    ADD_PARTICIPANT_NOT_FOUND,
    ADD_PARTICIPANT_PRIVACY,
    DEEP_LINK_PAYLOAD_MAX_LENGTH,
    FailedUserDetail,
    MaxBot,
    MaxChat,
    MaxChatMember,
    MaxSentMessage,
    MaxSubscription,
    MaxUser,
    MembersPage,
    ModifyMembersResult,
)

__all__ = [
    "ADD_PARTICIPANT_NOT_FOUND",
    "ADD_PARTICIPANT_PRIVACY",
    "DEEP_LINK_PAYLOAD_MAX_LENGTH",
    "DEFAULT_MAX_BASE_URL",
    "MEMBERS_PER_REQUEST",
    "MESSAGE_TEXT_MAX_LENGTH",
    "PRODUCT_UPDATE_TYPES",
    "BotAddedUpdate",
    "BotRemovedUpdate",
    "BotStartedUpdate",
    "Button",
    "ChatButton",
    "ChatTitleChangedUpdate",
    "FailedUserDetail",
    "LinkButton",
    "MaxApiError",
    "MaxBadRequestError",
    "MaxBot",
    "MaxChat",
    "MaxChatMember",
    "MaxClient",
    "MaxConfig",
    "MaxForbiddenError",
    "MaxMethodNotAllowedError",
    "MaxNotFoundError",
    "MaxOperationFailedError",
    "MaxSentMessage",
    "MaxServiceUnavailableError",
    "MaxSubscription",
    "MaxTooManyRequestsError",
    "MaxTransientError",
    "MaxUnauthorizedError",
    "MaxUpdate",
    "MaxUser",
    "MembersPage",
    "MessageChatCreatedUpdate",
    "ModifyMembersResult",
    "OtherUpdate",
    "UnreadableUpdate",
    "UpdatesPage",
    "UserAddedUpdate",
    "UserRemovedUpdate",
    "keyboard_attachment",
    "max_error_class",
    "read_update",
]
