"""Chats on MAX (issue 12 item 4): created by a tap on a ``chat`` button, or linked when they already exist.

MAX's Bot API has no method that creates a chat.  A message with a ``chat`` button does: the first tap creates a
chat with the bot as administrator, and the bot receives ``message_chat_created`` with the button's
``start_payload``.  So asking for a chat on MAX records the row as on VK Messenger, with a random, unguessable
``marker`` as the button's payload and the state ``awaiting``, and the bot sends the button to the person who asked
(their MAX ``user_id`` is their linked profile's ``sferum_user_id``).  :func:`on_chat_created` ties the new chat to
the row by that payload, and queues a sync of the chat so its members are added within seconds.  The sync never
claims ``awaiting`` chats (they have no chat to sync yet).

Chats that exist already (carried over from VK Messenger in 2025) are linked by an administrator with
:func:`link_existing`, once MAX confirms the bot administers them with the right to add and remove members.  A chat
whose bot was removed (:func:`on_bot_removed`) says so; :func:`recheck` makes it active again once the bot is back.

The chat's MAX link (``Chat.link``) lets whoever has it join, so it is stored encrypted like VK's invite links
(:func:`sferum_plugin.services.chat_links.seal`) and never shown on a page: «Открыть в Сферум» redirects to it.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from hookspecs.services import Database, Host
from hookspecs.types import Viewer
from sferum_plugin import MODULE_NAME
from sferum_plugin.account import Account
from sferum_plugin.gateway.errors import SferumError
from sferum_plugin.gateway.max import ChatButton, MaxChat, MaxChatMember, MaxSentMessage
from sferum_plugin.gateway.max.buttons import Button
from sferum_plugin.gateway.max.errors import MaxForbiddenError, MaxNotFoundError
from sferum_plugin.gateway.max.updates import BotRemovedUpdate, MessageChatCreatedUpdate
from sferum_plugin.i18n import N_, gettext
from sferum_plugin.models import ProfileLink, SferumChat
from sferum_plugin.permissions import CHATS_MANAGE
from sferum_plugin.services.chat_links import seal, unseal
from sferum_plugin.services.chats import (
    TITLE_MAX,
    ChatAsk,
    ChatRefused,
    ChatRequest,
    ChatUnavailable,
    forget_members,
    may_create_group_chats,
    request_chat,
    request_group_chats,
    validate_title,
)
from sferum_plugin.services.events import EventContext
from sferum_plugin.services.explain import MAX_CHAT_PROBLEMS, Retry, chat_button_failure, explain
from sferum_plugin.services.sync.queue import enqueue
from sferum_plugin.settings import MaxSettings

if TYPE_CHECKING:
    from sferum_plugin.services.connection import SferumAccess

__all__ = [
    "AWAITING",
    "BOT_REMOVED",
    "BUTTONS_PER_MESSAGE",
    "NOT_LINKED",
    "ChatButtonApi",
    "ChatCheckApi",
    "button_text",
    "chat_link",
    "link_existing",
    "max_chat_link",
    "max_invite_refused",
    "max_link_existing",
    "max_recheck",
    "max_recreate",
    "max_request_chat",
    "max_request_group_chats",
    "max_resend",
    "new_marker",
    "on_bot_removed",
    "on_chat_created",
    "parse_chat_id",
    "recheck",
    "recreate_awaiting",
    "request_max_chat",
    "request_max_group_chats",
    "requester_max_id",
    "resend",
    "send_button",
    "send_buttons",
]

logger = logging.getLogger(__name__)

AWAITING = "awaiting"
"""The bot sent (or failed to send: ``error`` says why) the chat button; the chat does not exist yet."""
BOT_REMOVED = "bot_removed"
"""The bot was removed from the chat, or is no longer its administrator: the module cannot manage its members."""

_WAITING_FOR_TAP = (AWAITING, "creating")
_MARKER_BYTES = 18
"""24 URL-safe characters (144 random bits): fits the ``marker`` column (32) and a button's payload (512)."""
_CHAT_ID_DIGITS = 19
_WEB_HOST = "web.max.ru"

NOT_LINKED = N_(
    "Чат в MAX создаётся кнопкой, которую бот присылает вам в MAX, а ваш профиль MAX ещё не связан с личным "
    "кабинетом. Свяжите его на странице «Создать учебный профиль Сферум», затем попросите чат снова."
)
_BUTTON_TEXT = N_("Создать чат «%(title)s»")
_BUTTON_TEXT_MAX = 128
_BUTTON_MESSAGE = N_(
    "Чтобы создать в MAX чат «%(title)s», нажмите кнопку под этим сообщением. Бот станет администратором чата и "
    "сам добавит в него участников."
)
_BUTTONS_MESSAGE = N_(
    "Чтобы создать в MAX чаты учебных групп, нажмите под этим сообщением кнопку каждой группы. Бот станет "
    "администратором каждого чата и сам добавит в него участников."
)
BUTTONS_PER_MESSAGE = 30
"""Chat buttons in one message, one a row (MAX's bot documentation allows at most 30 rows of buttons; the schema
sets no limit)."""


class ChatButtonApi(Protocol):
    """What sending the chat button needs of MAX (the gateway's ``MaxClient`` has it)."""

    def send_message(
        self,
        text: str,
        *,
        user_id: int | None = None,
        chat_id: int | None = None,
        buttons: tuple[tuple[Button, ...], ...] = (),
    ) -> MaxSentMessage: ...


class ChatCheckApi(Protocol):
    """What checking a chat needs of MAX (the gateway's ``MaxClient`` has it)."""

    def get_chat(self, chat_id: int) -> MaxChat: ...

    def my_membership(self, chat_id: int) -> MaxChatMember: ...


def new_marker() -> str:
    """A random, unguessable ``start_payload`` tying a chat button to its row."""
    return secrets.token_urlsafe(_MARKER_BYTES)


def requester_max_id(db: Database, *, account: Account, user_id: int) -> int | None:
    """The MAX ``user_id`` of the LMS account ``user_id`` (its linked profile), or ``None`` when not linked."""
    with db.session() as session:
        return session.scalar(
            select(ProfileLink.sferum_user_id).where(*account.owns(ProfileLink), ProfileLink.user_id == user_id)
        )


def request_max_chat(host: Host, api: ChatButtonApi, viewer: Viewer, ask: ChatAsk, *, account: Account) -> ChatRequest:
    """Record the chat ``awaiting`` its button and have the bot send the button to ``viewer`` (or return the group's
    or unit's existing chat).  A failed send is recorded on the row (``error``) for the chat's page to show.

    :raises ChatRefused: the rules of :func:`~sferum_plugin.services.chats.request_chat`, or ``viewer`` has not
        linked a MAX profile (the bot has nobody to send the button to).
    """
    max_user_id = requester_max_id(host.db, account=account, user_id=viewer.user_id)
    made = request_chat(host, viewer, account=account, kind=ask.kind, target_id=ask.target_id, title=ask.title,
                        member_user_ids=ask.member_user_ids, state=AWAITING, marker=new_marker(),
                        refuse_new=None if max_user_id is not None else NOT_LINKED)  # fmt: skip
    if not made.existed and max_user_id is not None:
        send_button(host.db, api, made.chat_pk, account=account, max_user_id=max_user_id, locale=viewer.locale)
    return made


def request_max_group_chats(
    host: Host, api: ChatButtonApi, viewer: Viewer, group_ids: Sequence[int], *, account: Account
) -> list[ChatRequest]:
    """Chats for many groups at once on MAX: the rows are recorded ``awaiting`` and the bot sends ``viewer`` their
    buttons, :data:`BUTTONS_PER_MESSAGE` a message (the groups that have a chat keep it).

    :raises ChatRefused: the rules of :func:`~sferum_plugin.services.chats.request_group_chats`, or ``viewer`` has not
        linked a MAX profile.
    """
    if group_ids and not may_create_group_chats(host, viewer, group_ids):
        raise ChatRefused(N_("Недостаточно прав для создания этого чата."))
    max_user_id = requester_max_id(host.db, account=account, user_id=viewer.user_id)
    if max_user_id is None:
        raise ChatRefused(NOT_LINKED)
    made = request_group_chats(host, viewer, account=account, group_ids=group_ids, awaiting=new_marker)
    new = [request.chat_pk for request in made if not request.existed]
    send_buttons(host.db, api, new, account=account, max_user_id=max_user_id, locale=viewer.locale)
    return made


def button_text(locale: str, title: str) -> str:
    """The label of the chat button of the chat ``title`` (``Button.text``: at most 128 characters)."""
    text = gettext(locale, _BUTTON_TEXT) % {"title": title}
    return text if len(text) <= _BUTTON_TEXT_MAX else text[: _BUTTON_TEXT_MAX - 2] + "…»"


def send_button(
    db: Database, api: ChatButtonApi, chat_pk: int, *, account: Account, max_user_id: int, locale: str
) -> bool:
    """Send the chat button of the ``awaiting`` chat ``chat_pk`` to ``max_user_id``; return whether MAX took it.

    A failure is stored in the row's ``error`` (a source string of :mod:`~sferum_plugin.services.explain`) and the
    chat stays ``awaiting``, so the page offers «Отправить кнопку ещё раз»; a success clears it.
    """
    return send_buttons(db, api, [chat_pk], account=account, max_user_id=max_user_id, locale=locale) == 1


def send_buttons(
    db: Database, api: ChatButtonApi, chat_pks: Sequence[int], *, account: Account, max_user_id: int, locale: str
) -> int:
    """Send the chat buttons of the ``awaiting`` chats ``chat_pks`` to ``max_user_id``, one button a row and
    :data:`BUTTONS_PER_MESSAGE` a message; return how many buttons MAX took.  Failures as :func:`send_button`."""
    with db.session() as session:
        rows = session.execute(
            select(SferumChat.id, SferumChat.title, SferumChat.marker)
            .where(*account.owns(SferumChat), SferumChat.id.in_(list(chat_pks)), SferumChat.state == AWAITING)
            .order_by(SferumChat.title, SferumChat.id)
        ).all()
    outcomes: dict[int, str | None] = {}
    for start in range(0, len(rows), BUTTONS_PER_MESSAGE):
        chunk = rows[start : start + BUTTONS_PER_MESSAGE]
        buttons = tuple(
            (ChatButton(text=button_text(locale, title), chat_title=title, start_payload=marker),)
            for _, title, marker in chunk
        )
        one = gettext(locale, _BUTTON_MESSAGE) % {"title": chunk[0].title}
        text = one if len(chunk) == 1 else gettext(locale, _BUTTONS_MESSAGE)
        error: str | None = None
        try:
            api.send_message(text, user_id=max_user_id, buttons=buttons)
        except SferumError as failure:
            # Never the failure's text: the request it names carries the payloads.
            logger.warning("chat buttons of %d chat rows were not sent: %s", len(chunk), type(failure).__name__)
            error = chat_button_failure(failure).message
        outcomes.update({row.id: error for row in chunk})
    with db.session() as session:
        for chat in session.scalars(select(SferumChat).where(SferumChat.id.in_(list(outcomes)))):
            if chat.state == AWAITING:
                chat.error = outcomes[chat.id]
    return sum(1 for error in outcomes.values() if error is None)


def on_chat_created(context: EventContext, update: MessageChatCreatedUpdate) -> None:
    """``message_chat_created``: the person tapped the button; tie the new chat to the row awaiting it.

    The row is found by its marker among the account's chats awaiting a tap; an unknown payload, or one whose row
    has its chat already (a second chat from the same button), is ignored.  The chat's members are synced within
    seconds (a sync request for the chat).
    """
    payload = update.start_payload
    chat = None
    if payload:
        chat = context.session.scalar(
            select(SferumChat).where(
                *context.account.owns(SferumChat),
                SferumChat.marker == payload,
                SferumChat.state.in_(_WAITING_FOR_TAP),
            )
        )
    if chat is None:
        # Never the payload: it is the row's capability.
        logger.info("message_chat_created of MAX chat %s matches no chat awaiting its button: ignored",
                    update.chat.chat_id)  # fmt: skip
        return
    chat.chat_id, chat.state, chat.error, chat.needs_verify = update.chat.chat_id, "active", None, True
    chat.invite_link = _sealed(context.host, update.chat.link)
    enqueue(context.session, [f"chat:{chat.id}"], context.now)


def on_bot_removed(context: EventContext, update: BotRemovedUpdate) -> None:
    """``bot_removed``: the module can no longer manage the chat's members; its page says so and what to do."""
    chats = context.session.scalars(
        select(SferumChat).where(*context.account.owns(SferumChat), SferumChat.chat_id == update.chat_id)
    )
    for chat in chats:
        if chat.state == "active":
            chat.state, chat.error = BOT_REMOVED, MAX_CHAT_PROBLEMS["bot_removed"]


def _bot_token(host: Host) -> str | None:
    settings = MaxSettings.from_stored(host.settings.get(MODULE_NAME))
    return settings.bot_token if settings is not None else None


def _sealed(host: Host, link: str | None) -> str | None:
    token = _bot_token(host)
    return seal(link, token) if link and token else None


def parse_chat_id(raw: str) -> int | None:
    """A MAX chat id as typed (group chats' ids are negative): ASCII digits with an optional ``-``, or the chat's
    address in MAX's web version (``https://web.max.ru/-70000000000001``); ``None`` for anything else."""
    text = raw.strip()
    parts = urlsplit(text)
    if parts.scheme == "https" and parts.hostname == _WEB_HOST and not parts.query and not parts.fragment:
        text = parts.path.strip("/")
    digits = text[1:] if text.startswith("-") else text
    if not digits or len(digits) > _CHAT_ID_DIGITS or not digits.isascii() or not digits.isdigit():
        return None
    number = int(text)
    return number if -(2**63) <= number < 2**63 and number != 0 else None


def check_bot_admin(api: ChatCheckApi, chat_id: int) -> MaxChat:
    """The chat, once MAX confirms the bot administers it with the right to add and remove members.

    :raises ChatRefused: with what exactly is wrong (not found, a channel, the bot not in it, not administrator).
    :raises SferumError: MAX could not be asked (the caller explains it).
    """
    try:
        chat = api.get_chat(chat_id)
    except MaxNotFoundError:
        raise ChatRefused(MAX_CHAT_PROBLEMS["not_found"]) from None
    except MaxForbiddenError:
        raise ChatRefused(MAX_CHAT_PROBLEMS["bot_not_member"]) from None
    if chat.type == "channel":
        raise ChatRefused(MAX_CHAT_PROBLEMS["channel"])
    if not chat.bot_is_member:
        raise ChatRefused(MAX_CHAT_PROBLEMS["bot_not_member"])
    try:
        me = api.my_membership(chat_id)
    except (MaxNotFoundError, MaxForbiddenError):
        raise ChatRefused(MAX_CHAT_PROBLEMS["bot_not_member"]) from None
    if not me.can_add_remove_members:
        raise ChatRefused(MAX_CHAT_PROBLEMS["bot_not_admin"])
    return chat


def _checked(api: ChatCheckApi, chat_id: int) -> MaxChat:
    """:func:`check_bot_admin`, with MAX's own failures turned into a refusal worded by explain."""
    try:
        return check_bot_admin(api, chat_id)
    except SferumError as error:
        logger.warning("checking MAX chat %s: %s", chat_id, type(error).__name__)
        raise ChatRefused(explain(error, retry=Retry.BY_PERSON).message) from None


def link_existing(
    host: Host,
    api: ChatCheckApi,
    viewer: Viewer,
    *,
    account: Account,
    kind: str,
    target_id: int | None,
    raw_chat_id: str,
) -> int:
    """Link the existing MAX chat ``raw_chat_id`` to a study group or a unit (administrators); return its row id.

    MAX must confirm the bot administers the chat with the right to add and remove members.  The group's or unit's
    row is reused unless it is active with another chat; the chat is then synced (``needs_verify``).

    :raises ChatRefused: no right, unknown group or unit, a bad id, or what is wrong with the chat.
    """
    if not viewer.can(CHATS_MANAGE):
        raise ChatRefused(N_("Недостаточно прав для связывания чата."))
    name = _target_name(host, kind, target_id)
    chat_id = parse_chat_id(raw_chat_id)
    if chat_id is None:
        raise ChatRefused(
            N_(
                "Укажите номер чата MAX (у групповых чатов он начинается с «-») или адрес чата в веб-версии MAX "
                "(https://web.max.ru/-…)."
            )
        )
    chat = _checked(api, chat_id)
    title = _title(chat.title, name)
    now = host.clock.now()
    with host.db.session() as session:
        row = _linkable_row(session, account, kind, target_id, chat_id)
        if row is None:
            row = SferumChat(**account.columns(), kind=kind, target_id=target_id, marker=new_marker(),
                             created_by=viewer.user_id, created_at=now)  # fmt: skip
            session.add(row)
        elif row.chat_id != chat_id:  # another chat from now on: a button sent for the row no longer matches it
            forget_members(session, row.id, now)
            row.marker = new_marker()
        row.title, row.chat_id, row.state, row.error, row.needs_verify = title, chat_id, "active", None, True
        row.invite_link = _sealed(host, chat.link)
        session.flush()
        enqueue(session, [f"chat:{row.id}"], now)
        return row.id


def _title(max_title: str | None, name: str) -> str:
    """The row's title: the chat's title in MAX, or the group's or unit's name when MAX's is not a valid title."""
    try:
        return validate_title((max_title or name)[:TITLE_MAX])
    except ChatRefused:
        return validate_title(name[:TITLE_MAX])


def _target_name(host: Host, kind: str, target_id: int | None) -> str:
    ids = [target_id] if target_id is not None else []
    if kind == "group":
        names = host.directory.groups(ids)
        missing = N_("Учебная группа не найдена.")
    elif kind == "unit":
        names = host.directory.units(ids)
        missing = N_("Структурное подразделение не найдено.")
    else:
        raise ChatRefused(N_("Связать можно чат учебной группы или структурного подразделения."))
    if target_id is None or target_id not in names:
        raise ChatRefused(missing)
    return names[target_id]


def _linkable_row(
    session: Session, account: Account, kind: str, target_id: int | None, chat_id: int
) -> SferumChat | None:
    """The group's or unit's row to link the chat to (``None``: a new one).

    :raises ChatRefused: the chat is another row's already, or the group or unit has another working chat.
    """
    other = session.scalar(
        select(SferumChat.id).where(
            *account.owns(SferumChat),
            SferumChat.chat_id == chat_id,
            (SferumChat.kind != kind) | (SferumChat.target_id != target_id) | SferumChat.target_id.is_(None),
        )
    )
    if other is not None:
        raise ChatRefused(N_("Этот чат MAX уже связан с другой группой, подразделением или чатом модуля."))
    row = session.scalar(
        select(SferumChat).where(*account.owns(SferumChat), SferumChat.kind == kind, SferumChat.target_id == target_id)
    )
    if row is not None and row.state == "active" and row.chat_id not in (None, chat_id):
        raise ChatRefused(N_("У этой группы или подразделения уже есть работающий чат в MAX."))
    return row


def recheck(host: Host, api: ChatCheckApi, chat_pk: int, *, account: Account) -> None:
    """«Проверить чат снова»: make a chat whose bot was removed active again once MAX confirms the bot administers it.

    :raises ChatRefused: what is still wrong with the chat.
    """
    with host.db.session() as session:
        chat = session.get(SferumChat, chat_pk)
        if chat is None or not account.holds(chat) or chat.chat_id is None or chat.state != BOT_REMOVED:
            raise ChatRefused(N_("Этот чат не нужно проверять снова."))
        chat_id = chat.chat_id
    found = _checked(api, chat_id)
    with host.db.session() as session:
        chat = session.get(SferumChat, chat_pk)
        if chat is not None and chat.state == BOT_REMOVED and chat.chat_id == chat_id:
            chat.state, chat.error, chat.needs_verify = "active", None, True
            chat.invite_link = _sealed(host, found.link) or chat.invite_link
            enqueue(session, [f"chat:{chat_pk}"], host.clock.now())


def chat_link(db: Database, api: ChatCheckApi, chat_pk: int, *, bot_token: str) -> str:
    """The chat's MAX link (``Chat.link``): the stored one, or MAX's (then stored).

    :raises ChatUnavailable: the chat is gone from MAX, the bot is not in it, or MAX gives it no link.
    :raises SferumError: MAX could not be asked (the caller shows the reason; nothing is stored).
    """
    with db.session() as session:
        chat = session.get(SferumChat, chat_pk)
        if chat is None or chat.chat_id is None:
            raise LookupError(f"chat row {chat_pk} has no MAX chat")
        chat_id, stored = chat.chat_id, unseal(chat.invite_link, bot_token)
    if stored:
        return stored
    try:
        found = api.get_chat(chat_id)
    except (MaxNotFoundError, MaxForbiddenError):
        found = None
    if found is None or not found.bot_is_member:
        raise ChatUnavailable(MAX_CHAT_PROBLEMS["bot_removed"])
    if not found.link:
        raise ChatUnavailable(N_("MAX не дал ссылку на этот чат: откройте его в MAX из списка чатов."))
    with db.session() as session:
        chat = session.get(SferumChat, chat_pk)
        if chat is not None and chat.chat_id == chat_id:
            chat.invite_link = seal(found.link, bot_token)
    return found.link


def recreate_awaiting(host: Host, api: ChatButtonApi, viewer: Viewer, chat_pk: int, *, account: Account) -> bool:
    """«Создать заново» on MAX: a chat that is gone (or lost its bot) awaits a new button, sent to ``viewer``.

    :raises ChatRefused: ``viewer`` has not linked a MAX profile.
    """
    max_user_id = requester_max_id(host.db, account=account, user_id=viewer.user_id)
    if max_user_id is None:
        raise ChatRefused(NOT_LINKED)
    now = host.clock.now()
    with host.db.session() as session:
        chat = session.get(SferumChat, chat_pk)
        if chat is None or not account.holds(chat) or chat.state not in ("vanished", "failed", BOT_REMOVED):
            return False
        chat.state, chat.chat_id, chat.error, chat.invite_link = AWAITING, None, None, None
        chat.marker, chat.needs_verify = new_marker(), False
        forget_members(session, chat_pk, now)
    send_button(host.db, api, chat_pk, account=account, max_user_id=max_user_id, locale=viewer.locale)
    return True


def resend(host: Host, api: ChatButtonApi, viewer: Viewer, chat_pk: int, *, account: Account) -> bool:
    """«Отправить кнопку ещё раз»: the same button (the same payload) to ``viewer``; whether MAX took it.

    :raises ChatRefused: ``viewer`` has not linked a MAX profile, or the chat awaits no button.
    """
    max_user_id = requester_max_id(host.db, account=account, user_id=viewer.user_id)
    if max_user_id is None:
        raise ChatRefused(NOT_LINKED)
    with host.db.session() as session:
        chat = session.get(SferumChat, chat_pk)
        if chat is None or not account.holds(chat) or chat.state != AWAITING:
            raise ChatRefused(N_("Этот чат уже создан: кнопка больше не нужна."))
    return send_button(host.db, api, chat_pk, account=account, max_user_id=max_user_id, locale=viewer.locale)


# -- MAX's side of the chat port (services/platforms.py): each opens the bot's client from the stored settings ------


def _settings(host: Host) -> MaxSettings:
    settings = MaxSettings.from_stored(host.settings.get(MODULE_NAME))
    if settings is None:
        raise ChatRefused(N_("Модуль ещё не настроен: обратитесь к администратору."))
    return settings


def max_request_chat(host: Host, sferum: SferumAccess, viewer: Viewer, ask: ChatAsk) -> ChatRequest:
    settings = _settings(host)
    with sferum.bot(settings) as client:
        return request_max_chat(host, client, viewer, ask, account=settings.account)


def max_request_group_chats(
    host: Host, sferum: SferumAccess, viewer: Viewer, group_ids: Sequence[int]
) -> list[ChatRequest]:
    settings = _settings(host)
    with sferum.bot(settings) as client:
        return request_max_group_chats(host, client, viewer, group_ids, account=settings.account)


def max_resend(host: Host, sferum: SferumAccess, viewer: Viewer, chat_pk: int) -> bool:
    settings = _settings(host)
    with sferum.bot(settings) as client:
        return resend(host, client, viewer, chat_pk, account=settings.account)


def max_recreate(host: Host, sferum: SferumAccess, viewer: Viewer, chat_pk: int) -> bool:
    settings = _settings(host)
    with sferum.bot(settings) as client:
        return recreate_awaiting(host, client, viewer, chat_pk, account=settings.account)


def max_chat_link(host: Host, sferum: SferumAccess, chat_pk: int) -> str:
    settings = _settings(host)
    with sferum.bot(settings) as client:
        return chat_link(host.db, client, chat_pk, bot_token=settings.bot_token)


def max_link_existing(
    host: Host, sferum: SferumAccess, viewer: Viewer, *, kind: str, target_id: int | None, chat_id: str
) -> int:
    settings = _settings(host)
    with sferum.bot(settings) as client:
        return link_existing(host, client, viewer, account=settings.account, kind=kind, target_id=target_id,
                             raw_chat_id=chat_id)  # fmt: skip


def max_invite_refused(host: Host, sferum: SferumAccess, op_id: int) -> None:
    from sferum_plugin.services.max_invites import invite_refused  # it builds on this module

    settings = _settings(host)
    with sferum.bot(settings) as client:
        invite_refused(host, client, op_id, account=settings.account, bot_token=settings.bot_token)


def max_recheck(host: Host, sferum: SferumAccess, chat_pk: int) -> None:
    settings = _settings(host)
    with sferum.bot(settings) as client:
        recheck(host, client, chat_pk, account=settings.account)
