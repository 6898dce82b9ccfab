"""The Sferum sandbox: a faithful local Sferum (VK API 5.199 and VK ID) for demos and tests.

It speaks VK's wire format (``POST /method/<name>``, form-encoded, ``{"response": ...}`` or
``{"error": {...}}``) for the methods the plugin uses, keeps chats, members and calls in memory, runs
``execute`` batches, offers the VK ID authorisation-code flow with PKCE and a consent page, limits requests
per token, and injects faults on demand. Use it in-process (``sandbox.wsgi_app``), over HTTP (``serve``) or
from the command line (``cli_main``, wired as ``sferum sandbox``).
"""

from ._app import ConnectionDropped
from ._cli import cli_main
from ._faults import FaultInjector, FaultKind, FaultRule
from ._sandbox import DEFAULT_APP_ID, DEFAULT_APP_TOKEN, DEFAULT_RATE_LIMIT, DEFAULT_SERVICE_TOKEN, Sandbox
from ._server import RunningSandbox, serve

__all__ = [
    "DEFAULT_APP_ID",
    "DEFAULT_APP_TOKEN",
    "DEFAULT_RATE_LIMIT",
    "DEFAULT_SERVICE_TOKEN",
    "ConnectionDropped",
    "FaultInjector",
    "FaultKind",
    "FaultRule",
    "RunningSandbox",
    "Sandbox",
    "cli_main",
    "serve",
]
