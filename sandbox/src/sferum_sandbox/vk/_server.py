"""Serving a sandbox over real HTTP on a threaded werkzeug server in a daemon thread."""

from __future__ import annotations

import logging
import threading
from types import TracebackType

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from ._sandbox import Sandbox

logger = logging.getLogger(__name__)

# How often serve_forever checks for shutdown: stop() returns within this time.
_POLL_SECONDS = 0.01


class _QuietRequestHandler(WSGIRequestHandler):
    """Logs requests without their query string: a careless client may put a token there."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = self.path.split("?", 1)[0]
        logger.debug("%s %s %s", self.command, path, code)


class RunningSandbox:
    """A sandbox being served; ``url`` is its base URL. Use as a context manager or call ``stop()``."""

    def __init__(self, server: BaseWSGIServer, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread
        self.url = f"http://{server.host}:{server.port}"

    def stop(self) -> None:
        """Stop serving, close the listening socket and wait for the server thread."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

    def __enter__(self) -> RunningSandbox:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"RunningSandbox(url={self.url!r})"


def serve(sandbox: Sandbox, host: str = "127.0.0.1", port: int = 0) -> RunningSandbox:
    """Serve ``sandbox`` on ``host``:``port`` (0: a free port) in a daemon thread and return at once."""
    server = make_server(host, port, sandbox.wsgi_app, threaded=True, request_handler=_QuietRequestHandler)
    thread = threading.Thread(
        target=server.serve_forever, args=(_POLL_SECONDS,), name=f"sferum-sandbox-{server.port}", daemon=True
    )
    thread.start()
    logger.info("Sferum sandbox serving on http://%s:%s", server.host, server.port)
    return RunningSandbox(server, thread)
