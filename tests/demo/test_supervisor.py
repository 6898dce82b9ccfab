"""``scripts/process_supervisor.py``: the demo's processes, each restarted or not when it dies, and why it died.

The supervised processes are small Python programs that sleep for a bounded time (they end by themselves) or exit
at once; nothing here waits on a clock except bounded waits for output.
"""

from __future__ import annotations

import os
import re
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from process_supervisor import RestartPolicy, Service, Supervisor, SupervisorError

from tests.demo.conftest import Transcript

WAIT = 30.0  # seconds: a bound on every wait, never a duration the test depends on


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


STEADY = _python("import os, time; print('steady up', os.getpid(), flush=True); time.sleep(60)")


@contextmanager
def _running(supervisor: Supervisor) -> Iterator[tuple[threading.Event, list[int]]]:
    """Run ``supervisor.run`` in a thread; yield its stop event and (afterwards) its exit status."""
    stop = threading.Event()
    status: list[int] = []
    thread = threading.Thread(target=lambda: status.append(supervisor.run(stop)), daemon=True)
    thread.start()
    try:
        yield stop, status
    finally:
        stop.set()
        thread.join(WAIT)
        assert not thread.is_alive()


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text()


def test_a_killed_process_is_named_with_its_signal_and_last_lines_and_restarted() -> None:
    out = Transcript()
    worker = Service(
        "worker",
        _python("import os, time; print('worker up', os.getpid(), flush=True); time.sleep(60)"),
        restart=True,
    )
    with Supervisor(out=out, poll_seconds=0.05) as supervisor:
        first = supervisor.start(worker)
        out.wait_for(f"worker | worker up {first}", WAIT)
        with _running(supervisor) as (_stop, status):
            os.kill(first, signal.SIGKILL)
            died = out.wait_for(f"worker (pid {first}) died: killed by signal SIGKILL", WAIT)
            restarted = out.wait_for("restarting worker", WAIT, died)
            out.wait_for("worker | worker up", WAIT, restarted)
            second = supervisor.pid("worker")
            assert second is not None
            assert second != first
            assert f"==> started worker (pid {second})" in out.text()[restarted:]
        assert status == [0]
    text = out.text()
    last_lines = text[died : text.index("restarting worker", died)]
    assert f"worker up {first}" in last_lines
    assert not _alive(second)


def test_a_process_that_keeps_dying_is_given_up_while_the_others_keep_running() -> None:
    out = Transcript()
    flaky = Service("flaky", _python("print('flaky is failing', flush=True); raise SystemExit(3)"), restart=True)
    with Supervisor(out=out, policy=RestartPolicy(max_deaths=3, within=60.0), poll_seconds=0.05) as supervisor:
        steady = supervisor.start(Service("steady", STEADY))
        supervisor.start(flaky)
        with _running(supervisor) as (_stop, status):
            given_up = out.wait_for("flaky died 3 times within 60 s: it is not restarted again", WAIT)
            assert _alive(steady)
            assert not status  # still running
        assert status == [0]
        text = out.text()
    assert text.count("died: exited with code 3") == 3
    assert "flaky is failing" in text
    assert "restarting flaky" not in text[given_up:]
    assert not _alive(steady)


def test_when_a_process_that_is_not_restarted_dies_everything_stops_with_a_nonzero_status() -> None:
    out = Transcript()
    host = Service("host", _python("print('host cannot go on', flush=True); raise SystemExit(4)"))
    with Supervisor(out=out, poll_seconds=0.05) as supervisor:
        helper = supervisor.start(Service("helper", STEADY, restart=True))
        supervisor.start(host)
        with _running(supervisor) as (_stop, status):
            out.wait_for("host (pid", WAIT)
            out.wait_for("stopping everything", WAIT)
        assert status == [1]
    text = out.text()
    assert re.search(r"host \(pid \d+\) died: exited with code 4", text)
    assert "host cannot go on" in text[text.index("died: exited with code 4") :]
    assert not _alive(helper)


def test_a_process_that_dies_before_it_is_ready_fails_its_start_with_its_last_lines() -> None:
    out = Transcript()
    broken = Service("broken", _python("print('no config', flush=True); raise SystemExit(2)"), ready=lambda: False)
    with Supervisor(out=out, poll_seconds=0.05) as supervisor, pytest.raises(SupervisorError) as failed:
        supervisor.start(broken)
    assert "broken" in str(failed.value)
    assert "exited with code 2" in str(failed.value)
    assert "no config" in out.text()
