"""``make demo`` (``scripts/run_demo.py``) as a real process on free ports, with a temporary instance folder: how the
demo's tests start it, read its output, find its processes and stop it.

Every Python process the demo starts (all of them are) records its own ``/proc/self/cmdline`` through a
``sitecustomize`` module on ``PYTHONPATH``, so that even the short-lived ``flask modules configure`` is checked.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

from tests.demo.conftest import ROOT, Transcript

START_TIMEOUT = 240.0  # bounds, not expectations
WAIT = 60.0
OUTPUT_ENDED = "[the demo's output ended]"

SPY = """\
import os, pathlib
_folder = os.environ.get("DEMO_TEST_CMDLINES")
if _folder:
    pathlib.Path(_folder, f"{os.getpid()}.cmdline").write_bytes(pathlib.Path("/proc/self/cmdline").read_bytes())
"""


@dataclass
class Demo:
    process: subprocess.Popen[str]
    out: Transcript
    lms_url: str
    sandbox_url: str
    cmdlines: Path
    instance: Path


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _read_into(stream: IO[str], out: Transcript) -> None:
    with stream:
        for line in stream:
            out.write(line)
    out.write(f"{OUTPUT_ENDED}\n")


@contextmanager
def running_demo(root: Path, platform: str | None = None, *, instance: Path | None = None) -> Iterator[Demo]:
    """Start the demo in ``root`` (``SFERUM_PLATFORM=platform`` when given; from scratch unless ``instance`` names
    the instance folder of an earlier run), wait for its banner, yield it; kill its whole process group at the end,
    whatever happened."""
    spy, cmdlines, instance = root / "spy", root / "cmdlines", instance or root / "instance"
    for folder in (spy, cmdlines):
        folder.mkdir()
    (spy / "sitecustomize.py").write_text(SPY, encoding="utf-8")
    lms_port, sandbox_port, smtp_port = _free_ports(3)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("LMS_", "SFERUM_"))}
    env.update(
        LMS_INSTANCE_PATH=str(instance), LMS_PORT=str(lms_port), SFERUM_SANDBOX_PORT=str(sandbox_port),
        LMS_SMTP_PORT=str(smtp_port), PYTHONPATH=str(spy), DEMO_TEST_CMDLINES=str(cmdlines), PYTHONUNBUFFERED="1",
    )  # fmt: skip
    if platform is not None:
        env["SFERUM_PLATFORM"] = platform
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "run_demo.py")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
        start_new_session=True,  # its own process group: whatever happens, the clean-up below reaches every child
    )
    out = Transcript()
    assert process.stdout is not None
    reader = threading.Thread(target=_read_into, args=(process.stdout, out), daemon=True)
    reader.start()
    try:
        banner = out.wait_for("The demo is running.", START_TIMEOUT, unless=OUTPUT_ENDED)
        out.wait_for("Press Ctrl-C to stop.", WAIT, banner)
        urls = (f"http://127.0.0.1:{lms_port}", f"http://127.0.0.1:{sandbox_port}")
        yield Demo(process, out, *urls, cmdlines, instance)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(WAIT)
        reader.join(WAIT)


def descendants(pid: int) -> list[int]:
    """The live processes below ``pid``, from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, of in parents.items() if of == parent]
        found.extend(children)
        frontier.extend(children)
    return found


def read_proc(path: Path) -> str:
    """A ``/proc`` file (NULs as spaces), or "" when the process has just ended."""
    try:
        return path.read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def command_lines(demo: Demo) -> tuple[dict[int, str], dict[str, str]]:
    """The command lines of the demo's live processes (by pid), and those every Python process recorded at start."""
    live = {pid: read_proc(Path(f"/proc/{pid}/cmdline")) for pid in [demo.process.pid, *descendants(demo.process.pid)]}
    recorded = {path.stem: read_proc(path) for path in demo.cmdlines.glob("*.cmdline")}
    return live, recorded


def started_pid(out: Transcript, name: str, start: int = 0) -> int:
    """The pid of the latest ``==> started NAME (pid N)`` at or after ``start`` (waiting for one)."""
    out.wait_for(f"==> started {name} (pid ", WAIT, start)
    found = re.compile(rf"==> started {re.escape(name)} \(pid (\d+)\)").findall(out.text(), start)
    return int(found[-1])


def get(url: str) -> httpx.Response:
    with httpx.Client(timeout=10.0, verify=False) as client:
        return client.get(url)
