"""Serving a MAX sandbox over real HTTP (see :mod:`sferum_sandbox._serving`), with webhook delivery meanwhile."""

from __future__ import annotations

import threading

from werkzeug.serving import BaseWSGIServer

from .._serving import RunningServer, start_server
from ._sandbox import MaxSandbox
from ._webhook import DeliveryThread


class RunningMaxSandbox(RunningServer):
    """A MAX sandbox being served; ``url`` is the Bot API's base URL. Use as a context manager or call ``stop()``."""

    def __init__(
        self, sandbox: MaxSandbox, server: BaseWSGIServer, thread: threading.Thread, delivery: DeliveryThread | None
    ) -> None:
        super().__init__(server, thread)
        self.sandbox = sandbox
        self._delivery = delivery

    def stop(self) -> None:
        """Stop webhook delivery, end waiting long polls, stop serving and close the listening socket."""
        if self._delivery is not None:
            self._delivery.stop()
        self.sandbox._set_closing(True)
        super().stop()


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
    sandbox._set_closing(False)
    server, thread = start_server(sandbox.wsgi_app, host, port, name="max-sandbox")
    delivery = sandbox._delivery_thread(delivery_interval) if deliver_webhooks else None
    if delivery is not None:
        delivery.start()
    return RunningMaxSandbox(sandbox, server, thread, delivery)
