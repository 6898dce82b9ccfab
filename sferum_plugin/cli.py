"""The ``sferum`` command line.

``sferum sandbox``  an alias of ``sferum-sandbox`` (``sferum sandbox vk --port 8001``), the local Sferum emulator of the
                   separate ``sferum-sandbox`` distribution; exits with status 2 when that is not installed.
``sferum migrate``  migrates the module's tables in a database (what «Установка» does, for operators).
``sferum version``  prints the module's version.
``sferum sync``     runs the chat membership sync service: ``--once`` (default) or ``--loop``, ``--full``,
                   ``--dry-run``, ``--chat ID``; the host is found like ``flask --app`` finds an app: ``--host
                   module:factory`` or the environment variable ``SFERUM_HOST`` (see docs/operations.md).
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import sys
from collections.abc import Sequence

from sferum_plugin import __version__

__all__ = ["main"]


def _sandbox(args: argparse.Namespace, rest: list[str]) -> int:
    # The sandbox is a distribution of its own (sandbox/ in the repository): the plugin neither ships nor needs it.
    if importlib.util.find_spec("sferum_sandbox") is None:
        print(
            "sferum sandbox: the Sferum sandbox is not installed; install the sferum-sandbox distribution"
            " (`pip install -e sandbox` in the repository)",
            file=sys.stderr,
        )
        return 2
    from sferum_sandbox.cli import main as sandbox_main

    return sandbox_main(rest, prog="sferum sandbox")


def _migrate(args: argparse.Namespace, rest: list[str]) -> int:
    from sqlalchemy import create_engine

    from sferum_plugin.services import install

    engine = create_engine(args.database_url)
    try:
        install.upgrade(engine, args.revision)
        print(f"sferum tables at revision {install.current_revision(engine)}")
    finally:
        engine.dispose()
    return 0


def _version(args: argparse.Namespace, rest: list[str]) -> int:
    print(__version__)
    return 0


def _sync(args: argparse.Namespace, rest: list[str]) -> int:
    from sferum_plugin.plugin import plugin
    from sferum_plugin.services.sync.cli import run_sync_command

    return run_sync_command(
        host_spec=args.host,
        loop=args.loop,
        full=args.full,
        dry_run=args.dry_run,
        chat_ids=tuple(args.chat or ()),
        sferum=plugin.sferum,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``sferum`` command; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="sferum", description="Sferum integration module tools.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    commands = parser.add_subparsers(dest="command", required=True)
    sandbox = commands.add_parser("sandbox", help="run the local Sferum sandbox (sferum-sandbox)", add_help=False)
    sandbox.set_defaults(run=_sandbox)
    migrate = commands.add_parser("migrate", help="migrate the module's tables")
    migrate.add_argument("--database-url", required=True, help="SQLAlchemy URL of the host's database")
    migrate.add_argument("--revision", default="head")
    migrate.set_defaults(run=_migrate)
    sync = commands.add_parser("sync", help="run the chat membership sync service")
    mode = sync.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="run one pass and exit (the default)")
    mode.add_argument("--loop", action="store_true", help="serve the queue every 10 s and run full passes")
    sync.add_argument("--full", action="store_true", help="re-derive every chat and verify Sferum's member lists")
    sync.add_argument("--dry-run", action="store_true", help="print what would be added and removed; change nothing")
    sync.add_argument("--chat", type=int, action="append", help="limit to this chat (row id); repeatable")
    sync.add_argument("--host", default=None, help="module:factory returning the host (default: $SFERUM_HOST)")
    sync.set_defaults(run=_sync)
    version = commands.add_parser("version", help="print the module's version")
    version.set_defaults(run=_version)

    args, rest = parser.parse_known_args(argv)
    if rest and args.command != "sandbox":
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    result: int = args.run(args, rest)
    return result


if __name__ == "__main__":
    sys.exit(main())
