"""The VK sandbox: a faithful local Sferum in VK Messenger (VK API 5.199 and VK ID) for demos and tests.

It speaks VK's wire format (``POST /method/<name>``, form-encoded, ``{"response": ...}`` or
``{"error": {...}}``) for the methods the plugin uses, keeps chats, members and calls in memory, runs
``execute`` batches, offers the VK ID authorisation-code flow with PKCE and a consent page, limits requests
per token, and injects faults on demand. The API contract (methods, parameters, error texts) is read from VK's
official schema, vendored in ``schema/`` (:data:`SCHEMA_DIR`). Use it in-process (``Sandbox.wsgi_app``), over
HTTP (``serve``) or from the command line (``sferum-sandbox vk``).

The control API, for tests, benchmarks and demos (never through the private modules):

- ``Sandbox.add_user`` seeds a person, ``Sandbox.issue_user_token`` signs one in as VK ID would;
- ``Sandbox.faults`` (a ``FaultInjector``) injects error codes, HTTP 5xx, dropped connections and delays;
- ``Sandbox.state``, ``Sandbox.chat_member_ids`` and ``Sandbox.request_counts`` read what it holds and was asked;
- ``Sandbox.write_counts`` counts the calls that changed Sferum (``createChat``, ``addChatUser`` ...), those inside
  an ``execute`` included;
- ``Sandbox.delete_chat``, ``Sandbox.delete_all_chats`` and ``Sandbox.remove_chat_member`` change Sferum behind
  the API's back, as people do in Sferum itself;
- ``Sandbox.reset`` returns to the seeded demo organisation.
"""

from .._serving import ConnectionDropped
from ._faults import FaultInjector, FaultKind, FaultRule
from ._sandbox import DEFAULT_APP_ID, DEFAULT_APP_TOKEN, DEFAULT_RATE_LIMIT, DEFAULT_SERVICE_TOKEN, Sandbox
from ._schema import SCHEMA_DIR, SUPPORTED_METHODS
from ._server import RunningSandbox, serve
from ._state import ORG_ACCOUNT_ID

__all__ = [
    "DEFAULT_APP_ID",
    "DEFAULT_APP_TOKEN",
    "DEFAULT_RATE_LIMIT",
    "DEFAULT_SERVICE_TOKEN",
    "ORG_ACCOUNT_ID",
    "SCHEMA_DIR",
    "SUPPORTED_METHODS",
    "ConnectionDropped",
    "FaultInjector",
    "FaultKind",
    "FaultRule",
    "RunningSandbox",
    "Sandbox",
    "serve",
]
