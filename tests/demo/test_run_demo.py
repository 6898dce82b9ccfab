"""``make demo`` (``scripts/run_demo.py``) as a real process on free ports, with a temporary instance folder.

It carries no token on any command line and prints none; when its sandbox is killed it says which process died and
how, starts the sandbox again with its state kept, and the LMS keeps answering; SIGINT stops it. (How it is run:
``tests/demo/running.py``.)
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import run_demo

from tests.demo.running import WAIT, Demo, command_lines, get, read_proc, running_demo, started_pid

pytestmark = pytest.mark.slow  # migrations, demo data and two servers: tens of seconds on a busy machine

TOKENS = (run_demo.DEMO_SERVICE_TOKEN, run_demo.DEMO_APP_TOKEN)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    with running_demo(tmp_path_factory.mktemp("demo")) as demo:
        yield demo


def test_no_command_line_of_the_demo_carries_a_token_and_nothing_prints_one(demo: Demo) -> None:
    live, recorded = command_lines(demo)
    every = [*live.values(), *recorded.values()]
    assert any("sferum-sandbox vk" in line for line in live.values()), live
    assert any("lms_host run" in line for line in live.values()), live
    assert any("modules configure sferum" in line for line in recorded.values()), recorded
    for token in TOKENS:
        assert not [line for line in every if token in line]
        assert token not in demo.out.text()
    # Only the sandbox is given the tokens, in its environment; the LMS reads them from its database.
    lms_pid = started_pid(demo.out, "lms")
    lms_environment = read_proc(Path(f"/proc/{lms_pid}/environ"))
    assert lms_environment
    assert not [token for token in TOKENS if token in lms_environment]


def test_a_killed_sandbox_is_named_restarted_with_its_state_and_the_lms_keeps_answering(demo: Demo) -> None:
    added = httpx.post(
        f"{demo.sandbox_url}/_sandbox/users", json={"first_name": "Вера", "last_name": "Перезапускова"}, timeout=10
    ).json()["id"]
    first = started_pid(demo.out, "sandbox-vk")
    mark = len(demo.out.text())
    os.kill(first, signal.SIGKILL)
    died = demo.out.wait_for(
        f"==> sandbox-vk (pid {first}) died: killed by signal SIGKILL. Its last lines:", WAIT, mark
    )
    second = started_pid(demo.out, "sandbox-vk", died)
    assert second != first
    demo.out.wait_for(f"==> sandbox-vk (pid {second}) answers again", WAIT, died)
    users = get(f"{demo.sandbox_url}/_sandbox/state").json()["users"]
    assert added in [user["id"] for user in users]
    assert get(f"{demo.lms_url}/login").status_code == 200
    assert demo.process.poll() is None

    demo.process.send_signal(signal.SIGINT)
    assert demo.process.wait(WAIT) == 0
    assert "Stopping ..." in demo.out.text()
    assert not [pid for pid in (second, started_pid(demo.out, "lms")) if Path(f"/proc/{pid}").exists()]
