"""Fixtures of the demo's tests: ``scripts/`` importable (``run_demo``, ``process_supervisor``), a transcript."""

from __future__ import annotations

import io
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"
if str(SCRIPTS) not in sys.path:
    # run_demo.py imports process_supervisor as its sibling, as it does when run as `python scripts/run_demo.py`.
    sys.path.insert(0, str(SCRIPTS))


class Transcript(io.StringIO):
    """A text stream that several threads write to and a test waits on."""

    def __init__(self) -> None:
        super().__init__()
        self._changed = threading.Condition()

    def write(self, text: str) -> int:
        with self._changed:
            written = super().write(text)
            self._changed.notify_all()
        return written

    def text(self) -> str:
        with self._changed:
            return self.getvalue()

    def wait_for(self, fragment: str, timeout: float, start: int = 0, *, unless: str | None = None) -> int:
        """Wait until ``fragment`` appears at or after offset ``start``; return the offset just past it.

        :param unless: fail at once when this appears instead (e.g. the end of a process's output).
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = self.getvalue().find(fragment, start)
                if found >= 0:
                    return found + len(fragment)
                if unless is not None and unless in self.getvalue()[start:]:
                    raise AssertionError(f"{unless!r} came before {fragment!r}:\n{self.getvalue()}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"{fragment!r} did not appear within {timeout} s; got:\n{self.getvalue()}")
                self._changed.wait(remaining)
