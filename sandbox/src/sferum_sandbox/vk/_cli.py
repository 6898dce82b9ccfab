"""``sferum-sandbox vk``: run the VK sandbox until Ctrl-C (or SIGTERM) and print how to connect to it.

:func:`add_arguments` declares the subcommand's options and :func:`run` runs it; ``sferum_sandbox.cli`` wires both
under the ``vk`` subcommand.
"""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path
from types import FrameType

from ._sandbox import DEFAULT_APP_ID, DEFAULT_APP_TOKEN, DEFAULT_RATE_LIMIT, DEFAULT_SERVICE_TOKEN, Sandbox
from ._server import serve

HELP = "Sferum in VK Messenger: VK API 5.199 and VK ID"
DESCRIPTION = "Run a local Sferum in VK Messenger (VK API and VK ID emulator) until Ctrl-C."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the ``vk`` subcommand's options on ``parser``."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8001, help="port, 0 for any free one (default: %(default)s)")
    parser.add_argument("--app-id", type=int, default=DEFAULT_APP_ID, help="APP ID / VK ID client_id")
    parser.add_argument("--service-token", default=DEFAULT_SERVICE_TOKEN, help="the service token to accept")
    parser.add_argument("--app-token", default=DEFAULT_APP_TOKEN, help="the application token to accept")
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
    sandbox = Sandbox(
        app_id=args.app_id,
        service_token=args.service_token,
        app_token=args.app_token,
        seed=args.seed,
        rate_limit_per_second=args.rate_limit or None,
        state_file=args.state,
    )
    stopped = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stopped.set()

    previous = signal.signal(signal.SIGTERM, _stop)
    with serve(sandbox, args.host, args.port) as running:
        # These are the sandbox's own demo credentials, printed so they can be pasted into the settings form.
        print(f"Sferum sandbox running at {running.url}  (inspect: {running.url}/_sandbox/)")
        print("Demo organisation credentials:")
        print(f"  APP ID:            {sandbox.app_id}")
        print(f"  Service token:     {args.service_token}")
        print(f"  Application token: {args.app_token}")
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
