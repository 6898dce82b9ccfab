"""Running ``python -m sferum_sandbox <platform>`` as a process, as a person would, for the command-line tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager

__all__ = ["Running", "environment_without", "sandbox_process"]

Running = tuple[subprocess.Popen[str], str, list[str]]
"""A sandbox process, its URL, and the lines it printed up to «Press Ctrl-C»."""


def environment_without(names: Collection[str], **extra: str) -> dict[str, str]:
    """This process's environment without ``names`` (the sandbox's token variables), unbuffered, plus ``extra``."""
    env = {key: value for key, value in os.environ.items() if key not in names}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


@contextmanager
def sandbox_process(platform: str, args: list[str], env: Mapping[str, str], *, banner: str) -> Iterator[Running]:
    """Run ``python -m sferum_sandbox PLATFORM --port 0 ARGS``; yield the process, its URL and the lines it printed
    up to «Press Ctrl-C».  ``banner`` is how its first line starts.  A process still running at the end is
    interrupted (and killed if it does not stop)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "sferum_sandbox", platform, "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(env),
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith(banner), first + (process.stderr.read() if process.stderr else "")
        lines = [first]
        while "Press Ctrl-C" not in lines[-1]:
            lines.append(process.stdout.readline())
        yield process, first.split()[4], lines
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
