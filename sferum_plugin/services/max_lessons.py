"""Online lessons on MAX, truthfully (issue 12 item 7): MAX's Bot API cannot start, join or end a video call.

So «Начать онлайн-занятие в Сферум» has the bot announce the lesson in the group's MAX chat (the module's ``group``
chat of the lesson's group) and sends the teacher to that chat, where they start the group call themselves; or the
teacher pastes the link of a MAX call they started (:func:`clean_call_link`), which the announcement carries and the
students then get.  «Перейти в онлайн-занятие Сферум» opens the same place (the call link, or the chat);
«Завершить онлайн-занятие в Сферум» posts the end in the chat and ends the lesson in the module (there is nothing to
end in MAX).  The rules — the section's permission, the lesson's teacher, the organisation's day, a linked profile —
are those of :mod:`sferum_plugin.services.lessons`, checked on the server.

Sending is not idempotent (``POST /messages`` has no key): after an ambiguous failure (:class:`OutcomeUnknownError`:
503, a dropped connection) the announcement may or may not be in the chat, so it is never sent again by itself.  The
lesson is started anyway (the chat or the call link does not depend on the message), and the teacher is told to
look at the chat.  The end behaves the same way: the lesson always ends, and a failed or unconfirmed end message is
said.  The job that ends forgotten lessons (:func:`auto_end_overdue`) retries an end message MAX surely did not take
(429, no connection, 5xx refused before it ran) at its next runs for :data:`END_POST_GRACE`, then ends the lesson
without it; a refusal or an ambiguous failure ends it at once.  Either way the failure is logged and stays on the
lesson (its ``error``), which the teacher's card shows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

import attrs
from sqlalchemy import select, update

from hookspecs.services import Host
from hookspecs.types import LessonRef, Viewer
from sferum_plugin.account import Account
from sferum_plugin.gateway.errors import OutcomeUnknownError, ServerError, SferumError, TransportError
from sferum_plugin.gateway.max import Button, LinkButton, MaxChat, MaxForbiddenError, MaxNotFoundError
from sferum_plugin.gateway.max.values import MaxSentMessage
from sferum_plugin.i18n import N_
from sferum_plugin.models import OnlineLesson, SferumChat
from sferum_plugin.services import lessons
from sferum_plugin.services.explain import explain_max
from sferum_plugin.services.lessons import LessonOutcome, LessonRefused
from sferum_plugin.settings import MaxSettings

if TYPE_CHECKING:
    from sferum_plugin.services.connection import SferumAccess

__all__ = [
    "CALL_LINK_FIELD",
    "END_POST_GRACE",
    "MAX_LINK_HOSTS",
    "BotOpener",
    "LessonBot",
    "MaxLessons",
    "auto_end_overdue",
    "clean_call_link",
    "end_lesson",
    "start_lesson",
]

logger = logging.getLogger(__name__)

MAX_LINK_HOSTS = ("max.ru",)
"""A pasted call link must lead to one of these hosts or their subdomains (``max.ru``, ``web.max.ru``,
``call.max.ru``...), over https: MAX's own addresses, and nothing a teacher could be tricked into spreading."""

CALL_LINK_MAX_LENGTH = 1000
"""``sferum_online_lessons.join_link`` holds 1000 characters (a ``link`` button takes 2048)."""

CALL_LINK_FIELD = N_("Ссылка на звонок MAX")
"""The field of the «Онлайн-занятия» section where a teacher pastes a call link."""

END_POST_GRACE = timedelta(hours=1)
"""How long after the automatic end is due the job keeps trying to post the end message MAX surely did not take;
then the lesson ends without it (the failure stays on the lesson)."""

NO_CHAT = N_("У группы «%(group)s» нет чата в MAX: создайте его на странице «Чаты» или привяжите существующий.")
CHAT_UNAVAILABLE = N_(
    "Чат группы «%(group)s» в MAX сейчас недоступен боту модуля (бота удалили из чата или чат удалён): откройте его "
    "на странице «Чаты» — там сказано, что сделать."
)
NO_CHAT_LINK = N_(
    "MAX не сообщил ссылку на чат группы «%(group)s», поэтому открыть его из ЛК нельзя. Начните звонок в MAX и "
    "вставьте ссылку на него в поле «Ссылка на звонок MAX» в разделе «Онлайн-занятия»."
)
ANNOUNCEMENT_UNCONFIRMED = N_(
    "MAX не подтвердил, что объявление о занятии опубликовано в чате группы: откройте чат и проверьте; если "
    "объявления нет, напишите группе сами. Повторно ЛК его не отправляет, чтобы оно не появилось дважды."
)
END_NOT_POSTED = N_("MAX не опубликовал сообщение о завершении в чате группы: сообщите группе сами.")
END_UNCONFIRMED = N_(
    "MAX не подтвердил, что сообщение о завершении опубликовано в чате группы: проверьте чат. Повторно ЛК его не "
    "отправляет."
)
END_RETRYING = N_(
    "Занятие пора завершить, но MAX не принял сообщение о завершении: ЛК попробует ещё раз в течение часа, затем "
    "завершит занятие без него."
)
END_NO_CHAT = N_("Сообщение о завершении не отправлено: у группы нет доступного боту чата в MAX.")

# What the bot posts in the group's chat: Russian, the organisation's language (the chat is not the ЛК's page).
_ANNOUNCE = (
    "Онлайн-занятие «{subject}» ({time}) начинается. Преподаватель {teacher} начнёт групповой звонок в этом чате."
)
_ANNOUNCE_CALL = (
    "Онлайн-занятие «{subject}» ({time}) начинается. Преподаватель {teacher} ждёт вас в звонке: нажмите "
    "«Присоединиться к звонку»."
)
_JOIN_CALL = "Присоединиться к звонку"
_ENDED = "Онлайн-занятие «{subject}» завершено."
_ENDED_AUTO = "Онлайн-занятие «{subject}» завершено автоматически."


class LessonBot(Protocol):
    """What online lessons need of the MAX client (:class:`~sferum_plugin.gateway.max.MaxClient`)."""

    def get_chat(self, chat_id: int) -> MaxChat:
        """The chat as the bot sees it (``GET /chats/{chatId}``): its link, and whether the bot is still in it."""
        ...

    def send_message(
        self, text: str, *, chat_id: int | None = None, buttons: Sequence[Sequence[Button]] = ()
    ) -> MaxSentMessage:
        """``POST /messages``; :raises OutcomeUnknownError: it may have been delivered (never repeated)."""
        ...


BotOpener = Callable[[MaxSettings], AbstractContextManager[LessonBot]]
"""``SferumAccess.bot``: the bot's client for the settings, over a connection closed when the block ends."""


@attrs.frozen
class _GroupChat:
    chat_id: int
    group: str


def clean_call_link(raw: str) -> str | None:
    """A pasted call link, checked; ``None`` when the field was left empty.

    :raises LessonRefused: not an https address of MAX (:data:`MAX_LINK_HOSTS`); the words name the field.
    """
    link = raw.strip()
    if not link:
        return None
    if len(link) > CALL_LINK_MAX_LENGTH:
        raise LessonRefused(N_("Поле «Ссылка на звонок MAX»: ссылка длиннее 1000 символов."), status=400)
    try:
        parts = urlsplit(link)
        port = parts.port
    except ValueError:
        parts, port = None, None
    if (
        parts is None
        or parts.scheme != "https"
        or not parts.hostname
        or parts.username is not None
        or parts.password is not None
        or port not in (None, 443)
        or not link.isprintable()
        or any(ch.isspace() for ch in link)
    ):
        raise LessonRefused(
            N_("Поле «Ссылка на звонок MAX»: вставьте ссылку на звонок целиком, начиная с https://."), status=400
        )
    host = parts.hostname.rstrip(".")
    if not any(host == allowed or host.endswith("." + allowed) for allowed in MAX_LINK_HOSTS):
        raise LessonRefused(
            N_(
                "Поле «Ссылка на звонок MAX»: ссылка ведёт не в MAX. Подходят только адреса max.ru и его поддоменов "
                "(скопируйте ссылку на звонок в MAX)."
            ),
            status=400,
        )
    return link


def _group_name(host: Host, group_id: int) -> str:
    return host.directory.groups([group_id]).get(group_id) or str(group_id)


def _group_chat(host: Host, account: Account, group_id: int) -> _GroupChat:
    """The group's MAX chat the bot administers.

    :raises LessonRefused: the group has none (the exact words of issue 12), or the bot lost it.
    """
    with host.db.session() as session:
        rows = session.scalars(
            select(SferumChat).where(
                *account.owns(SferumChat), SferumChat.kind == "group", SferumChat.target_id == group_id
            )
        ).all()
        states = [(row.state, row.chat_id) for row in rows]
    group = _group_name(host, group_id)
    for state, chat_id in states:
        if state == "active" and chat_id is not None:
            return _GroupChat(chat_id=chat_id, group=group)
    if any(chat_id is not None for _, chat_id in states):
        raise LessonRefused(CHAT_UNAVAILABLE, status=409, params={"group": group})
    raise LessonRefused(NO_CHAT, status=409, params={"group": group})


def _time(host: Host, lesson: LessonRef) -> str:
    zone = host.clock.timezone
    return f"{lesson.starts_at.astimezone(zone):%H:%M}–{lesson.ends_at.astimezone(zone):%H:%M}"


def _announcement(host: Host, lesson: LessonRef, teacher: str, call_link: str | None) -> tuple[str, list[list[Button]]]:
    values = {"subject": lesson.subject[:300], "time": _time(host, lesson), "teacher": teacher[:300]}
    if call_link is None:
        return _ANNOUNCE.format(**values), []
    return _ANNOUNCE_CALL.format(**values), [[LinkButton(text=_JOIN_CALL, url=call_link)]]


def start_lesson(
    host: Host, viewer: Viewer, lesson_id: int, settings: MaxSettings | None, bot: BotOpener, *, call_link: str = ""
) -> LessonOutcome:
    """Start the online lesson of ``lesson_id`` on MAX for its teacher: announce it in the group's chat.

    Returns the active lesson and where to send the teacher (the call link if pasted, else the chat); ``notice`` is
    set when MAX did not confirm the announcement.  Nothing is sent unless every rule holds and the group has a chat.

    :raises LessonRefused: the rules forbid it, the link is not MAX's, the group has no chat, or MAX failed.
    """
    with host.db.session() as session:
        view = lessons.view_for(session, host, viewer, lesson_id, settings)
        settings = lessons.check_start(view, settings)
    link = clean_call_link(call_link)
    chat = _group_chat(host, settings.account, view.lesson.group_id)
    claim = lessons.claim_lesson(host, lesson_id, viewer.user_id, settings.account)
    with bot(settings) as client:
        join = _join_place(host, client, claim, chat, link)
        text, buttons = _announcement(host, view.lesson, viewer.full_name, link)
        try:
            client.send_message(text, chat_id=chat.chat_id, buttons=buttons)
        except OutcomeUnknownError:
            # POST /messages has no idempotency key and MAX offers no way to look the message up: it may be in the
            # chat.  The lesson starts (its place does not depend on the message); the teacher checks the chat.
            logger.warning("the announcement of lesson %s may or may not have been posted", lesson_id)
            online = _activate(host, claim, join, note=ANNOUNCEMENT_UNCONFIRMED)
            return LessonOutcome(online, open_url=join, notice=ANNOUNCEMENT_UNCONFIRMED)
        except SferumError as error:
            raise _failed(host, claim, error, f"the announcement of lesson {lesson_id}") from error
    logger.info("online lesson started on MAX for lesson %s by user %s", lesson_id, viewer.user_id)
    return LessonOutcome(_activate(host, claim, join), open_url=join)


def _join_place(host: Host, client: LessonBot, claim: int, chat: _GroupChat, call_link: str | None) -> str:
    """Where the lesson is joined: the pasted call link, or the chat's link (MAX's, read now: the bot must still be
    in the chat for the announcement anyway)."""
    try:
        found = client.get_chat(chat.chat_id)
    except (MaxNotFoundError, MaxForbiddenError):
        found = None
    except SferumError as error:
        raise _failed(host, claim, error, f"reading MAX chat {chat.chat_id}") from error
    if found is None or not found.bot_is_member:
        refused = LessonRefused(CHAT_UNAVAILABLE, status=409, params={"group": chat.group})
        lessons.finish_claim(host, claim, state="failed", error=refused.text("ru", host.clock.timezone))
        raise refused
    join = call_link or found.link
    if not join:
        refused = LessonRefused(NO_CHAT_LINK, status=409, params={"group": chat.group})
        lessons.finish_claim(host, claim, state="failed", error=refused.text("ru", host.clock.timezone))
        raise refused
    return join


def _failed(host: Host, claim: int, error: SferumError, action: str) -> LessonRefused:
    """MAX failed before anything was posted: the claim is released (the teacher may press «Начать» again)."""
    logger.warning("%s failed: %s", action, error)
    refused = LessonRefused(explain_max(error).message, status=502)
    lessons.finish_claim(host, claim, state="failed", error=refused.text("ru", host.clock.timezone))
    return refused


def _activate(host: Host, claim: int, join: str, *, note: str | None = None) -> OnlineLesson:
    with host.db.session() as session:
        online = session.get_one(OnlineLesson, claim)
        online.state = "active"
        online.join_link = join
        online.error = note
        session.flush()
        session.expunge(online)
    return online


def end_lesson(
    host: Host, viewer: Viewer, lesson_id: int, settings: MaxSettings | None, bot: BotOpener
) -> LessonOutcome:
    """End the online lesson (its teacher or an administrator) and post the end in the group's chat.

    The lesson ends in the module whatever MAX does (nothing runs in MAX that the module could end); ``notice`` says
    when the end message was not posted, or MAX did not confirm it.

    :raises LessonRefused: not allowed, or nothing to end.
    """
    with host.db.session() as session:
        view = lessons.view_for(session, host, viewer, lesson_id, settings)
        online_id, reason = lessons.check_end(view, viewer)
    note = None if settings is None else _post_end(host, settings, bot, view.lesson, auto=False)[0]
    online = lessons.mark_ended(host, online_id, ended_by=viewer.user_id, reason=reason, note=note)
    return LessonOutcome(online, notice=note)


def _post_end(
    host: Host, settings: MaxSettings, bot: BotOpener, lesson: LessonRef | None, *, auto: bool
) -> tuple[str | None, bool]:
    """Post the end of ``lesson`` in its group's chat: (what went wrong or ``None``, whether MAX surely did not take
    it and a later attempt may be made)."""
    if lesson is None:
        return END_NO_CHAT, False  # the lesson left the schedule: its group is not known
    try:
        chat = _group_chat(host, settings.account, lesson.group_id)
    except LessonRefused:
        return END_NO_CHAT, False
    text = (_ENDED_AUTO if auto else _ENDED).format(subject=lesson.subject[:300])
    try:
        with bot(settings) as client:
            client.send_message(text, chat_id=chat.chat_id)
    except OutcomeUnknownError:
        logger.warning("the end message of lesson %s may or may not have been posted", lesson.id)
        return END_UNCONFIRMED, False
    except SferumError as error:
        logger.warning("the end message of lesson %s was not posted: %s", lesson.id, error)
        transient = isinstance(error, TransportError | ServerError) and not error.may_have_been_applied
        return END_NOT_POSTED, transient
    return None, False


def auto_end_overdue(host: Host, settings: MaxSettings, bot: BotOpener, *, after: timedelta) -> list[int]:
    """End the MAX lessons still active ``after`` their scheduled end, posting the end; returns the ended ids.

    An end message MAX surely did not take is tried again at the job's next runs for :data:`END_POST_GRACE` (the
    lesson stays active meanwhile, with the failure noted); after that, or after a refusal or an ambiguous failure,
    the lesson ends and the failure stays on it.
    """
    ended: list[int] = []
    now = host.clock.now()
    for online_id, lesson in lessons.overdue(host, settings, after=after):
        note, may_retry = _post_end(host, settings, bot, lesson, auto=True)
        if note is not None and may_retry and lesson is not None and now < lesson.ends_at + after + END_POST_GRACE:
            _note(host, online_id, END_RETRYING)
            continue
        lessons.mark_ended(host, online_id, ended_by=None, reason="auto", note=note)
        ended.append(online_id)
    return ended


def _note(host: Host, online_id: int, note: str) -> None:
    with host.db.session() as session:
        session.execute(update(OnlineLesson).where(OnlineLesson.id == online_id).values(error=note))


class MaxLessons:
    """Online lessons on MAX (the lessons part of :class:`~sferum_plugin.services.platforms.MaxPlatform`)."""

    offers_call_link = True
    teacher_join_label = N_("Перейти в онлайн-занятие Сферум")

    def settings(self, stored: Mapping[str, str]) -> MaxSettings | None:
        return MaxSettings.from_stored(stored)

    def start(
        self,
        host: Host,
        viewer: Viewer,
        lesson_id: int,
        stored: Mapping[str, str],
        sferum: SferumAccess,
        *,
        confirm: bool,
        call_link: str,
    ) -> LessonOutcome:
        del confirm  # an unconfirmed announcement still starts the lesson: there is nothing to confirm
        return start_lesson(host, viewer, lesson_id, MaxSettings.from_stored(stored), sferum.bot, call_link=call_link)

    def end(
        self, host: Host, viewer: Viewer, lesson_id: int, stored: Mapping[str, str], sferum: SferumAccess
    ) -> LessonOutcome:
        return end_lesson(host, viewer, lesson_id, MaxSettings.from_stored(stored), sferum.bot)

    def end_overdue(self, host: Host, stored: Mapping[str, str], sferum: SferumAccess) -> list[int]:
        settings = MaxSettings.from_stored(stored)
        if settings is None:
            return []
        return auto_end_overdue(host, settings, sferum.bot, after=timedelta(minutes=settings.auto_end_after_minutes))
