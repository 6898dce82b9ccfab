"""``sferum-sandbox max``: run the MAX sandbox until Ctrl-C (or SIGTERM) and print how to connect to it.

The bot's token never goes on the command line (``ps`` shows command lines to every user of the machine) and is
never printed: it comes from ``--bot-token-file FILE`` (which wins), else the environment variable
``SFERUM_SANDBOX_BOT_TOKEN``, else the public demo token ``sferum_sandbox.max.DEFAULT_BOT_TOKEN``; the command
prints only where it came from.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from . import TOKEN_ENVIRONMENT_VARIABLE
from ._sandbox import DEFAULT_BOT_NAME, DEFAULT_BOT_TOKEN, DEFAULT_RATE_LIMIT, SCHEMA_PATH, MaxSandbox
from ._server import serve

HELP = "Sferum in MAX: the MAX Bot API (OpenAPI 0.0.32), webhooks and long polling"
DESCRIPTION = (
    "Run a local MAX Bot API until Ctrl-C. The bot's token comes from --bot-token-file, else "
    f"${TOKEN_ENVIRONMENT_VARIABLE}, else the public demo token; it is never printed."
)


class TokenError(Exception):
    """The token file cannot be used (the message names the file, never its content)."""


class _RefuseToken(argparse.Action):
    """``--bot-token VALUE``: refused without echoing the value (it would be visible in ``ps`` to everyone)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        parser.error(
            f"{option_string} is not accepted: a token on the command line is visible to every user in ps. "
            f"Put it in ${TOKEN_ENVIRONMENT_VARIABLE} or in a file given with --bot-token-file."
        )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the ``max`` subcommand's options on ``parser``."""
    parser.allow_abbrev = False  # "--bot-token SECRET" must not pass for "--bot-token-file SECRET"
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8002, help="port, 0 for any free one (default: %(default)s)")
    parser.add_argument(
        "--bot-name", default=DEFAULT_BOT_NAME, help="the bot's username, as in its deep links (default: %(default)s)"
    )
    parser.add_argument(
        "--bot-token-file",
        type=Path,
        default=None,
        help=f"read the bot's token from this file (one line); default: ${TOKEN_ENVIRONMENT_VARIABLE}",
    )
    parser.add_argument("--bot-token", action=_RefuseToken, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help="seed of the random generator")
    parser.add_argument(
        "--state",
        type=Path,
        default=None,
        help="keep people, chats, messages and events in this JSON file across restarts (default: in memory only)",
    )
    parser.add_argument(
        "--rate-limit",
        type=float,
        default=DEFAULT_RATE_LIMIT,
        help="requests per second per token before HTTP 429, 0 for no limit (default: %(default)s)",
    )


def resolve_token(token_file: Path | None) -> tuple[str, str]:
    """The bot's token and where it came from (for printing).

    :raises TokenError: the file is missing, unreadable, empty or holds more than one line.
    """
    if token_file is not None:
        try:
            lines = [line.strip() for line in token_file.read_text(encoding="utf-8").splitlines() if line.strip()]
        except (OSError, UnicodeDecodeError) as error:
            raise TokenError(f"cannot read the bot token file {token_file}: {type(error).__name__}") from None
        if len(lines) != 1:
            raise TokenError(f"the bot token file {token_file} must hold the token on one line")
        return lines[0], f"from the file {token_file}"
    value = os.environ.get(TOKEN_ENVIRONMENT_VARIABLE, "").strip()
    if value:
        return value, f"from ${TOKEN_ENVIRONMENT_VARIABLE}"
    return DEFAULT_BOT_TOKEN, "the public demo token, sferum_sandbox.max.DEFAULT_BOT_TOKEN"


def run(args: argparse.Namespace) -> int:
    """Serve a MAX sandbox configured by ``args`` (from :func:`add_arguments`) until Ctrl-C; return the exit status."""
    try:
        token, source = resolve_token(args.bot_token_file)
        sandbox = MaxSandbox(
            bot_token=token,
            bot_name=args.bot_name,
            seed=args.seed,
            rate_limit_per_second=args.rate_limit or None,
            state_file=args.state,
        )
    except TokenError as error:
        print(f"sferum-sandbox max: {error}", file=sys.stderr)
        return 2
    except ValueError as error:
        print(f"sferum-sandbox max: {error}", file=sys.stderr)
        return 2
    stopped = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stopped.set()

    previous = signal.signal(signal.SIGTERM, _stop)
    version = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))["info"]["version"]
    with serve(sandbox, args.host, args.port) as running:
        print(f"MAX sandbox running at {running.url}  (a MAX user's view: {running.url}/_sandbox/)")
        print(f"  Bot API base URL: {running.url}")
        print(f"  Bot:              @{sandbox.bot_name} (id {sandbox.bot_user_id})")
        print(f"  Deep links:       {sandbox.deep_link()}?start=<payload>")
        print(f"  Bot token:        {source}")
        rate = f"{args.rate_limit:g} requests/s per token" if args.rate_limit else "no rate limit"
        print(f"  Limits:           {rate}; state: {args.state or 'in memory'}")
        print(f"  Schema: MAX Bot API {version} ({SCHEMA_PATH}).  Press Ctrl-C to stop.", flush=True)
        try:
            while not stopped.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    signal.signal(signal.SIGTERM, previous)
    print("MAX sandbox stopped.", flush=True)
    return 0
