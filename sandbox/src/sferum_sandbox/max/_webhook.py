"""Webhook delivery: POST each queued update to the subscribed URL, redeliver after failures, give up as MAX does.

MAX POSTs the ``Update`` object as JSON, with ``X-Max-Bot-Api-Secret: <secret>`` when the subscription has one;
anything but HTTP 200 (or no answer within the timeout) is a failed delivery. A failed update is tried again after
the next of ``webhook_retry_delays`` (MAX: up to 10 retries, from 60 s, each 2.5 times longer); when the delays run
out, or the next try would come later than ``webhook_give_up_seconds`` (8 hours) after the update, MAX unsubscribes
the bot: the subscription and its undelivered updates are dropped, and long polling works again.

Each update is delivered on its own schedule (a failure does not hold back the updates after it). Timing runs on
the sandbox's monotonic clock, so a test with a fake clock drives redelivery by advancing it and calling
:meth:`WebhookDeliverer.deliver_pending`; under :func:`~._server.serve` a background thread calls it.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from ._api import drop_subscription
from ._core import MaxCore
from ._state import PendingDelivery, Subscription

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Max-Bot-Api-Secret"  # noqa: S105 - a header name, not a secret


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is not a 200: it fails the delivery instead of being followed."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


# No proxies from the environment: the sandbox talks to the subscriber directly, as MAX's servers would.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects())


def post_update(url: str, update: dict[str, Any], secret: str | None, timeout: float) -> int | None:
    """POST ``update`` to ``url``; the HTTP status, or None when no answer came."""
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "MAX sandbox webhook"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    data = json.dumps(update, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")  # noqa: S310 - http(s) only
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            response.read()
            status: int = response.status
            return status
    except urllib.error.HTTPError as error:
        error.close()
        return error.code
    except (OSError, ValueError) as error:
        logger.debug("webhook delivery to the subscriber failed: %s", type(error).__name__)
        return None


class WebhookDeliverer:
    """Delivers the core's outbox; one pump at a time, never holding the sandbox's lock while it POSTs."""

    def __init__(self, core: MaxCore, timeout: float) -> None:
        self._core = core
        self._timeout = timeout
        self._pump = threading.Lock()

    def deliver_pending(self) -> int:
        """Try every update whose delivery is due, once each; return how many the webhook accepted."""
        core = self._core
        delivered = 0
        with self._pump:
            with core.lock:
                subscription = core.state.subscription
                now = core.clock()
                due = [p for p in core.state.outbox if p.due_at <= now]
            for pending in due:
                with core.lock:
                    if core.state.subscription is not subscription or pending not in core.state.outbox:
                        break
                assert subscription is not None
                status = post_update(subscription.url, pending.update, subscription.secret, self._timeout)
                with core.lock:
                    if core.state.subscription is not subscription:
                        break
                    if status == 200:
                        core.state.outbox.remove(pending)
                        delivered += 1
                    if not self._record(subscription, pending, status):
                        break
        return delivered

    def _record(self, subscription: Subscription, pending: PendingDelivery, status: int | None) -> bool:
        """Log one attempt and schedule what follows; False if the bot was unsubscribed."""
        core = self._core
        pending.attempts += 1
        core.webhook_log.append(
            {
                "event": "attempt",
                "url": subscription.url,
                "update_type": pending.update["update_type"],
                "attempt": pending.attempts,
                "status": status,
            }
        )
        if status == 200:
            return True
        retry = pending.attempts - 1
        now = core.clock()
        delays = core.webhook_retry_delays
        if retry >= len(delays) or now + delays[retry] - pending.first_at > core.webhook_give_up_seconds:
            drop_subscription(core, f"{pending.attempts} failed deliveries of one update: MAX unsubscribes the bot")
            return False
        pending.due_at = now + delays[retry]
        return True


class DeliveryThread:
    """Calls ``deliver`` whenever an update is queued, and every ``interval`` seconds for redeliveries."""

    def __init__(self, core: MaxCore, deliver: Callable[[], int], interval: float = 0.2) -> None:
        self._core = core
        self._deliver = deliver
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="max-sandbox-webhooks", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        wakeup = self._core.webhook_wakeup
        while not self._stop.is_set():
            wakeup.wait(self._interval)
            wakeup.clear()
            if self._stop.is_set():
                return
            try:
                self._deliver()
            except Exception:  # a broken delivery must not end the thread
                logger.exception("webhook delivery failed")

    def stop(self) -> None:
        self._stop.set()
        self._core.webhook_wakeup.set()
        if self._thread.is_alive():
            self._thread.join()
