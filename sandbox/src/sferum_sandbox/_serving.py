"""Serving a platform's emulator over real HTTP: a threaded werkzeug server in a daemon thread, stopped on demand.

Both platforms' ``serve()`` start their WSGI app with :func:`start_server` and return a :class:`RunningServer`
(or a subclass that stops more first, such as the MAX sandbox's webhook delivery).
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import TYPE_CHECKING, NoReturn, Self

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

__all__ = ["ConnectionDropped", "RunningServer", "drop_connection", "start_server"]

logger = logging.getLogger(__name__)

# How often serve_forever checks for shutdown: stop() returns within this time.
_POLL_SECONDS = 0.01


class ConnectionDropped(ConnectionAbortedError):
    """Raised by a WSGI app to drop the connection without a response (an injected fault).

    Under the sandbox's HTTP server the socket is shut down first, so the client sees the peer close with
    no response (httpx: ``RemoteProtocolError``); in-process (``httpx.WSGITransport``) this exception itself
    reaches the caller.
    """


def drop_connection(environ: WSGIEnvironment) -> NoReturn:
    """Drop the request's connection with no response (an injected fault)."""
    connection = environ.get("werkzeug.socket")
    if isinstance(connection, socket.socket):
        # Shut the socket down so the client sees EOF at once; werkzeug then treats the
        # ConnectionError below as a dropped connection and writes nothing.
        connection.shutdown(socket.SHUT_RDWR)
    logger.info("dropping a connection without a response (injected fault)")
    raise ConnectionDropped("connection dropped by an injected sandbox fault")


class _QuietRequestHandler(WSGIRequestHandler):
    """Logs requests without their query string: a careless client may put a token there."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = self.path.split("?", 1)[0]
        logger.debug("%s %s %s", self.command, path, code)


def start_server(
    app: Callable[..., Iterable[bytes]], host: str, port: int, *, name: str
) -> tuple[BaseWSGIServer, threading.Thread]:
    """Serve ``app`` on ``host``:``port`` (0: a free port) in a daemon thread named ``name-<port>``; return at once."""
    server = make_server(host, port, app, threaded=True, request_handler=_QuietRequestHandler)
    thread = threading.Thread(
        target=server.serve_forever, args=(_POLL_SECONDS,), name=f"{name}-{server.port}", daemon=True
    )
    thread.start()
    logger.info("%s serving on http://%s:%s", name, server.host, server.port)
    return server, thread


class RunningServer:
    """A server being served; ``url`` is its base URL. Use as a context manager or call ``stop()``."""

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

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(url={self.url!r})"
