"""Educational profiles: link an LMS account to a Sferum profile through VK ID (OAuth 2.1, PKCE).

The flow («Создать учебный профиль Сферум»):

1. :func:`begin_link` makes a random ``state`` and PKCE verifier, keeps the verifier on the server (the
   ``sferum_link_requests`` row, found by the state's hash) and returns the VK ID authorize URL. The state is also
   put into the viewer's session, which binds the flow to that browser.
2. VK ID sends the browser back with ``code``, ``state`` and ``device_id``. :func:`complete_link` checks the state
   against the session and the stored request (same user, unused, not expired), marks the request used *before*
   exchanging the code (so a replay is refused even if the exchange fails), exchanges the code with the verifier,
   and stores the link. The user's Sferum access token is used once, to read the profile's name, and never stored.

Linking and unlinking write a :class:`~sferum_plugin.models.ProfileEvent` in the same transaction, for the chat
membership service.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Protocol

import attrs
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hookspecs.services import Database, Host
from sferum_plugin.account import Account
from sferum_plugin.gateway.errors import SferumError, VkIdError
from sferum_plugin.i18n import N_
from sferum_plugin.models import LinkRequest, ProfileEvent, ProfileLink

__all__ = [
    "LINK_REQUEST_TTL",
    "LinkFailed",
    "LinkStart",
    "LinkedProfile",
    "LinkedProfileRow",
    "ProfileApi",
    "begin_link",
    "complete_link",
    "linked_profiles",
    "links_by_user",
    "remove_link",
    "secret_hash",
    "start_linking",
    "store_link",
    "unlink",
]

logger = logging.getLogger(__name__)

LINK_REQUEST_TTL = timedelta(minutes=10)
"""How long a started link may take; VK ID's own codes live for minutes, not hours."""


class ProfileApi(Protocol):
    """What linking needs of the gateway: VK ID and one profile lookup."""

    def new_verifier(self) -> str:
        """A fresh PKCE code verifier (43-128 unreserved characters)."""
        ...

    def authorize_url(self, *, state: str, code_verifier: str, redirect_uri: str) -> str:
        """The VK ID authorize URL with the S256 challenge of ``code_verifier``."""
        ...

    def exchange(self, *, code: str, code_verifier: str, device_id: str, redirect_uri: str) -> tuple[int, str]:
        """Exchange ``code``; returns the Sferum user id and that user's profile name."""
        ...


class LinkFailed(Exception):
    """The link could not be made; ``reason`` is shown to the user, nothing was stored."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@attrs.frozen
class LinkedProfile:
    """The Sferum profile a user has just linked."""

    sferum_user_id: int
    display_name: str


@attrs.frozen
class LinkStart:
    """Where to send the browser, and the state to keep in its session."""

    authorize_url: str = attrs.field(repr=False)
    state: str = attrs.field(repr=False)


def secret_hash(secret: str) -> str:
    """What is stored of a one-time secret (a VK ID ``state``, a MAX deep link's payload): its SHA-256, in hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


def begin_link(
    session: Session, api: ProfileApi, *, user_id: int, account: Account, redirect_uri: str, now: datetime
) -> LinkStart:
    """Start linking the profile of ``user_id``; the caller keeps ``state`` in the viewer's session."""
    state = secrets.token_urlsafe(32)
    verifier = api.new_verifier()
    # Old unfinished requests of this user are of no use any more; keep the table small.
    session.execute(delete(LinkRequest).where(LinkRequest.user_id == user_id, LinkRequest.expires_at < now))
    session.add(
        LinkRequest(
            state_hash=secret_hash(state),
            user_id=user_id,
            **account.columns(),
            code_verifier=verifier,
            redirect_uri=redirect_uri,
            created_at=now,
            expires_at=now + LINK_REQUEST_TTL,
        )
    )
    url = api.authorize_url(state=state, code_verifier=verifier, redirect_uri=redirect_uri)
    return LinkStart(authorize_url=url, state=state)


def complete_link(
    db: Database,
    api: ProfileApi,
    *,
    user_id: int,
    account: Account,
    state: str,
    session_state: str | None,
    code: str,
    device_id: str,
    error: str = "",
    now: datetime,
) -> LinkedProfile:
    """Finish the link after VK ID's redirect.

    The request is consumed in its own transaction before anything else can fail, so a replayed redirect is
    refused even when the first attempt failed.

    :raises LinkFailed: missing, forged, replayed or expired ``state``; consent cancelled; an error from VK ID; the
        profile already linked to another account. Nothing is linked then.
    """
    forged = N_("Ссылка устарела или подделана: начните создание профиля заново.")
    if not state or session_state is None or not secrets.compare_digest(state, session_state):
        raise LinkFailed(forged)
    with db.session() as session:
        request = session.scalar(
            select(LinkRequest).where(LinkRequest.state_hash == secret_hash(state)).with_for_update()
        )
        if request is None or request.user_id != user_id or not account.holds(request):
            raise LinkFailed(forged)
        if request.used_at is not None:
            raise LinkFailed(N_("Эта ссылка уже использована: начните создание профиля заново."))
        request.used_at = now
        expired = request.expires_at < now
        verifier, redirect_uri = request.code_verifier, request.redirect_uri
    if expired:
        raise LinkFailed(N_("Время на подтверждение истекло: начните создание профиля заново."))
    if error:
        if error == "access_denied":
            raise LinkFailed(N_("Вы отменили создание учебного профиля. Профиль не привязан."))
        raise LinkFailed(N_("VK ID вернул ошибку. Профиль не привязан, попробуйте ещё раз."))
    if not code:
        raise LinkFailed(N_("VK ID не передал код подтверждения. Попробуйте ещё раз."))
    try:
        sferum_user_id, name = api.exchange(
            code=code, code_verifier=verifier, device_id=device_id, redirect_uri=redirect_uri
        )
    except VkIdError as exc:
        logger.info("VK ID refused the code for user %s: %s", user_id, exc)
        raise LinkFailed(N_("VK ID не подтвердил вход. Профиль не привязан, попробуйте ещё раз.")) from None
    except SferumError as exc:
        logger.warning("linking profile of user %s failed: %s", user_id, exc)
        raise LinkFailed(N_("Сферум не отвечает. Профиль не привязан, попробуйте позже.")) from None
    with db.session() as session:
        store_link(session, user_id=user_id, account=account, sferum_user_id=sferum_user_id, name=name, now=now)
    return LinkedProfile(sferum_user_id=sferum_user_id, display_name=name)


def store_link(
    session: Session, *, user_id: int, account: Account, sferum_user_id: int, name: str, now: datetime
) -> ProfileLink:
    """Link ``user_id`` to the platform's user ``sferum_user_id`` (replacing the user's earlier link), with the
    outbox's events, in ``session``.

    :raises LinkFailed: the platform's user is linked to another LMS account. The check runs before anything is
        written, so ``session`` stays usable; a concurrent link that wins the race is found at the flush (then the
        session must be rolled back).
    """
    taken = session.scalar(
        select(ProfileLink).where(*account.owns(ProfileLink), ProfileLink.sferum_user_id == sferum_user_id)
    )
    if taken is not None and taken.user_id != user_id:
        raise LinkFailed(N_("Этот профиль Сферума уже привязан к другой учётной записи ЛК."))
    link = session.scalar(select(ProfileLink).where(*account.owns(ProfileLink), ProfileLink.user_id == user_id))
    if link is not None and link.sferum_user_id != sferum_user_id:
        session.add(ProfileEvent(kind="unlinked", user_id=user_id, sferum_user_id=link.sferum_user_id, created_at=now))
        link.sferum_user_id = sferum_user_id
    elif link is None:
        link = ProfileLink(**account.columns(), user_id=user_id, sferum_user_id=sferum_user_id)
        session.add(link)
    link.display_name = name[:255]
    link.linked_at = now
    session.add(ProfileEvent(kind="linked", user_id=user_id, sferum_user_id=sferum_user_id, created_at=now))
    try:
        session.flush()
    except IntegrityError:  # a concurrent link of the same profile won the race
        raise LinkFailed(N_("Этот профиль Сферума уже привязан к другой учётной записи ЛК.")) from None
    logger.info("user %s linked to Sferum user %s", user_id, sferum_user_id)
    return link


def unlink(session: Session, *, user_id: int, account: Account, now: datetime) -> bool:
    """Remove the link of ``user_id``; returns whether there was one."""
    link = session.scalar(select(ProfileLink).where(*account.owns(ProfileLink), ProfileLink.user_id == user_id))
    if link is None:
        return False
    session.add(ProfileEvent(kind="unlinked", user_id=user_id, sferum_user_id=link.sferum_user_id, created_at=now))
    session.delete(link)
    logger.info("user %s unlinked from Sferum", user_id)
    return True


def links_by_user(
    session: Session, *, account: Account, user_ids: Iterable[int] | None = None
) -> dict[int, ProfileLink]:
    """The links of the given users (all users when ``None``), in one query."""
    query = select(ProfileLink).where(*account.owns(ProfileLink))
    if user_ids is not None:
        query = query.where(ProfileLink.user_id.in_(list(user_ids)))
    return {link.user_id: link for link in session.scalars(query)}


def start_linking(
    db: Database, api: ProfileApi, *, user_id: int, account: Account, redirect_uri: str, now: datetime
) -> LinkStart:
    """:func:`begin_link` in a transaction of its own (what the «Создать учебный профиль Сферум» button does)."""
    with db.session() as session:
        return begin_link(session, api, user_id=user_id, account=account, redirect_uri=redirect_uri, now=now)


def remove_link(db: Database, *, user_id: int, account: Account, now: datetime) -> bool:
    """:func:`unlink` in a transaction of its own (an administrator's «Отвязать»)."""
    with db.session() as session:
        return unlink(session, user_id=user_id, account=account, now=now)


@attrs.frozen
class LinkedProfileRow:
    """One line of the administrators' list of linked profiles."""

    user_id: int
    name: str
    sferum_user_id: int
    display_name: str
    linked_at: datetime


def linked_profiles(host: Host, *, account: Account) -> list[LinkedProfileRow]:
    """Who is linked to which Sferum profile, by LMS account, with the account's name from the directory."""
    with host.db.session() as session:
        links = links_by_user(session, account=account)
        people = host.directory.people_by_user(links)
        rows = []
        for user_id, link in sorted(links.items()):
            records = people.get(user_id, ())
            rows.append(
                LinkedProfileRow(
                    user_id=user_id,
                    name=records[0].full_name if records else f"#{user_id}",
                    sferum_user_id=link.sferum_user_id,
                    display_name=link.display_name,
                    linked_at=link.linked_at,
                )
            )
    return rows
