"""sferum-sandbox: local emulators of Sferum's platforms, for demos and tests, with no credentials and no network.

One subpackage per platform, each with its own public API and ``sferum-sandbox <platform>`` subcommand:

- :mod:`sferum_sandbox.vk`: Sferum in VK Messenger (VK API 5.199 and VK ID);
- :mod:`sferum_sandbox.max`: Sferum in MAX (the MAX Bot API, OpenAPI 0.0.32), imported as
  ``from sferum_sandbox.max import MaxSandbox, serve``.

The VK emulator's public names are re-exported here, so ``from sferum_sandbox import Sandbox, serve`` is the
same as ``from sferum_sandbox.vk import Sandbox, serve``. Everything whose name starts with an underscore is
private and may change without notice.
"""

from .vk import (
    DEFAULT_APP_ID,
    DEFAULT_APP_TOKEN,
    DEFAULT_RATE_LIMIT,
    DEFAULT_SERVICE_TOKEN,
    ORG_ACCOUNT_ID,
    SCHEMA_DIR,
    SUPPORTED_METHODS,
    ConnectionDropped,
    FaultInjector,
    FaultKind,
    FaultRule,
    RunningSandbox,
    Sandbox,
    serve,
)

__version__ = "0.1.0"

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
    "__version__",
    "serve",
]
