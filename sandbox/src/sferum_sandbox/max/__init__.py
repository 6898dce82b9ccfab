"""The MAX sandbox: a faithful local MAX Bot API (OpenAPI 0.0.32) and the MAX users around the bot.

It serves the Bot API paths at the root of its address, as MAX's official clients build them from a base URL
(``GET /me``, ``/chats``, ``/chats/{chatId}``, ``/chats/{chatId}/members``, ``/chats/{chatId}/members/me``,
``POST /messages``, ``/subscriptions``, ``GET /updates``), checks the bot's token in the ``Authorization`` header,
limits requests per rolling second, keeps people, chats and the bot's messages, and sends the bot its updates by
webhook (with redelivery, then unsubscribing as MAX does) or long polling. Every answer follows MAX's official
OpenAPI document, vendored in ``schema/`` (:data:`SCHEMA_PATH`). Use it in-process (``MaxSandbox.wsgi_app``), over
HTTP (``serve``) or from the command line (``sferum-sandbox max``).

The control API, for tests, benchmarks and demos (never through the private modules):

- ``MaxSandbox.add_user``, ``set_privacy``: people, and whose privacy refuses being added to chats;
- ``MaxSandbox.press_start``, ``open_deep_link``, ``tap_chat_button``: what a person does with the bot;
- ``MaxSandbox.seed_chat``, ``remove_bot``, ``set_bot_admin``, ``add_member``, ``leave_chat``, ``remove_member``,
  ``change_title``: what happens to chats in MAX itself;
- ``MaxSandbox.faults`` (a ``FaultInjector``): MAX error statuses, proxy 5xx, dropped connections, delays;
- ``MaxSandbox.state``, ``chat_member_ids``, ``messages_to``, ``request_counts``: what it holds and was asked;
- ``MaxSandbox.deliver_pending``: pump webhook deliveries (a test with a fake clock); ``reset``: start over.
"""

from .._serving import ConnectionDropped
from ._faults import FaultInjector, FaultKind, FaultRule
from ._sandbox import (
    DEFAULT_BOT_NAME,
    DEFAULT_BOT_TITLE,
    DEFAULT_BOT_TOKEN,
    DEFAULT_RATE_LIMIT,
    SCHEMA_PATH,
    MaxSandbox,
)
from ._server import RunningMaxSandbox, serve
from ._state import BOT_USER_ID
from ._webhook import SECRET_HEADER

TOKEN_ENVIRONMENT_VARIABLE = "SFERUM_SANDBOX_BOT_TOKEN"  # noqa: S105 - a variable name, not a token
"""Where ``sferum-sandbox max`` reads the bot's token from (or ``--bot-token-file``)."""

__all__ = [
    "BOT_USER_ID",
    "DEFAULT_BOT_NAME",
    "DEFAULT_BOT_TITLE",
    "DEFAULT_BOT_TOKEN",
    "DEFAULT_RATE_LIMIT",
    "SCHEMA_PATH",
    "SECRET_HEADER",
    "TOKEN_ENVIRONMENT_VARIABLE",
    "ConnectionDropped",
    "FaultInjector",
    "FaultKind",
    "FaultRule",
    "MaxSandbox",
    "RunningMaxSandbox",
    "serve",
]
