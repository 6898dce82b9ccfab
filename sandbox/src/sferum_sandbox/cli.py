"""The ``sferum-sandbox`` command: run a local emulator of one of Sferum's platforms until Ctrl-C.

``sferum-sandbox vk [--host H] [--port P] [--app-id ID] [--service-token-file FILE] [--app-token-file FILE]
[--seed N] [--state FILE] [--rate-limit R]`` runs Sferum in VK Messenger (VK API and VK ID); its tokens come from
those files or ``SFERUM_SANDBOX_SERVICE_TOKEN``/``SFERUM_SANDBOX_APP_TOKEN``, never from the command line.

Each platform is one subcommand, served by a CLI module that satisfies :class:`PlatformCli`; adding a platform
(say ``max``) is one more entry in :data:`PLATFORMS`.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Protocol

from .max import _cli as max_cli
from .vk import _cli as vk_cli

__all__ = ["PLATFORMS", "PlatformCli", "build_parser", "main"]


class PlatformCli(Protocol):
    """What a platform's CLI module offers (a module satisfies this protocol)."""

    HELP: str
    """One line for the list of subcommands."""
    DESCRIPTION: str
    """The subcommand's ``--help`` description."""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Declare the subcommand's options."""

    def run(self, args: argparse.Namespace) -> int:
        """Run the emulator until it is stopped; return the exit status."""


PLATFORMS: dict[str, PlatformCli] = {"vk": vk_cli, "max": max_cli}
"""Subcommand name -> the platform's CLI module."""


def build_parser(prog: str = "sferum-sandbox") -> argparse.ArgumentParser:
    """The argument parser: one subcommand per platform in :data:`PLATFORMS`."""
    parser = argparse.ArgumentParser(
        prog=prog, description="Run a local emulator of one of Sferum's platforms until Ctrl-C."
    )
    platforms = parser.add_subparsers(dest="platform", required=True, metavar="PLATFORM")
    for name, module in PLATFORMS.items():
        sub = platforms.add_parser(name, help=module.HELP, description=module.DESCRIPTION)
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None, *, prog: str = "sferum-sandbox") -> int:
    """Run ``sferum-sandbox`` with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    args = build_parser(prog).parse_args(argv)
    status: int = args.run(args)
    return status
