"""«Отправить ссылку на чат» (MAX): a person MAX refused to add to a chat gets the chat's link from the bot.

MAX adds nobody whose privacy settings forbid it (``add.participant.privacy``): the sync records that person's add as
failed with the reason and does not try again blindly.  From the «Синхронизация чатов» page a chat manager can have
the bot send the person a message with the chat's link, so they join by themselves.  The bot can write to them: they
pressed «Начать» in it to link their profile.  The message is sent once per press, never repeated on a guess.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from hookspecs.services import Host
from sferum_plugin.account import Account
from sferum_plugin.gateway.errors import SferumError
from sferum_plugin.gateway.max import LinkButton, MaxSentMessage
from sferum_plugin.gateway.max.buttons import Button
from sferum_plugin.i18n import N_
from sferum_plugin.models import SferumChat, SferumSyncOperation
from sferum_plugin.services.chats import ChatRefused
from sferum_plugin.services.explain import chat_invite_failure
from sferum_plugin.services.max_chats import ChatCheckApi, chat_link

__all__ = ["INVITE_BUTTON", "INVITE_TEXT", "InviteApi", "invite_refused"]

INVITE_TEXT = N_(
    "Здравствуйте! Вас не удалось добавить в чат «%(title)s»: ваши настройки приватности в MAX не разрешают "
    "добавлять вас в чаты. Вступите в чат сами по кнопке ниже."
)
INVITE_BUTTON = N_("Вступить в чат")
NOT_INVITABLE = N_("Ссылку отправить нельзя: этого человека больше не нужно добавлять в чат, или чат не работает.")


class InviteApi(ChatCheckApi, Protocol):
    """What sending the link needs of MAX (the gateway's ``MaxClient`` has it)."""

    def send_message(
        self,
        text: str,
        *,
        user_id: int | None = None,
        chat_id: int | None = None,
        buttons: Sequence[Sequence[Button]] = (),
    ) -> MaxSentMessage: ...


def invite_refused(host: Host, api: InviteApi, op_id: int, *, account: Account, bot_token: str) -> None:
    """Have the bot send the person of the failed add ``op_id`` the link of its chat.

    :raises ChatRefused: the operation is not a failed add of a working chat of ``account``, or MAX refused to
        deliver the message (the reason in words; an ambiguous failure says to check before sending again).
    :raises ChatUnavailable: the chat has no link the bot can give (the bot is no longer in it).
    """
    with host.db.session() as session:
        op = session.get(SferumSyncOperation, op_id)
        chat = session.get(SferumChat, op.chat_pk) if op is not None else None
        if op is None or chat is None or not account.holds(chat) or chat.state != "active":
            raise ChatRefused(NOT_INVITABLE)
        if op.action != "add" or op.state != "failed":
            raise ChatRefused(NOT_INVITABLE)
        chat_pk, title, person = chat.id, chat.title, op.sferum_user_id
    link = chat_link(host.db, api, chat_pk, bot_token=bot_token)
    try:
        api.send_message(INVITE_TEXT % {"title": title}, user_id=person, buttons=((LinkButton(INVITE_BUTTON, link),),))
    except SferumError as error:
        raise ChatRefused(chat_invite_failure(error)) from error
