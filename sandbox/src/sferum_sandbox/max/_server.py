"""Serving a MAX sandbox over real HTTP on a threaded werkzeug server, with webhook delivery in the background."""

from __future__ import annotations

import logging
import threading
from types import TracebackType

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from ._sandbox import MaxSandbox
from ._webhook import DeliveryThread

logger = logging.getLogger(__name__)

# How often serve_forever checks for shutdown: stop() returns within this time.
_POLL_SECONDS = 0.01


class _QuietRequestHandler(WSGIRequestHandler):
    """Logs requests without their query string: a careless client may put a token there."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = self.path.split("?", 1)[0]
        logger.debug("%s %s %s", self.command, path, code)


class RunningMaxSandbox:
    """A MAX sandbox being served; ``url`` is the Bot API's base URL. Use as a context manager or call ``stop()``."""

    def __init__(
        self, sandbox: MaxSandbox, server: BaseWSGIServer, thread: threading.Thread, delivery: DeliveryThread | None
    ) -> None:
        self.sandbox = sandbox
        self._server = server
        self._thread = thread
        self._delivery = delivery
        self.url = f"http://{server.host}:{server.port}"

    def stop(self) -> None:
        """Stop webhook delivery, end waiting long polls, stop serving and close the listening socket."""
        if self._delivery is not None:
            self._delivery.stop()
        self.sandbox._set_closing(True)
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

    def __enter__(self) -> RunningMaxSandbox:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"RunningMaxSandbox(url={self.url!r})"


def serve(
    sandbox: MaxSandbox,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    deliver_webhooks: bool = True,
    delivery_interval: float = 0.2,
) -> RunningMaxSandbox:
    """Serve ``sandbox`` on ``host``:``port`` (0: a free port) in a daemon thread and return at once.

    :param deliver_webhooks: run webhook delivery in a background thread (at once when an update is queued, and
        every ``delivery_interval`` seconds for redeliveries); False leaves it to ``sandbox.deliver_pending()``
        (tests with a fake clock).
    """
    server = make_server(host, port, sandbox.wsgi_app, threaded=True, request_handler=_QuietRequestHandler)
    sandbox._set_closing(False)
    thread = threading.Thread(
        target=server.serve_forever, args=(_POLL_SECONDS,), name=f"max-sandbox-{server.port}", daemon=True
    )
    thread.start()
    delivery = sandbox._delivery_thread(delivery_interval) if deliver_webhooks else None
    if delivery is not None:
        delivery.start()
    logger.info("MAX sandbox serving on http://%s:%s", server.host, server.port)
    return RunningMaxSandbox(sandbox, server, thread, delivery)
