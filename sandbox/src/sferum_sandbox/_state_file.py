"""A JSON state file that keeps an emulator's data across restarts, rewritten atomically and only when it changed."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["StateFile"]


class StateFile:
    """The emulator's state on disk.

    :param path: the file (read at start if it exists); ``None`` keeps everything in memory.
    :param lock: the emulator's lock, held while the state is read for writing.
    :param snapshot: the state as JSON-ready data.
    """

    def __init__(self, path: Path | None, lock: threading.RLock, snapshot: Callable[[], Any]) -> None:
        self._path = path
        self._lock = lock
        self._snapshot = snapshot
        self._saved: str | None = None

    def load(self) -> Any | None:
        """The stored state, or ``None`` without a file; call :meth:`mark_saved` once it is restored."""
        if self._path is None or not self._path.exists():
            return None
        return json.loads(self._path.read_text(encoding="utf-8"))

    def mark_saved(self) -> None:
        """Take the current state as what the file holds (after restoring it)."""
        with self._lock:
            self._saved = self._text()

    def save(self) -> None:
        """Write the file if the state changed since the last write (no-op without a file)."""
        if self._path is None:
            return
        with self._lock:
            text = self._text()
            if text == self._saved:
                return
            partial = self._path.with_name(self._path.name + ".partial")
            partial.write_text(text, encoding="utf-8")
            os.replace(partial, self._path)  # a crash leaves the old file or the new one, never half of one
            self._saved = text

    def _text(self) -> str:
        return json.dumps(self._snapshot(), ensure_ascii=False, sort_keys=True)
