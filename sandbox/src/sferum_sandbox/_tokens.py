"""Where a sandbox's tokens come from: a file, an environment variable, or the public demo value. Never argv.

A token on a command line is visible to every user of the machine (``ps``, ``/proc/<pid>/cmdline``) and stays in
shell histories, so a platform's subcommand declares each token it accepts as a :class:`TokenSource`:
``--<name>-file PATH`` or the variable ``env``, else the platform's public demo value. What the subcommand prints
is :attr:`ResolvedToken.origin`, where the value came from; the value itself is never printed.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

__all__ = ["ResolvedToken", "TokenSource", "TokenSourceError", "add_token_options", "resolve_token"]


class TokenSourceError(ValueError):
    """A token's file cannot be used. The message names the file, never its content."""


@attrs.frozen
class TokenSource:
    """One token a sandbox accepts, and where it may come from.

    :param name: the option's stem, e.g. ``"app-token"``: the file option is ``--app-token-file``, and
        ``--app-token`` (the value itself on the command line) is refused with a pointer to the two ways in.
    :param label: what it is, for messages (``"application token"``).
    :param env: the environment variable that may hold it.
    :param default: the public demo value, used when neither the file nor the variable is given.
    :param default_name: where a reader finds that value (``"sferum_sandbox.DEFAULT_APP_TOKEN"``).
    """

    name: str
    label: str
    env: str
    default: str = attrs.field(repr=False)
    default_name: str

    @property
    def file_option(self) -> str:
        """The option naming the file that holds the token."""
        return f"--{self.name}-file"

    @property
    def dest(self) -> str:
        """The attribute of the parsed arguments that holds the file's path."""
        return f"{self.name.replace('-', '_')}_file"


@attrs.frozen
class ResolvedToken:
    """A token and where it came from; ``repr`` leaves the value out."""

    value: str = attrs.field(repr=False)
    origin: str
    """Printable: ``$VARIABLE``, ``file PATH (--x-file)`` or the name of the public demo value."""


class _RefuseTokenOnCommandLine(argparse.Action):
    """``--app-token VALUE``: refused without repeating VALUE, naming the ways that keep it off ``ps``."""

    def __init__(self, option_strings: Sequence[str], dest: str, source: TokenSource, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, help=argparse.SUPPRESS, **kwargs)
        self.source = source

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        parser.error(
            f"{option_string} is not accepted: a token on the command line is visible to every user in ps. "
            f"Put the {self.source.label} in the environment variable {self.source.env} "
            f"or in a file named by {self.source.file_option} FILE."
        )


def add_token_options(parser: argparse.ArgumentParser, sources: Sequence[TokenSource]) -> None:
    """Declare ``--<name>-file`` for each source, and refuse ``--<name>`` (the value itself)."""
    for source in sources:
        parser.add_argument(
            source.file_option,
            dest=source.dest,
            type=Path,
            default=None,
            metavar="FILE",
            help=(
                f"read the {source.label} from FILE (one line); else from ${source.env}; "
                f"else the public demo value {source.default_name}"
            ),
        )
        # Declared so that argparse neither takes it as an abbreviation of the file option nor echoes the value
        # back in an "unrecognized arguments" message.
        parser.add_argument(f"--{source.name}", action=_RefuseTokenOnCommandLine, source=source)


def resolve_token(source: TokenSource, args: argparse.Namespace, environ: Mapping[str, str]) -> ResolvedToken:
    """The token from its file if given, else from its environment variable if set and not empty, else the default.

    :raises TokenSourceError: the file cannot be read, is empty, or holds more than one word.
    """
    path: Path | None = getattr(args, source.dest)
    if path is not None:
        return ResolvedToken(_read_token_file(source, path), f"file {path} ({source.file_option})")
    value = environ.get(source.env, "")
    if value:
        return ResolvedToken(value, f"${source.env}")
    return ResolvedToken(
        source.default,
        f"the public demo value {source.default_name} (set ${source.env} or {source.file_option} to choose one)",
    )


def _read_token_file(source: TokenSource, path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else type(error).__name__
        raise TokenSourceError(f"{source.file_option} {path}: cannot read it ({reason})") from None
    value = text.strip()
    if not value:
        raise TokenSourceError(f"{source.file_option} {path}: the file is empty; it must hold the {source.label}")
    if any(character.isspace() for character in value):
        raise TokenSourceError(
            f"{source.file_option} {path}: the file must hold the {source.label} alone, as one word on one line"
        )
    return value
