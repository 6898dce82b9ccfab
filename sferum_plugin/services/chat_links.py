"""«Открыть в Сферум»: the chat's own link, asked of Sferum the first time someone opens the chat, kept encrypted.

The address of a conversation in Sferum's web client is not part of the API, so the module does not guess one.
It asks Sferum for the chat's invite link (``messages.getInviteLink``, on behalf of the organisation account,
which owns every chat the module creates); the link opens the chat for its members.  An invite link lets anyone
who has it join the chat, so no page shows it: lists and pages link to the module's own address (the ``chat_open``
route), which checks that the viewer may open the chat and only then redirects.  The link is stored encrypted
(Fernet, with a key derived by HKDF-SHA256 from the «Токен приложения», which the host keeps encrypted at rest); after
the token changes the stored link no longer decrypts and is simply asked for again.
"""

from __future__ import annotations

import base64
import logging
from typing import Protocol
from urllib.parse import urlsplit

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select

from hookspecs.services import Database
from hookspecs.types import Viewer
from sferum_plugin.account import Account
from sferum_plugin.gateway.errors import ChatNotFoundError, MalformedResponseError
from sferum_plugin.models import ProfileLink, SferumChat, SferumChatMember

__all__ = ["InviteApi", "invite_link", "may_open", "seal", "unseal"]

logger = logging.getLogger(__name__)

_KDF_INFO = b"sferum-plugin chat invite links v1"


class InviteApi(Protocol):
    """What opening a chat needs of Sferum (the gateway's ``SferumClient`` has it)."""

    def get_invite_link(self, chat_id: int, *, reset: bool = False) -> str:
        """``messages.getInviteLink`` for the chat."""
        ...


def may_open(db: Database, chat_pk: int, viewer: Viewer, *, account: Account) -> bool:
    """Whether ``viewer`` may open chat ``chat_pk``: only its members (as Sferum last listed them, through the
    viewer's linked profile).  Not even chat managers otherwise: the invite link would let them join any chat, and
    a managed person who is not desired in a chat is removed from it by the next sync anyway."""
    with db.session() as session:
        chat = session.get(SferumChat, chat_pk)
        if chat is None or not account.holds(chat) or chat.state != "active" or chat.chat_id is None:
            return False
        member = session.scalar(
            select(SferumChatMember.chat_pk)
            .join(ProfileLink, ProfileLink.sferum_user_id == SferumChatMember.sferum_user_id)
            .where(
                SferumChatMember.chat_pk == chat_pk,
                *account.owns(ProfileLink),
                ProfileLink.user_id == viewer.user_id,
            )
            .limit(1)
        )
        return member is not None


def invite_link(db: Database, api: InviteApi, chat_pk: int, *, app_token: str) -> str:
    """The chat's invite link: the stored one, or Sferum's (then stored).

    :raises ChatNotFoundError: the chat is gone from Sferum (927); the row is marked ``vanished``.
    :raises SferumError: Sferum could not be asked (the caller shows the reason; nothing is stored).
    """
    fernet = _fernet(app_token)
    with db.session() as session:
        chat = session.get(SferumChat, chat_pk)
        if chat is None or chat.chat_id is None:
            raise LookupError(f"chat row {chat_pk} has no Sferum chat")
        chat_id, stored = chat.chat_id, chat.invite_link
    if stored:
        try:
            return fernet.decrypt(stored.encode("ascii")).decode("utf-8")
        except (InvalidToken, ValueError):
            logger.info("stored invite link of chat row %s does not decrypt (token changed?): asking again", chat_pk)
    try:
        link = api.get_invite_link(chat_id)
    except ChatNotFoundError:
        with db.session() as session:
            chat = session.get(SferumChat, chat_pk)
            if chat is not None and chat.state == "active":
                chat.state, chat.error, chat.invite_link = "vanished", "Чат удалён в Сферуме.", None
        raise
    if urlsplit(link).scheme not in ("https", "http"):
        raise MalformedResponseError("messages.getInviteLink returned a link that is not a web address")
    with db.session() as session:
        chat = session.get(SferumChat, chat_pk)
        if chat is not None and chat.chat_id == chat_id:
            chat.invite_link = fernet.encrypt(link.encode("utf-8")).decode("ascii")
    return link


def seal(link: str, secret: str) -> str:
    """``link`` encrypted for the ``invite_link`` column with a key derived from ``secret`` (the platform's token:
    VK's «Токен приложения», MAX's «Токен бота»)."""
    return _fernet(secret).encrypt(link.encode("utf-8")).decode("ascii")


def unseal(stored: str | None, secret: str) -> str | None:
    """The link :func:`seal` stored, or ``None`` when there is none or it no longer decrypts (the token changed)."""
    if not stored:
        return None
    try:
        return _fernet(secret).decrypt(stored.encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError):
        return None


def _fernet(app_token: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KDF_INFO).derive(app_token.encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(key))
