"""Online lessons: start, join and end a Sferum call for a lesson of the schedule.

Every rule is checked here, on the server, whatever the page showed: the viewer must hold the section's permission,
teach the lesson (start, end) or belong to its group (join), the lesson must be of the organisation's current day,
the viewer's Sferum profile must be linked and the module configured.  The rules are the same on every platform;
what starting and ending *do* is the platform's (:class:`LessonPlatform`): a VK call here (:class:`VkLessons`), an
announcement in the group's chat on MAX (:mod:`sferum_plugin.services.max_lessons`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Protocol, TypeVar

import attrs
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hookspecs.services import Host
from hookspecs.types import LessonRef, PersonKind, Viewer
from sferum_plugin.account import Account
from sferum_plugin.gateway.domain import StartedCall
from sferum_plugin.gateway.errors import OutcomeUnknownError, SferumError
from sferum_plugin.i18n import N_
from sferum_plugin.models import ACTIVE_LESSON_STATES, OnlineLesson, ProfileLink
from sferum_plugin.permissions import ONLINE_LESSONS_VIEW
from sferum_plugin.services.explain import Retry, explain, reason_text
from sferum_plugin.settings import SferumSettings

if TYPE_CHECKING:
    from sferum_plugin.services.connection import SferumAccess

__all__ = [
    "AUTO_END_AFTER",
    "CallsApi",
    "CallsFactory",
    "LessonOutcome",
    "LessonPlatform",
    "LessonRefused",
    "LessonSettings",
    "LessonView",
    "OnlineSection",
    "OnlineState",
    "VkLessons",
    "auto_end_overdue",
    "check_end",
    "check_start",
    "claim_lesson",
    "end_lesson",
    "finish_claim",
    "join_link",
    "lesson_views",
    "mark_ended",
    "online_section",
    "overdue",
    "schedule_views",
    "start_lesson",
    "view_for",
]

logger = logging.getLogger(__name__)

AUTO_END_AFTER = timedelta(minutes=30)
"""Default delay after a lesson's scheduled end before a forgotten online lesson is ended automatically."""


class CallsApi(Protocol):
    """What this service needs of the gateway (the organisation's application token)."""

    def start_call(self) -> StartedCall:
        """``calls.start``; may raise :class:`OutcomeUnknownError`."""
        ...

    def finish_call(self, call_id: str) -> bool:
        """``calls.forceFinish``; ``False`` when Sferum says the call was already over."""
        ...


CallsFactory = Callable[[SferumSettings], CallsApi]


class LessonSettings(Protocol):
    """What the lesson rules need of a platform's settings: whose rows (links, online lessons) are this platform's."""

    @property
    def account(self) -> Account: ...


SettingsT = TypeVar("SettingsT", bound=LessonSettings)


class LessonRefused(Exception):
    """An action on an online lesson that the rules do not allow, or that Sferum failed.

    ``reason`` is a Russian source string, translated where it is shown (:meth:`text`); ``until`` fills its
    ``%(until)s`` (the end of Sferum's quota pause), ``params`` its other placeholders (``%(group)s``...).
    """

    def __init__(
        self,
        reason: str,
        *,
        status: int = 403,
        until: datetime | None = None,
        params: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.until = until
        self.params = dict(params or {})

    def text(self, locale: str, timezone: tzinfo) -> str:
        """The reason in ``locale``, a pause's end in ``timezone`` (the organisation's)."""
        text = reason_text(self.reason, locale, until=self.until, timezone=timezone)
        return text % self.params if self.params else text


@attrs.frozen
class OnlineState:
    """A snapshot of an online lesson's row, safe to use after its session closed."""

    id: int
    state: str
    join_link: str | None = attrs.field(default=None, repr=False)
    end_reason: str | None = None
    note: str | None = None
    """What went partly wrong with an active or ended lesson (a Russian source string), e.g. MAX did not confirm
    the announcement; shown to the teacher on the card."""

    @classmethod
    def of(cls, row: OnlineLesson) -> OnlineState:
        note = row.error if row.state in ("active", "ended") else None
        return cls(id=row.id, state=row.state, join_link=row.join_link, end_reason=row.end_reason, note=note)


@attrs.frozen
class LessonView:
    """What a viewer may do with one lesson right now (the card's state)."""

    lesson: LessonRef
    online: OnlineState | None
    is_teacher: bool
    is_student: bool
    profile_linked: bool
    is_today: bool
    configured: bool

    @property
    def active(self) -> bool:
        return self.online is not None and self.online.state == "active"

    @property
    def can_start(self) -> bool:
        starting = self.online is not None and self.online.state in ACTIVE_LESSON_STATES
        return self.is_teacher and self.profile_linked and self.is_today and self.configured and not starting

    @property
    def can_end(self) -> bool:
        return self.is_teacher and self.online is not None and self.online.state in ACTIVE_LESSON_STATES

    @property
    def can_join(self) -> bool:
        return self.active and (self.is_student or self.is_teacher) and self.profile_linked


def _latest_by_lesson(
    session: Session, lesson_ids: Sequence[int], settings: LessonSettings | None
) -> dict[int, OnlineState]:
    """The newest online lesson of each lesson (of the configured platform's account), in one query."""
    query = select(OnlineLesson).where(OnlineLesson.lesson_id.in_(lesson_ids))
    if settings is not None:  # not configured: every row, as before platforms (an active one can still be ended)
        query = query.where(*settings.account.owns(OnlineLesson))
    rows = session.scalars(query.order_by(OnlineLesson.id)).all()
    return {row.lesson_id: OnlineState.of(row) for row in rows}  # later ids overwrite earlier ones


def _is_linked(session: Session, settings: LessonSettings | None, user_id: int) -> bool:
    if settings is None:
        return False
    return (
        session.scalar(
            select(ProfileLink.id).where(*settings.account.owns(ProfileLink), ProfileLink.user_id == user_id)
        )
        is not None
    )


def lesson_views(
    session: Session, host: Host, viewer: Viewer, lessons: Sequence[LessonRef], settings: LessonSettings | None
) -> dict[int, LessonView]:
    """The state of every lesson for ``viewer`` with a fixed number of queries (two), however many lessons."""
    if not lessons:
        return {}
    online = _latest_by_lesson(session, [lesson.id for lesson in lessons], settings)
    linked = _is_linked(session, settings, viewer.user_id)
    today = host.clock.today()
    student_group = _student_group(host, viewer)
    return {
        lesson.id: LessonView(
            lesson=lesson,
            online=online.get(lesson.id),
            is_teacher=viewer.employee_id is not None and viewer.employee_id == lesson.teacher_id,
            is_student=student_group is not None and student_group == lesson.group_id,
            profile_linked=linked,
            is_today=lesson.starts_at.astimezone(host.clock.timezone).date() == today,
            configured=settings is not None,
        )
        for lesson in lessons
    }


def schedule_views(
    host: Host, viewer: Viewer, lessons: Sequence[LessonRef], settings: LessonSettings | None
) -> dict[int, LessonView]:
    """:func:`lesson_views` in a session of its own, for the schedule's cards."""
    with host.db.session() as session:
        return lesson_views(session, host, viewer, lessons, settings)


@attrs.frozen
class OnlineSection:
    """What the «Онлайн-занятия» section shows a viewer: the linked profile's name, and today's lessons of theirs."""

    profile_name: str | None
    lessons: tuple[LessonView, ...]


def online_section(host: Host, viewer: Viewer, settings: LessonSettings | None) -> OnlineSection:
    """The viewer's link and the organisation's today's lessons they teach or attend, in start order."""
    clock = host.clock
    day_start = datetime.combine(clock.today(), time.min, tzinfo=clock.timezone)
    todays = host.directory.lessons_between(day_start, day_start + timedelta(days=1))
    with host.db.session() as session:
        link = None
        if settings is not None:
            link = session.scalar(
                select(ProfileLink).where(*settings.account.owns(ProfileLink), ProfileLink.user_id == viewer.user_id)
            )
        views = lesson_views(session, host, viewer, todays, settings)
        profile_name = None if link is None else link.display_name
    mine = sorted((v for v in views.values() if v.is_teacher or v.is_student), key=lambda v: v.lesson.starts_at)
    return OnlineSection(profile_name=profile_name, lessons=tuple(mine))


def _student_group(host: Host, viewer: Viewer) -> int | None:
    if viewer.student_id is None:
        return None
    person = host.directory.people(PersonKind.STUDENT, [viewer.student_id]).get(viewer.student_id)
    return person.group_id if person is not None and person.active else None


def view_for(
    session: Session, host: Host, viewer: Viewer, lesson_id: int, settings: LessonSettings | None
) -> LessonView:
    """The lesson as ``viewer`` sees it, after the section's permission; :class:`LessonRefused` if there is none."""
    if not viewer.can(ONLINE_LESSONS_VIEW):
        raise LessonRefused(N_("Нет права «Просмотр раздела онлайн-занятий (Сферум)»."))
    lesson = host.directory.lessons([lesson_id]).get(lesson_id)
    if lesson is None:
        raise LessonRefused(N_("Занятие не найдено."), status=404)
    return lesson_views(session, host, viewer, [lesson], settings)[lesson_id]


def _refusal(error: SferumError, action: str) -> LessonRefused:
    """Sferum's failure as the teacher reads it: what happened and what to do, in the page's language (VK's own
    English text stays in the log).  Nothing repeats a click, so the words never promise a retry."""
    logger.warning("%s failed: %s", action, error)
    explanation = explain(error, retry=Retry.BY_PERSON)
    return LessonRefused(explanation.message, status=502, until=explanation.until)


def start_lesson(
    host: Host,
    viewer: Viewer,
    lesson_id: int,
    settings: SferumSettings | None,
    calls: CallsFactory,
    *,
    confirm_after_unknown: bool = False,
) -> OnlineLesson:
    """Start the online lesson of ``lesson_id`` for its teacher; returns the active online lesson.

    :raises LessonRefused: the rules forbid it, or Sferum failed (the reason says which; the teacher can retry).
    """
    with host.db.session() as session:
        view = view_for(session, host, viewer, lesson_id, settings)
        settings = check_start(view, settings, confirm_after_unknown=confirm_after_unknown)
    claim = claim_lesson(host, lesson_id, viewer.user_id, settings.account)
    try:
        call = calls(settings).start_call()
    except OutcomeUnknownError:
        # calls.start has no idempotency key and the API offers no way to look a call up (calls/methods.json has
        # only start and forceFinish), so we cannot tell whether Sferum created it. We do not retry blindly:
        # the row stays "unknown" and a new start needs the teacher's explicit confirmation.
        finish_claim(host, claim, state="unknown", error="Сферум не подтвердил создание звонка.")
        logger.warning("calls.start outcome unknown for lesson %s", lesson_id)
        raise LessonRefused(
            N_("Сферум не подтвердил создание звонка. Если занятие не появилось, подтвердите повторный запуск."),
            status=502,
        ) from None
    except SferumError as error:
        refused = _refusal(error, f"calls.start for lesson {lesson_id}")
        finish_claim(host, claim, state="failed", error=refused.text("ru", host.clock.timezone))
        raise refused from error
    with host.db.session() as session:
        online = session.get_one(OnlineLesson, claim)
        online.state = "active"
        online.call_id = call.call_id
        online.join_link = call.join_link
        online.ok_join_link = call.ok_join_link
        session.flush()
        session.expunge(online)
    logger.info("online lesson started for lesson %s by user %s", lesson_id, viewer.user_id)
    return online


def check_start(view: LessonView, settings: SettingsT | None, *, confirm_after_unknown: bool = False) -> SettingsT:
    """The rules of «Начать», the same on every platform; returns the (configured) settings.

    :raises LessonRefused: the first rule broken, in words.
    """
    if not view.is_teacher:
        raise LessonRefused(N_("Начать онлайн-занятие может только преподаватель этого занятия."))
    if settings is None:
        raise LessonRefused(N_("Модуль «Сферум» не настроен: обратитесь к администратору."), status=409)
    if not view.is_today:
        raise LessonRefused(N_("Онлайн-занятие можно начать только в день занятия."), status=409)
    if not view.profile_linked:
        raise LessonRefused(N_("Сначала создайте учебный профиль Сферум."), status=409)
    if view.online is not None and view.online.state in ACTIVE_LESSON_STATES:
        raise LessonRefused(N_("Онлайн-занятие уже идёт."), status=409)
    if view.online is not None and view.online.state == "unknown" and not confirm_after_unknown:
        raise LessonRefused(
            N_("Сферум не подтвердил прошлую попытку начать занятие. Подтвердите повторный запуск."), status=409
        )
    return settings


def claim_lesson(host: Host, lesson_id: int, user_id: int, account: Account) -> int:
    """Insert the ``starting`` row; the partial unique index makes a concurrent second start fail here."""
    try:
        with host.db.session() as session:
            row = OnlineLesson(
                lesson_id=lesson_id,
                **account.columns(),
                state="starting",
                started_by=user_id,
                started_at=host.clock.now(),
            )
            session.add(row)
            session.flush()
            return row.id
    except IntegrityError:
        raise LessonRefused(N_("Онлайн-занятие уже начинается или идёт."), status=409) from None


def finish_claim(host: Host, claim: int, *, state: str, error: str) -> None:
    """The claimed start did not happen (``failed``) or its outcome is not known (``unknown``)."""
    with host.db.session() as session:
        row = session.get_one(OnlineLesson, claim)
        row.state = state
        row.error = error[:500]
        row.ended_at = host.clock.now()


def join_link(host: Host, viewer: Viewer, lesson_id: int, settings: LessonSettings | None) -> str:
    """The call link for a student (or the teacher) of an active online lesson.

    :raises LessonRefused: the viewer is not of this lesson, has no profile, or the lesson is not active.
    """
    with host.db.session() as session:
        view = view_for(session, host, viewer, lesson_id, settings)
        if not (view.is_student or view.is_teacher):
            raise LessonRefused(N_("Вы не участник этого занятия."))
        if not view.active or view.online is None or not view.online.join_link:
            raise LessonRefused(N_("Онлайн-занятие не идёт."), status=409)
        if not view.profile_linked:
            raise LessonRefused(N_("Сначала создайте учебный профиль Сферум."), status=409)
        return view.online.join_link


def end_lesson(
    host: Host, viewer: Viewer, lesson_id: int, settings: SferumSettings | None, calls: CallsFactory
) -> OnlineLesson:
    """End the online lesson (its teacher or an administrator).

    :raises LessonRefused: not allowed, nothing to end, or Sferum failed (then the lesson stays active).
    """
    with host.db.session() as session:
        view = view_for(session, host, viewer, lesson_id, settings)
        online_id, reason = check_end(view, viewer)
    return _end(host, online_id, settings, calls, ended_by=viewer.user_id, reason=reason)


def check_end(view: LessonView, viewer: Viewer) -> tuple[int, str]:
    """The rules of «Завершить», the same on every platform: the online lesson's id and who ends it.

    :raises LessonRefused: not allowed, or nothing to end.
    """
    if not (view.is_teacher or viewer.is_admin):
        raise LessonRefused(N_("Завершить онлайн-занятие может только его преподаватель или администратор."))
    if view.online is None or view.online.state not in ACTIVE_LESSON_STATES:
        raise LessonRefused(N_("Онлайн-занятие не идёт."), status=409)
    return view.online.id, "teacher" if view.is_teacher else "admin"


def _end(
    host: Host,
    online_id: int,
    settings: SferumSettings | None,
    calls: CallsFactory,
    *,
    ended_by: int | None,
    reason: str,
) -> OnlineLesson:
    with host.db.session() as session:
        online = session.get_one(OnlineLesson, online_id)
        call_id = online.call_id
    if call_id and settings is not None:
        try:
            calls(settings).finish_call(call_id)  # False: Sferum had already finished it, which counts as ended
        except SferumError as error:
            raise _refusal(error, f"calls.forceFinish of online lesson {online_id}") from error
    return mark_ended(host, online_id, ended_by=ended_by, reason=reason)


def mark_ended(
    host: Host, online_id: int, *, ended_by: int | None, reason: str, note: str | None = None
) -> OnlineLesson:
    """Record the end of an online lesson; ``note`` (a Russian source string) says what went partly wrong."""
    with host.db.session() as session:
        online = session.get_one(OnlineLesson, online_id)
        online.state = "ended"
        online.ended_at = host.clock.now()
        online.ended_by = ended_by
        online.end_reason = reason
        online.error = None if note is None else note[:500]
        session.flush()
        session.expunge(online)
    logger.info("online lesson %s ended (%s)", online_id, reason)
    return online


def auto_end_overdue(
    host: Host, settings: SferumSettings | None, calls: CallsFactory, *, after: timedelta = AUTO_END_AFTER
) -> list[int]:
    """End online lessons still active ``after`` their lesson's scheduled end; returns the ended ids."""
    ended: list[int] = []
    for online_id, _ in overdue(host, settings, after=after):
        try:
            _end(host, online_id, settings, calls, ended_by=None, reason="auto")
        except LessonRefused as refused:
            logger.warning("could not end online lesson %s automatically: %s", online_id, refused.reason)
            continue
        ended.append(online_id)
    return ended


def overdue(host: Host, settings: LessonSettings | None, *, after: timedelta) -> list[tuple[int, LessonRef | None]]:
    """The active online lessons of the settings' account (every account's while not configured) whose lesson ended
    more than ``after`` ago, or is no longer in the schedule (``None``): (online lesson id, lesson)."""
    with host.db.session() as session:
        query = select(OnlineLesson).where(OnlineLesson.state == "active")
        if settings is not None:
            query = query.where(*settings.account.owns(OnlineLesson))
        by_lesson = {row.lesson_id: row.id for row in session.scalars(query).all()}
    if not by_lesson:
        return []
    lessons: Mapping[int, LessonRef] = host.directory.lessons(by_lesson)
    now = host.clock.now()
    due: list[tuple[int, LessonRef | None]] = []
    for lesson_id, online_id in by_lesson.items():
        lesson = lessons.get(lesson_id)
        if lesson is None or now >= lesson.ends_at + after:
            due.append((online_id, lesson))
    return due


@attrs.frozen
class LessonOutcome:
    """What «Начать» or «Завершить» did.

    :param online: the online lesson as it now is.
    :param open_url: where to send the person now (the group's chat, a call), or ``None``: back to the schedule.
    :param notice: what went partly wrong (a Russian source string), shown on a page instead of the redirect.
    """

    online: OnlineLesson
    open_url: str | None = attrs.field(default=None, repr=False)
    notice: str | None = None


class LessonPlatform(Protocol):
    """What online lessons do on one platform (the lessons part of :class:`~sferum_plugin.services.platforms.
    Platform`).  The rules (permission, teacher, the organisation's day, a linked profile) are the same everywhere:
    every implementation checks them through :func:`view_for`, :func:`check_start` and :func:`check_end`."""

    @property
    def offers_call_link(self) -> bool:
        """Whether the teacher may paste a call link when starting (MAX: its call API does not exist)."""
        ...

    @property
    def teacher_join_label(self) -> str:
        """The teacher's button of an active lesson (a Russian source string)."""
        ...

    def settings(self, stored: Mapping[str, str]) -> LessonSettings | None:
        """The platform's settings, or ``None`` while it is not configured."""
        ...

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
        """«Начать онлайн-занятие в Сферум». :raises LessonRefused: not allowed, or the platform failed."""
        ...

    def end(
        self, host: Host, viewer: Viewer, lesson_id: int, stored: Mapping[str, str], sferum: SferumAccess
    ) -> LessonOutcome:
        """«Завершить онлайн-занятие в Сферум». :raises LessonRefused: not allowed, or the platform failed."""
        ...

    def end_overdue(self, host: Host, stored: Mapping[str, str], sferum: SferumAccess) -> list[int]:
        """The job: end the lessons left active past the configured delay; returns the ended ids."""
        ...


class VkLessons:
    """Online lessons in VK Messenger: a Sferum call (``calls.start``/``calls.forceFinish``), as before MAX."""

    offers_call_link = False
    teacher_join_label = N_("Войти в звонок")

    def settings(self, stored: Mapping[str, str]) -> SferumSettings | None:
        return SferumSettings.from_stored(stored)

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
        del call_link  # VK makes the call itself
        settings = SferumSettings.from_stored(stored)
        with sferum.calls() as calls:
            online = start_lesson(host, viewer, lesson_id, settings, calls, confirm_after_unknown=confirm)
        return LessonOutcome(online)

    def end(
        self, host: Host, viewer: Viewer, lesson_id: int, stored: Mapping[str, str], sferum: SferumAccess
    ) -> LessonOutcome:
        settings = SferumSettings.from_stored(stored)
        with sferum.calls() as calls:
            return LessonOutcome(end_lesson(host, viewer, lesson_id, settings, calls))

    def end_overdue(self, host: Host, stored: Mapping[str, str], sferum: SferumAccess) -> list[int]:
        settings = SferumSettings.from_stored(stored)
        if settings is None:
            return []
        with sferum.calls() as calls:
            return auto_end_overdue(host, settings, calls, after=timedelta(minutes=settings.auto_end_after_minutes))
