"""How MAX's events reach the inbox (:mod:`sferum_plugin.services.inbox`): the webhook, long polling, and the
subscription that makes MAX post to the webhook.

- **Webhook** (``max_updates="webhook"``): MAX POSTs each update to «Публичный адрес для webhook» with the secret in
  ``X-Max-Bot-Api-Secret``.  :func:`receive_webhook` accepts it only while MAX is chosen with webhook delivery and
  the header equals the stored secret (compared in constant time), stores it and answers 200 at once — no call to
  MAX inside the request.  The secret is never logged.
- **Subscription**: :func:`keep_subscription` (a job) makes sure MAX's subscription for the address exists, and
  re-subscribes when MAX dropped it (MAX unsubscribes a bot after failed redeliveries over 8 hours) or when it is
  older than :data:`RESUBSCRIBE_AFTER` (so a changed secret reaches MAX without anyone pressing a button); with
  long polling chosen it removes the bot's subscriptions, since MAX refuses long polling while one exists.
  «Проверить подключение» does the same at once and says how it went (:func:`check_events`).
- **Long polling** (``max_updates="polling"``): :func:`poll_updates` (a job) asks ``GET /updates`` from the
  ``marker`` kept in the MAX account's sync service row, and stores the page and the next marker in one
  transaction: a crash before the commit repeats the page (the inbox ignores what it already has), a crash after
  it loses nothing, because MAX forgets earlier updates only when the next marker is passed.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

import attrs
from sqlalchemy import update
from sqlalchemy.orm import Session

from hookspecs.services import Host
from hookspecs.types import JobContext
from sferum_plugin import MODULE_NAME
from sferum_plugin.account import Account
from sferum_plugin.gateway.connector import CHECK_POLICY
from sferum_plugin.gateway.errors import SferumError
from sferum_plugin.gateway.max import PRODUCT_UPDATE_TYPES, MaxClient, MaxMethodNotAllowedError, UpdatesPage
from sferum_plugin.models import SferumSyncService
from sferum_plugin.services.connection import SferumAccess, max_config
from sferum_plugin.services.explain import max_events_text
from sferum_plugin.services.inbox import store_update
from sferum_plugin.services.sync.queue import service_row
from sferum_plugin.settings import POLLING, WEBHOOK, MaxSettings

__all__ = [
    "MAX_UPDATE_BYTES",
    "POLL_PAGES",
    "RESUBSCRIBE_AFTER",
    "SECRET_HEADER",
    "SubscriptionState",
    "WebhookAnswer",
    "check_events",
    "ensure_subscription",
    "keep_subscription",
    "poll_once",
    "poll_updates",
    "receive_webhook",
    "save_page",
]

logger = logging.getLogger(__name__)

SECRET_HEADER = "x-max-bot-api-secret"  # noqa: S105 - the header's name (lower case, as the host passes it)
MAX_UPDATE_BYTES = 256 * 1024
"""The largest webhook body accepted (the host answers 413 beyond it): an update of the types the module subscribes
to is a few kilobytes."""
RESUBSCRIBE_AFTER = timedelta(hours=1)
POLL_PAGES = 10
"""Pages one run of the polling job reads at most (100 updates each); the next run goes on from the marker."""


# -- the webhook ------------------------------------------------------------------------------------------------


@attrs.frozen
class WebhookAnswer:
    """What the webhook route answers MAX: a status and a short JSON body."""

    status: int
    message: str

    @property
    def body(self) -> str:
        return json.dumps({"ok": self.status == 200, "message": self.message})


def receive_webhook(host: Host, *, secret: str | None, body: bytes) -> WebhookAnswer:
    """MAX's POST of one update: check the secret, read the JSON, store it in the inbox (once), answer.

    404 while the module does not take webhooks (another platform, long polling, no secret stored); 401 without the
    header, 403 with a wrong one; 400 for a body that is not a JSON object with an ``update_type``.  Nothing is
    stored unless the answer is 200.
    """
    settings = MaxSettings.from_stored(host.settings.get(MODULE_NAME))
    if settings is None or settings.updates != WEBHOOK or not settings.webhook_secret:
        return WebhookAnswer(404, "webhook delivery is not enabled")
    if not secret:
        return WebhookAnswer(401, "secret header missing")
    if not hmac.compare_digest(settings.webhook_secret.encode("utf-8"), secret.encode("utf-8", "surrogateescape")):
        logger.warning("MAX webhook: refused a request with a wrong secret")
        return WebhookAnswer(403, "wrong secret")
    if len(body) > MAX_UPDATE_BYTES:
        return WebhookAnswer(413, "update too large")
    update = _read_body(body)
    if update is None:
        return WebhookAnswer(400, "not an update")
    with host.db.session() as session:
        stored = store_update(session, settings.account.platform, update, host.clock.now())
    logger.debug("MAX webhook: %s %s", update["update_type"], "stored" if stored else "already stored")
    return WebhookAnswer(200, "stored" if stored else "duplicate")


def _read_body(body: bytes) -> dict[str, object] | None:
    """The update as a JSON object with a non-empty ``update_type`` string, or ``None``."""
    try:
        value = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(value, dict):
        return None
    kind = value.get("update_type")
    if not isinstance(kind, str) or not 1 <= len(kind) <= 64:
        return None
    return value


# -- the subscription -------------------------------------------------------------------------------------------


@attrs.frozen
class SubscriptionState:
    """What :func:`ensure_subscription` found and did.

    :param mode: ``webhook`` or ``polling``, as the settings choose.
    :param url: the webhook address (``""`` with long polling).
    :param subscribed: whether it (re-)subscribed the address just now.
    :param removed: the addresses it unsubscribed.
    """

    mode: str
    url: str = ""
    subscribed: bool = False
    removed: tuple[str, ...] = ()


def ensure_subscription(
    client: MaxClient, settings: MaxSettings, now: datetime | None, *, refresh: bool = False
) -> SubscriptionState:
    """Make MAX's subscriptions match the settings: with webhook, one for «Публичный адрес для webhook» with the
    secret (subscribed when missing, when it lacks one of the module's update types, when older than
    :data:`RESUBSCRIBE_AFTER`, or always with ``refresh``), none for other addresses; with long polling, none.

    :raises SferumError: MAX refused or did not answer (the caller words it, :mod:`~sferum_plugin.services.explain`).
    """
    current = client.subscriptions()
    wanted = settings.webhook_url if settings.updates == WEBHOOK else ""
    removed = tuple(sub.url for sub in current if sub.url != wanted)
    for url in removed:
        client.unsubscribe(url)
    if not wanted:
        return SubscriptionState(mode=POLLING, removed=removed)
    ours = next((sub for sub in current if sub.url == wanted), None)
    stale = ours is None or refresh
    if ours is not None and ours.update_types is not None:
        stale = stale or not set(PRODUCT_UPDATE_TYPES) <= set(ours.update_types)
    if ours is not None and now is not None:
        stale = stale or now.timestamp() * 1000 - ours.time >= RESUBSCRIBE_AFTER.total_seconds() * 1000
    if stale:
        client.subscribe(wanted, settings.webhook_secret)
    return SubscriptionState(mode=WEBHOOK, url=wanted, subscribed=stale, removed=removed)


def check_events(settings: MaxSettings, sferum: SferumAccess, locale: str) -> tuple[bool, str]:
    """«Проверить подключение» on MAX's events: subscribe again at once (so a changed secret or address reaches MAX
    now), or remove the subscriptions with long polling; whether it went well, and the verdict in words."""
    if settings.updates == WEBHOOK and not (settings.webhook_url and settings.webhook_secret):
        return False, max_events_text(locale, url="", incomplete=True)
    try:
        with sferum.connector.connect_max(max_config(settings), settings.bot_token, retry=CHECK_POLICY) as client:
            state = ensure_subscription(client, settings, None, refresh=True)
    except SferumError as error:
        logger.warning("MAX webhook subscription check failed: %s", type(error).__name__)
        return False, max_events_text(locale, url=settings.webhook_url, error=error)
    return True, max_events_text(locale, url=state.url)


def keep_subscription(context: JobContext, *, sferum: SferumAccess) -> None:
    """The job: :func:`ensure_subscription` while MAX is chosen (with webhook and its address and secret filled in,
    or with long polling)."""
    settings = MaxSettings.from_stored(context.host.settings.get(MODULE_NAME))
    if settings is None or (settings.updates == WEBHOOK and not (settings.webhook_url and settings.webhook_secret)):
        return
    with sferum.bot(settings) as client:
        state = ensure_subscription(client, settings, context.now)
    if state.subscribed or state.removed:
        logger.info(
            "MAX webhook subscription: %s%s",
            "subscribed" if state.subscribed else "kept",
            f", removed {len(state.removed)} other subscription(s)" if state.removed else "",
        )


# -- long polling -----------------------------------------------------------------------------------------------


def poll_updates(context: JobContext, *, sferum: SferumAccess) -> None:
    """The job: while MAX is chosen with long polling, read ``GET /updates`` into the inbox (nothing otherwise)."""
    settings = MaxSettings.from_stored(context.host.settings.get(MODULE_NAME))
    if settings is None or settings.updates != POLLING:
        return
    with sferum.bot(settings) as client:
        for _ in range(POLL_PAGES):
            try:
                more = poll_once(context.host, client, settings.account, context.now)
            except MaxMethodNotAllowedError:
                # MAX refuses long polling while the bot has a webhook subscription (left from webhook mode):
                # remove it now rather than at the subscription job's next run; the next poll works.
                logger.info("MAX long polling refused while a webhook subscription exists: unsubscribing")
                ensure_subscription(client, settings, context.now)
                return
            if not more:
                return


def poll_once(host: Host, client: MaxClient, account: Account, now: datetime) -> bool:
    """Read one page from the stored marker and store it with the next marker; whether another page may follow."""
    with host.db.session() as session:
        marker = service_row(session, account).updates_marker
    page = client.get_updates(marker, timeout=0)
    with host.db.session() as session:
        save_page(session, account, marker, page, now)
    return bool(page.bodies) and page.marker is not None and page.marker != marker


def save_page(session: Session, account: Account, marker: int | None, page: UpdatesPage, now: datetime) -> int:
    """Store ``page``'s updates and move the marker from ``marker`` to the page's, in the caller's transaction.

    The marker moves only from the value this poll started with: if another process moved it meanwhile, that one
    stored the same page, and the updates stored here are duplicates the inbox ignored.  Returns how many were new.
    """
    new = 0
    for body in page.bodies:
        if isinstance(body, Mapping):
            new += store_update(session, account.platform, body, now)
        else:
            logger.warning("MAX long polling: an item of the page is not an object; skipped")
    if page.marker is not None and page.marker != marker:
        service_row(session, account)  # exists from here on
        session.execute(
            update(SferumSyncService)
            .where(*account.owns(SferumSyncService), SferumSyncService.updates_marker.is_not_distinct_from(marker))
            .values(updates_marker=page.marker)
            .execution_options(synchronize_session=False)
        )
    return new
