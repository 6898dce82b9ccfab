"""Run a few processes side by side; when one dies, say which and why, and restart it if it may be restarted.

``make demo`` (``scripts/run_demo.py``) runs the Sferum sandbox and the example host this way; another sandbox is
one more :class:`Service`. A :class:`Supervisor` starts each service in turn (waiting until it answers, when the
service says how to ask), forwards its output line by line as ``name | line`` and keeps its last lines. When a
process dies, the supervisor prints its name, its pid, how it ended (exit code or signal) and its last lines, then:

- a service with ``restart=True`` is started again, unless it died :attr:`RestartPolicy.max_deaths` times within
  :attr:`RestartPolicy.within` seconds: then it is left dead, the supervisor says so, and the others keep running;
- a service with ``restart=False`` ends :meth:`Supervisor.run` with status 1: the caller stops everything.

The supervisor's own lines start with ``==>``. It never prints a command line or an environment.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import IO, TextIO

__all__ = ["RestartPolicy", "Service", "Supervisor", "SupervisorError", "describe_exit"]

_LAST_LINES = 15


@dataclass(frozen=True)
class Service:
    """One supervised process.

    :param name: how messages and forwarded output name it.
    :param command: the program and its arguments (no secrets: every user of the machine sees them in ``ps``).
    :param env: its environment (default: the supervisor's own).
    :param ready: answers whether the process is up (e.g. its URL answers); ``None``: up once started.
    :param restart: start it again when it dies; otherwise its death ends :meth:`Supervisor.run` with status 1.
    :param ready_timeout: seconds to wait for ``ready`` after each start.
    """

    name: str
    command: Sequence[str]
    env: Mapping[str, str] | None = field(default=None, repr=False)
    ready: Callable[[], bool] | None = None
    restart: bool = False
    ready_timeout: float = 60.0


@dataclass(frozen=True)
class RestartPolicy:
    """When a service that keeps dying is given up: after ``max_deaths`` deaths within ``within`` seconds."""

    max_deaths: int = 5
    within: float = 60.0


class SupervisorError(RuntimeError):
    """A service could not be started (it died, or did not answer in time, before it was ready)."""


def describe_exit(returncode: int) -> str:
    """``exited with code 1`` or ``killed by signal SIGKILL`` (``subprocess`` reports signals as negative codes)."""
    if returncode >= 0:
        return f"exited with code {returncode}"
    try:
        name = signal.Signals(-returncode).name
    except ValueError:
        name = str(-returncode)
    return f"killed by signal {name}"


class _Supervised:
    """A service, its current process, its last lines and its recent deaths."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.process: subprocess.Popen[bytes] | None = None
        self.reader: threading.Thread | None = None
        self.lines: deque[str] = deque(maxlen=_LAST_LINES)
        self.deaths: deque[float] = deque()
        self.started_at = 0.0
        self.ready = False
        self.given_up = False


class Supervisor:
    """Starts services, watches them, restarts those that may be restarted, stops them all (also on ``with`` exit).

    :param out: where forwarded output and the supervisor's messages go.
    :param policy: when a service that keeps dying is no longer restarted.
    :param poll_seconds: how often :meth:`run` looks at the processes.
    :param stop_timeout: how long :meth:`stop` waits for each process after SIGINT before it kills it.
    """

    def __init__(
        self,
        *,
        out: TextIO = sys.stdout,
        policy: RestartPolicy | None = None,
        poll_seconds: float = 0.2,
        stop_timeout: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._out = out
        self._policy = policy or RestartPolicy()
        self._poll = poll_seconds
        self._stop_timeout = stop_timeout
        self._clock = clock
        self._write_lock = threading.Lock()
        self._entries: list[_Supervised] = []

    # -- starting -------------------------------------------------------------------------------------------------

    def start(self, service: Service) -> int:
        """Start ``service`` and wait until it is ready; return its pid.

        :raises SupervisorError: it died, or did not answer within ``service.ready_timeout``, first (its last lines
            are printed; the caller should :meth:`stop`).
        """
        if any(entry.service.name == service.name for entry in self._entries):
            raise ValueError(f"a service named {service.name!r} is already supervised")
        entry = _Supervised(service)
        self._entries.append(entry)
        process = self._spawn(entry)
        while not self._probe(entry):
            returncode = process.poll()
            if returncode is not None:
                self._report_death(entry, returncode)
                raise SupervisorError(
                    f"{service.name} (pid {process.pid}) {describe_exit(returncode)} before it was ready"
                )
            if self._clock() - entry.started_at > service.ready_timeout:
                raise SupervisorError(
                    f"{service.name} (pid {process.pid}) did not answer within {service.ready_timeout:g} s"
                )
            time.sleep(self._poll)
        return process.pid

    def pid(self, name: str) -> int | None:
        """The pid of the process now running for service ``name``, or None."""
        for entry in self._entries:
            if entry.service.name == name and entry.process is not None and entry.process.poll() is None:
                return entry.process.pid
        return None

    # -- watching -------------------------------------------------------------------------------------------------

    def run(self, stop: threading.Event | None = None) -> int:
        """Watch the services until ``stop`` is set (status 0) or one that is not restarted dies (status 1)."""
        stop = stop or threading.Event()
        while not stop.is_set():
            for entry in list(self._entries):
                if self._watch(entry):
                    return 1
            stop.wait(self._poll)
        return 0

    def _watch(self, entry: _Supervised) -> bool:
        """Look at one service's process; True when everything must stop."""
        process = entry.process
        if entry.given_up or process is None:
            return False
        returncode = process.poll()
        if returncode is None:
            if not entry.ready and self._probe(entry):
                self._say(f"{entry.service.name} (pid {process.pid}) answers again")
            elif not entry.ready and self._clock() - entry.started_at > entry.service.ready_timeout:
                self._say(f"{entry.service.name} (pid {process.pid}) did not answer within "
                          f"{entry.service.ready_timeout:g} s: killing it")  # fmt: skip
                process.kill()
            return False
        self._report_death(entry, returncode)
        if not entry.service.restart:
            self._say(f"{entry.service.name} is not restarted: stopping everything.")
            return True
        self._restart_or_give_up(entry)
        return False

    def _restart_or_give_up(self, entry: _Supervised) -> None:
        now = self._clock()
        entry.deaths.append(now)
        while entry.deaths and now - entry.deaths[0] > self._policy.within:
            entry.deaths.popleft()
        name, count, within = entry.service.name, len(entry.deaths), self._policy.within
        if count >= self._policy.max_deaths:
            entry.given_up = True
            self._say(f"{name} died {count} times within {within:g} s: it is not restarted again. "
                      "The other processes keep running; start everything again to get it back.")  # fmt: skip
            return
        self._say(
            f"restarting {name} ({count} of {self._policy.max_deaths} deaths within {within:g} s before it is given up)"
        )
        self._spawn(entry)

    # -- stopping -------------------------------------------------------------------------------------------------

    def stop(self) -> None:
        """Send SIGINT to every running process, last started first; kill those still running after the timeout."""
        running = [entry for entry in reversed(self._entries) if entry.process is not None]
        for entry in running:
            assert entry.process is not None
            if entry.process.poll() is None:
                entry.process.send_signal(signal.SIGINT)
        for entry in running:
            assert entry.process is not None
            try:
                entry.process.wait(timeout=self._stop_timeout)
            except subprocess.TimeoutExpired:
                self._say(f"{entry.service.name} did not stop within {self._stop_timeout:g} s: killing it")
                entry.process.kill()
                entry.process.wait()
            if entry.reader is not None:
                entry.reader.join(timeout=5)

    def __enter__(self) -> Supervisor:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- helpers --------------------------------------------------------------------------------------------------

    def _spawn(self, entry: _Supervised) -> subprocess.Popen[bytes]:
        service = entry.service
        process = subprocess.Popen(
            list(service.command),
            env=None if service.env is None else dict(service.env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        entry.process, entry.started_at, entry.ready = process, self._clock(), service.ready is None
        entry.lines = deque(maxlen=_LAST_LINES)
        assert process.stdout is not None
        entry.reader = threading.Thread(
            target=self._forward, args=(service.name, process.stdout, entry.lines), name=f"output of {service.name}"
        )
        entry.reader.daemon = True
        entry.reader.start()
        self._say(f"started {service.name} (pid {process.pid})")
        return process

    def _forward(self, name: str, stream: IO[bytes], lines: deque[str]) -> None:
        with stream:
            for raw in iter(stream.readline, b""):
                line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                lines.append(line)
                self._write(f"{name} | {line}\n")

    def _probe(self, entry: _Supervised) -> bool:
        ready = entry.service.ready
        entry.ready = ready is None or ready()
        return entry.ready

    def _report_death(self, entry: _Supervised, returncode: int) -> None:
        assert entry.process is not None
        if entry.reader is not None:
            entry.reader.join(timeout=5)  # the pipe ends with the process: its last lines are all in
        name, pid = entry.service.name, entry.process.pid
        lines = list(entry.lines)  # a copy: a grandchild holding the pipe open may still be writing
        if lines:
            tail = "".join(f"    {line}\n" for line in lines)
            self._say(f"{name} (pid {pid}) died: {describe_exit(returncode)}. Its last lines:\n{tail}", end="")
        else:
            self._say(f"{name} (pid {pid}) died: {describe_exit(returncode)}. It printed nothing.")

    def _say(self, message: str, end: str = "\n") -> None:
        self._write(f"==> {message}{end}")

    def _write(self, text: str) -> None:
        with self._write_lock:
            self._out.write(text)
            self._out.flush()
