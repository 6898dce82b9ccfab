"""Educational profiles on MAX: the bot's deep link instead of VK ID.

MAX has no OAuth for bots.  A person proves who they are in MAX by opening the bot's deep link
``https://max.ru/<bot>?start=<payload>`` and pressing Start: MAX then sends the bot ``bot_started`` with the
payload and the person's ``user_id`` (the schema's "Deep linking").  So «Создать учебный профиль Сферум» on MAX:

1. :func:`start_max_linking` makes a random one-time payload bound to the LMS account that asked, keeps only its
   hash in a :class:`~sferum_plugin.models.LinkRequest` row of the MAX account (no PKCE verifier, no redirect), and
   returns the deep link, its QR code and the request's id.  The payload appears only in the deep link (and its QR
   code) on the page that asked; never in the module's own URLs, the session or the logs.
2. The person opens the link in MAX and presses Start.  :func:`on_bot_started` (a handler of the MAX inbox) finds the
   request by the payload's hash, marks it used — whatever happens next, a payload works once — and links the
   person's MAX ``user_id`` to that LMS account with the same rules as VK ID (:func:`profiles.store_link`: one MAX
   account per LMS account and the other way round; the outbox's ``ProfileEvent`` for the sync).
3. The page polls :func:`link_status` (its own request only) and says «Профиль связан», or why not.

A used request keeps the outcome of ``bot_started`` (:data:`LINKED`, :data:`TAKEN` or :data:`EXPIRED`) in its
``outcome`` column, for the page.  Administrators unlink MAX profiles on the same page as VK ones.
"""

from __future__ import annotations

import io
import logging
import secrets
from datetime import datetime

import attrs
import qrcode  # type: ignore[import-untyped]  # no py.typed; used in qr_svg only
import qrcode.image.svg  # type: ignore[import-untyped]
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from hookspecs.services import Database
from sferum_plugin.account import Account
from sferum_plugin.gateway.max import DEEP_LINK_PAYLOAD_MAX_LENGTH, BotStartedUpdate, MaxBot
from sferum_plugin.i18n import N_, gettext
from sferum_plugin.models import LinkRequest, ProfileLink
from sferum_plugin.services.events import EventContext
from sferum_plugin.services.profiles import LINK_REQUEST_TTL, LinkFailed, secret_hash, store_link

__all__ = [
    "EXPIRED",
    "LINKED",
    "PAYLOAD_PREFIX",
    "PENDING",
    "TAKEN",
    "WAITING",
    "DeepLinkStart",
    "LinkStatus",
    "begin_max_link",
    "link_status",
    "on_bot_started",
    "qr_svg",
    "start_max_linking",
]

logger = logging.getLogger(__name__)

PAYLOAD_PREFIX = "profile-"
"""How the module's profile payloads start: a ``bot_started`` with another payload (or none) is not a link."""

PENDING, LINKED, TAKEN, EXPIRED = "pending", "linked", "taken", "expired"
"""What became of a request: waiting for Start; linked; refused, the MAX account is another LMS account's; too late."""

_TEXTS = {
    PENDING: N_("Откройте ссылку в MAX и нажмите «Начать». Эта страница заметит это сама."),
    LINKED: N_("Профиль связан: %(name)s."),
    TAKEN: N_(
        "Этот профиль MAX уже привязан к другой учётной записи ЛК, поэтому профиль не связан. Откройте ссылку из "
        "своего профиля MAX или обратитесь к администратору."
    ),
    EXPIRED: N_("Время на подтверждение истекло: начните создание профиля заново."),
}
WAITING = _TEXTS[PENDING]
"""What the page says until the person presses Start."""
_NO_USERNAME = N_(
    "У бота MAX нет имени пользователя, поэтому у него нет ссылки для привязки профиля. Сообщите администратору."
)


@attrs.frozen
class DeepLinkStart:
    """What the page shows: the deep link carrying the payload, its QR code, and the request to poll.

    :param deep_link: ``https://max.ru/<bot>?start=<payload>``: the only place the payload appears.
    :param qr_svg: the deep link as a QR code, an SVG element (attributes only: no ``style``, no script).
    :param request_id: the :class:`LinkRequest`'s id, for the status endpoint (not a secret: only its owner may ask).
    """

    deep_link: str = attrs.field(repr=False)
    qr_svg: str = attrs.field(repr=False)
    request_id: int
    expires_at: datetime


@attrs.frozen
class LinkStatus:
    """What became of a request: ``state`` is :data:`PENDING`, :data:`LINKED`, :data:`TAKEN` or :data:`EXPIRED`;
    ``message`` a Russian source string with ``%(name)s`` (the linked profile's name)."""

    state: str
    message: str
    name: str = ""

    @property
    def done(self) -> bool:
        """Whether the page may stop asking."""
        return self.state != PENDING

    def text(self, locale: str) -> str:
        """The message in ``locale``, with the profile's name."""
        return gettext(locale, self.message) % {"name": self.name}


def new_payload() -> str:
    """A fresh one-time payload: the prefix and 256 random bits, URL-safe, far below MAX's 512 characters."""
    payload = PAYLOAD_PREFIX + secrets.token_urlsafe(32)
    assert len(payload) <= DEEP_LINK_PAYLOAD_MAX_LENGTH
    return payload


def qr_svg(text: str) -> str:
    """``text`` as a QR code: an ``<svg>`` element with a white quiet zone, to put into a page as it is."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathFillImage, border=4)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    return svg[svg.index("<svg") :]  # without the XML declaration


def begin_max_link(session: Session, *, user_id: int, account: Account, now: datetime) -> tuple[str, int]:
    """Store a new request of ``user_id`` (only the payload's hash); returns the payload and the request's id."""
    payload = new_payload()
    session.execute(delete(LinkRequest).where(LinkRequest.user_id == user_id, LinkRequest.expires_at < now))
    request = LinkRequest(
        state_hash=secret_hash(payload),
        user_id=user_id,
        **account.columns(),
        code_verifier="",
        redirect_uri="",
        created_at=now,
        expires_at=now + LINK_REQUEST_TTL,
    )
    session.add(request)
    session.flush()
    return payload, request.id


def start_max_linking(db: Database, bot: MaxBot, *, user_id: int, account: Account, now: datetime) -> DeepLinkStart:
    """«Создать учебный профиль Сферум» on MAX: a new request in a transaction of its own, and what the page shows.

    :raises LinkFailed: the bot has no username, so no deep link (nothing is stored then).
    """
    if not bot.username:
        raise LinkFailed(_NO_USERNAME)
    with db.session() as session:
        payload, request_id = begin_max_link(session, user_id=user_id, account=account, now=now)
    link = bot.deep_link(payload)
    return DeepLinkStart(deep_link=link, qr_svg=qr_svg(link), request_id=request_id, expires_at=now + LINK_REQUEST_TTL)


def _display_name(update: BotStartedUpdate) -> str:
    user = update.user
    return " ".join(part for part in (user.first_name, user.last_name) if part) or (user.username or "")


def on_bot_started(context: EventContext, update: BotStartedUpdate) -> None:
    """A person pressed Start in the bot's dialog: link their MAX account if the payload is a request of ours.

    The request is used up whatever the outcome, and the outcome is recorded for the page.  A payload that is not
    ours, unknown, used or another account's is ignored (the inbox hands each update over once).

    :raises LinkFailed: only when another transaction linked the same MAX account at the same moment (the session
        must then be rolled back); the inbox tries the update again later, and it is refused and recorded then.
    """
    payload = update.payload or ""
    if not payload.startswith(PAYLOAD_PREFIX):
        return  # Start without a link, or a link the module did not make
    session, account, now = context.session, context.account, context.now
    request = session.scalar(
        select(LinkRequest).where(LinkRequest.state_hash == secret_hash(payload)).with_for_update()
    )
    if request is None or not account.holds(request) or request.used_at is not None:
        logger.info("bot_started from MAX user %s with an unknown or used link payload", update.user.user_id)
        return
    request.used_at = now
    if request.expires_at < now:
        request.outcome = EXPIRED
        logger.info("MAX user %s pressed Start after the link of user %s expired", update.user.user_id, request.user_id)
        return
    try:
        store_link(
            session,
            user_id=request.user_id,
            account=account,
            sferum_user_id=update.user.user_id,
            name=_display_name(update),
            now=now,
        )
    except LinkFailed:
        if not session.is_active:
            # A concurrent link of the same MAX account won the race at the flush: this transaction is lost. Raise,
            # so that the inbox tries the update again; the check then refuses it before writing anything.
            raise
        request.outcome = TAKEN
        logger.info("MAX user %s is linked to another account; user %s refused", update.user.user_id, request.user_id)
        return
    request.outcome = LINKED


def link_status(db: Database, *, request_id: int, user_id: int, account: Account, now: datetime) -> LinkStatus | None:
    """What became of ``user_id``'s request ``request_id``; ``None`` for a request that is not theirs (or gone)."""
    with db.session() as session:
        request = session.get(LinkRequest, request_id)
        if request is None or request.user_id != user_id or not account.holds(request):
            return None
        if request.used_at is None:
            state = EXPIRED if request.expires_at < now else PENDING
        else:
            state = request.outcome if request.outcome in _TEXTS else EXPIRED
        name = ""
        if state == LINKED:
            link = session.scalar(select(ProfileLink).where(*account.owns(ProfileLink), ProfileLink.user_id == user_id))
            name = link.display_name if link is not None else ""
    return LinkStatus(state=state, message=_TEXTS[state], name=name)
