"""The only code that speaks to Sferum: VK API client, errors, retry policy, pacing, batching and VK ID.

Every client is built by a :class:`SferumConnector` (one per process: it holds the transport, the retry policy and
the shared rate limiters).  Typical use::

    connector = SferumConnector()
    config = GatewayConfig(api_base_url=settings.api_base_url, api_version=settings.api_version)
    with connector.connect(config) as connection:
        client = connection.client(app_token)
        chat = client.create_chat("Group 101", member_ids=[1, 2, 3])
        outcomes = client.execute_batch([operations.add_chat_member(chat.chat_id, u) for u in new_members])

See ``docs/sferum-api.md`` for what goes over the wire and which facts come from the schema.
"""

from sferum_plugin.gateway import operations
from sferum_plugin.gateway.batch import EXECUTE_MAX_CALLS, BatchOutcome
from sferum_plugin.gateway.client import SferumClient
from sferum_plugin.gateway.codes import VkErrorCode
from sferum_plugin.gateway.config import GatewayConfig
from sferum_plugin.gateway.connector import SferumConnection, SferumConnector
from sferum_plugin.gateway.credentials import CheckVerdict, CredentialCheck, CredentialName, check_credentials
from sferum_plugin.gateway.domain import (
    CHAT_PEER_OFFSET,
    ChatInfo,
    ChatMember,
    CreatedChat,
    SferumApp,
    SferumUser,
    StartedCall,
    chat_id_from_peer_id,
    chat_peer_id,
)
from sferum_plugin.gateway.errors import (
    AccessDeniedError,
    ApiError,
    AuthError,
    CaptchaNeededError,
    ChatAccessDeniedError,
    ChatDeletedError,
    ChatError,
    ChatNotFoundError,
    ContactNotFoundError,
    InvalidClientError,
    InvalidGrantError,
    InvalidParameterError,
    InvalidRequestError,
    InvalidUserIdError,
    MalformedResponseError,
    NotChatAdminError,
    NotFoundError,
    NotOrganisationMemberError,
    OutcomeUnknownError,
    PermanentApiError,
    QuotaExceededError,
    RetryableApiError,
    ServerError,
    SferumError,
    SpamRestrictionError,
    StateMismatchError,
    TransportError,
    UserNotInChatError,
    VkIdError,
    may_have_been_applied,
)
from sferum_plugin.gateway.operations import Operation
from sferum_plugin.gateway.ratelimit import RateLimiter
from sferum_plugin.gateway.redact import RedactingFilter, install_redaction, register_secret
from sferum_plugin.gateway.retry import RetryPolicy
from sferum_plugin.gateway.vkid import (
    AuthorizationRequest,
    AuthorizationResponse,
    VkIdClient,
    VkIdTokens,
    code_challenge_s256,
    generate_code_verifier,
    generate_state,
    read_redirect,
)

__all__ = [
    "CHAT_PEER_OFFSET",
    "EXECUTE_MAX_CALLS",
    "AccessDeniedError",
    "ApiError",
    "AuthError",
    "AuthorizationRequest",
    "AuthorizationResponse",
    "BatchOutcome",
    "CaptchaNeededError",
    "ChatAccessDeniedError",
    "ChatDeletedError",
    "ChatError",
    "ChatInfo",
    "ChatMember",
    "ChatNotFoundError",
    "CheckVerdict",
    "ContactNotFoundError",
    "CreatedChat",
    "CredentialCheck",
    "CredentialName",
    "GatewayConfig",
    "InvalidClientError",
    "InvalidGrantError",
    "InvalidParameterError",
    "InvalidRequestError",
    "InvalidUserIdError",
    "MalformedResponseError",
    "NotChatAdminError",
    "NotFoundError",
    "NotOrganisationMemberError",
    "Operation",
    "OutcomeUnknownError",
    "PermanentApiError",
    "QuotaExceededError",
    "RateLimiter",
    "RedactingFilter",
    "RetryPolicy",
    "RetryableApiError",
    "ServerError",
    "SferumApp",
    "SferumClient",
    "SferumConnection",
    "SferumConnector",
    "SferumError",
    "SferumUser",
    "SpamRestrictionError",
    "StartedCall",
    "StateMismatchError",
    "TransportError",
    "UserNotInChatError",
    "VkErrorCode",
    "VkIdClient",
    "VkIdError",
    "VkIdTokens",
    "chat_id_from_peer_id",
    "chat_peer_id",
    "check_credentials",
    "code_challenge_s256",
    "generate_code_verifier",
    "generate_state",
    "install_redaction",
    "may_have_been_applied",
    "operations",
    "read_redirect",
    "register_secret",
]
