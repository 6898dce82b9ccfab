"""``sferum-sandbox vk``: run the VK sandbox until Ctrl-C (or SIGTERM) and print how to connect to it.

:func:`add_arguments` declares the subcommand's options and :func:`run` runs it; ``sferum_sandbox.cli`` wires both
under the ``vk`` subcommand.

The tokens never go on the command line (``ps`` shows command lines to every user of the machine) and are never
printed: each comes from ``--service-token-file``/``--app-token-file`` (which win), else
``SFERUM_SANDBOX_SERVICE_TOKEN``/``SFERUM_SANDBOX_APP_TOKEN``, else the public demo value; the command prints only
where each came from.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from .._tokens import TokenSource, TokenSourceError, add_token_options, resolve_token
from ._sandbox import DEFAULT_APP_ID, DEFAULT_APP_TOKEN, DEFAULT_RATE_LIMIT, DEFAULT_SERVICE_TOKEN, Sandbox
from ._server import serve

HELP = "Sferum in VK Messenger: VK API 5.199 and VK ID"
DESCRIPTION = (
    "Run a local Sferum in VK Messenger (VK API and VK ID emulator) until Ctrl-C. The tokens come from "
    "--service-token-file/--app-token-file, else $SFERUM_SANDBOX_SERVICE_TOKEN/$SFERUM_SANDBOX_APP_TOKEN, else the "
    "public demo values; they are never printed."
)

SERVICE_TOKEN = TokenSource(
    name="service-token",
    label="service token",
    env="SFERUM_SANDBOX_SERVICE_TOKEN",
    default=DEFAULT_SERVICE_TOKEN,
    default_name="sferum_sandbox.DEFAULT_SERVICE_TOKEN",
)
"""The service token the sandbox accepts (type ``service``)."""
APP_TOKEN = TokenSource(
    name="app-token",
    label="application token",
    env="SFERUM_SANDBOX_APP_TOKEN",
    default=DEFAULT_APP_TOKEN,
    default_name="sferum_sandbox.DEFAULT_APP_TOKEN",
)
"""The application token the sandbox accepts (the organisation account's ``user`` token)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the ``vk`` subcommand's options on ``parser``."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8001, help="port, 0 for any free one (default: %(default)s)")
    parser.add_argument("--app-id", type=int, default=DEFAULT_APP_ID, help="APP ID / VK ID client_id")
    add_token_options(parser, (SERVICE_TOKEN, APP_TOKEN))
    parser.add_argument("--seed", type=int, default=0, help="seed of the random generator")
    parser.add_argument(
        "--state",
        type=Path,
        default=None,
        help="keep people, chats and calls in this JSON file across restarts (default: in memory only)",
    )
    parser.add_argument(
        "--rate-limit",
        type=float,
        default=DEFAULT_RATE_LIMIT,
        help="requests per second per token, 0 for no limit (default: %(default)s)",
    )


def run(args: argparse.Namespace) -> int:
    """Serve a sandbox configured by ``args`` (from :func:`add_arguments`) until Ctrl-C; return the exit status."""
    try:
        service_token = resolve_token(SERVICE_TOKEN, args, os.environ)
        app_token = resolve_token(APP_TOKEN, args, os.environ)
        sandbox = Sandbox(
            app_id=args.app_id,
            service_token=service_token.value,
            app_token=app_token.value,
            seed=args.seed,
            rate_limit_per_second=args.rate_limit or None,
            state_file=args.state,
        )
    except (TokenSourceError, ValueError) as error:  # neither message holds a token
        print(f"sferum-sandbox vk: {error}", file=sys.stderr)
        return 2
    stopped = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stopped.set()

    previous = signal.signal(signal.SIGTERM, _stop)
    with serve(sandbox, args.host, args.port) as running:
        # Where the tokens come from, for the module's settings; never their values.
        print(f"Sferum sandbox running at {running.url}  (inspect: {running.url}/_sandbox/)")
        print("Demo organisation credentials (tokens are not printed; this is where each comes from):")
        print(f"  APP ID:            {sandbox.app_id}")
        print(f"  Service token:     {service_token.origin}")
        print(f"  Application token: {app_token.origin}")
        print(f"  API base URL:      {running.url}/method/   VK ID: {running.url}/authorize")
        print(f"  Schema: {sandbox.contract_source}.  Press Ctrl-C to stop.", flush=True)
        try:
            while not stopped.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    signal.signal(signal.SIGTERM, previous)
    print("Sferum sandbox stopped.", flush=True)
    return 0
