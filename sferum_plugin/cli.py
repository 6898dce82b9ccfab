"""The ``sferum`` command line.

``sferum sandbox``  runs the local Sferum sandbox (VK API and VK ID emulator) for demos and manual testing.
``sferum migrate``  migrates the module's tables in a database (what «Установка» does, for operators).
``sferum version``  prints the module's version.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from sferum_plugin import __version__

__all__ = ["main"]


def _sandbox(args: argparse.Namespace, rest: list[str]) -> int:
    from sferum_plugin.sandbox import cli_main

    return cli_main(rest)


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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``sferum`` command; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="sferum", description="Sferum integration module tools.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    commands = parser.add_subparsers(dest="command", required=True)
    sandbox = commands.add_parser("sandbox", help="run the local Sferum sandbox", add_help=False)
    sandbox.set_defaults(run=_sandbox)
    migrate = commands.add_parser("migrate", help="migrate the module's tables")
    migrate.add_argument("--database-url", required=True, help="SQLAlchemy URL of the host's database")
    migrate.add_argument("--revision", default="head")
    migrate.set_defaults(run=_migrate)
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
