"""Serving the VK sandbox over real HTTP (see :mod:`sferum_sandbox._serving`)."""

from __future__ import annotations

from .._serving import RunningServer, start_server
from ._sandbox import Sandbox


class RunningSandbox(RunningServer):
    """A sandbox being served; ``url`` is its base URL. Use as a context manager or call ``stop()``."""


def serve(sandbox: Sandbox, host: str = "127.0.0.1", port: int = 0) -> RunningSandbox:
    """Serve ``sandbox`` on ``host``:``port`` (0: a free port) in a daemon thread and return at once."""
    return RunningSandbox(*start_server(sandbox.wsgi_app, host, port, name="sferum-sandbox"))
