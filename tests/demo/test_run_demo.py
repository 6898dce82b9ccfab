"""``make demo`` (``scripts/run_demo.py``) as a real process on free ports, with a temporary instance folder.

It carries no token on any command line and prints none; when its sandbox is killed it says which process died and
how, starts the sandbox again with its state kept, and the LMS keeps answering; SIGINT stops it.

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
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
import pytest
import run_demo

from tests.demo.conftest import ROOT, Transcript

pytestmark = pytest.mark.slow  # migrations, demo data and two servers: tens of seconds on a busy machine

TOKENS = (run_demo.DEMO_SERVICE_TOKEN, run_demo.DEMO_APP_TOKEN)
START_TIMEOUT = 240.0  # bounds, not expectations
WAIT = 60.0

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


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


OUTPUT_ENDED = "[the demo's output ended]"


def _read_into(stream: IO[str], out: Transcript) -> None:
    with stream:
        for line in stream:
            out.write(line)
    out.write(f"{OUTPUT_ENDED}\n")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    root = tmp_path_factory.mktemp("demo")
    spy, cmdlines, instance = root / "spy", root / "cmdlines", root / "instance"
    for folder in (spy, cmdlines):
        folder.mkdir()
    (spy / "sitecustomize.py").write_text(SPY, encoding="utf-8")
    lms_port, sandbox_port, smtp_port = _free_ports(3)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("LMS_", "SFERUM_"))}
    env.update(
        LMS_INSTANCE_PATH=str(instance), LMS_PORT=str(lms_port), SFERUM_SANDBOX_PORT=str(sandbox_port),
        LMS_SMTP_PORT=str(smtp_port), PYTHONPATH=str(spy), DEMO_TEST_CMDLINES=str(cmdlines), PYTHONUNBUFFERED="1",
    )  # fmt: skip
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
        yield Demo(process, out, f"http://127.0.0.1:{lms_port}", f"http://127.0.0.1:{sandbox_port}", cmdlines)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(WAIT)
        reader.join(WAIT)


def _descendants(pid: int) -> list[int]:
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


def _read(path: Path) -> str:
    try:
        return path.read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:  # the process has just ended
        return ""


def _started_pid(out: Transcript, name: str, start: int = 0) -> int:
    out.wait_for(f"==> started {name} (pid ", WAIT, start)
    found = re.compile(rf"==> started {re.escape(name)} \(pid (\d+)\)").findall(out.text(), start)
    return int(found[-1])


def _get(url: str) -> httpx.Response:
    with httpx.Client(timeout=10.0, verify=False) as client:
        return client.get(url)


def test_no_command_line_of_the_demo_carries_a_token_and_nothing_prints_one(demo: Demo) -> None:
    live = {pid: _read(Path(f"/proc/{pid}/cmdline")) for pid in [demo.process.pid, *_descendants(demo.process.pid)]}
    recorded = {path.stem: _read(path) for path in demo.cmdlines.glob("*.cmdline")}
    every = [*live.values(), *recorded.values()]
    assert any("sferum-sandbox vk" in line for line in live.values()), live
    assert any("lms_host run" in line for line in live.values()), live
    assert any("modules configure sferum" in line for line in recorded.values()), recorded
    for token in TOKENS:
        assert not [line for line in every if token in line]
        assert token not in demo.out.text()
    # Only the sandbox is given the tokens, in its environment; the LMS reads them from its database.
    lms_pid = _started_pid(demo.out, "lms")
    lms_environment = _read(Path(f"/proc/{lms_pid}/environ"))
    assert lms_environment
    assert not [token for token in TOKENS if token in lms_environment]


def test_a_killed_sandbox_is_named_restarted_with_its_state_and_the_lms_keeps_answering(demo: Demo) -> None:
    added = httpx.post(
        f"{demo.sandbox_url}/_sandbox/users", json={"first_name": "Вера", "last_name": "Перезапускова"}, timeout=10
    ).json()["id"]
    first = _started_pid(demo.out, "sandbox-vk")
    mark = len(demo.out.text())
    os.kill(first, signal.SIGKILL)
    died = demo.out.wait_for(
        f"==> sandbox-vk (pid {first}) died: killed by signal SIGKILL. Its last lines:", WAIT, mark
    )
    second = _started_pid(demo.out, "sandbox-vk", died)
    assert second != first
    demo.out.wait_for(f"==> sandbox-vk (pid {second}) answers again", WAIT, died)
    users = _get(f"{demo.sandbox_url}/_sandbox/state").json()["users"]
    assert added in [user["id"] for user in users]
    assert _get(f"{demo.lms_url}/login").status_code == 200
    assert demo.process.poll() is None

    demo.process.send_signal(signal.SIGINT)
    assert demo.process.wait(WAIT) == 0
    assert "Stopping ..." in demo.out.text()
    assert not [pid for pid in (second, _started_pid(demo.out, "lms")) if Path(f"/proc/{pid}").exists()]
