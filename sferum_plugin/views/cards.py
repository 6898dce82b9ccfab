"""The online-lesson part of the schedule's lesson cards (the batched ``lms_schedule_cards`` hook)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from hookspecs.services import Host
from hookspecs.types import Action, LessonCard, LessonRef, Viewer
from sferum_plugin import MODULE_NAME
from sferum_plugin.i18n import gettext
from sferum_plugin.permissions import ONLINE_LESSONS_VIEW
from sferum_plugin.services.lessons import LessonPlatform, LessonView, schedule_views
from sferum_plugin.services.platforms import platform_for
from sferum_plugin.settings import ScheduleSettings

__all__ = ["schedule_cards"]


def schedule_cards(viewer: Viewer, lessons: Sequence[LessonRef], host: Host) -> Mapping[int, LessonCard]:
    """Cards for every lesson of the page, with a fixed number of queries."""
    if not viewer.can(ONLINE_LESSONS_VIEW) or not lessons:
        return {}
    stored = host.settings.get(MODULE_NAME)
    platform = platform_for(stored).lessons
    hint = ScheduleSettings.from_stored(host.settings.get("schedule")).online_lesson_hint
    views = schedule_views(host, viewer, lessons, platform.settings(stored))
    cards = {lesson_id: _card(view, viewer.locale, host, hint, platform) for lesson_id, view in views.items()}
    return {lesson_id: card for lesson_id, card in cards.items() if card != LessonCard()}


def _card(view: LessonView, locale: str, host: Host, hint: str, platform: LessonPlatform) -> LessonCard:
    def t(text: str) -> str:
        return gettext(locale, text)

    def url(endpoint: str, **params: object) -> str:
        return host.urls.for_route(MODULE_NAME, endpoint, lesson_id=view.lesson.id, **params)

    if view.active:
        return _active_card(view, t, url, host, hint, platform)
    actions: list[Action] = []
    status = ""
    if view.online is not None and view.online.state == "ended" and (view.is_teacher or view.is_student):
        auto = view.online.end_reason == "auto"
        status = t("Онлайн-занятие завершено автоматически") if auto else t("Онлайн-занятие завершено")
        if view.is_teacher and view.online.note:
            status = f"{status}. {t(view.online.note)}"
    if view.is_teacher and view.online is not None and view.online.state == "unknown":
        status = t("Сферум не подтвердил запуск онлайн-занятия.")
        actions.append(
            Action(
                label=t("Начать онлайн-занятие заново"),
                url=url("lesson_start") + "?confirm=1",
                method="POST",
                style="primary",
                confirm=t("Если звонок всё же был создан, он останется без участников. Начать заново?"),
            )
        )
    elif view.can_start:
        actions.append(
            Action(label=t("Начать онлайн-занятие в Сферум"), url=url("lesson_start"), method="POST", style="primary")
        )
        if platform.offers_call_link:
            actions.append(Action(label=t("Начать со ссылкой на звонок MAX"), url=_section(host, view.lesson.id)))
    elif view.is_teacher and view.is_today and view.configured and not view.profile_linked:
        actions.append(Action(label=t("Создать учебный профиль Сферум"), url=_section(host)))
    return LessonCard(status=status, actions=tuple(actions))


def _active_card(
    view: LessonView,
    t: Callable[[str], str],
    url: Callable[[str], str],
    host: Host,
    hint: str,
    platform: LessonPlatform,
) -> LessonCard:
    actions: list[Action] = []
    status = t("Онлайн-занятие идёт")
    if view.is_teacher:
        if view.online is not None and view.online.note:
            status = f"{status}. {t(view.online.note)}"
        actions.append(Action(label=t(platform.teacher_join_label), url=url("lesson_join"), method="POST",
                              style="primary"))  # fmt: skip
        actions.append(
            Action(
                label=t("Завершить онлайн-занятие в Сферум"),
                url=url("lesson_end"),
                method="POST",
                style="danger",
                confirm=t("Завершить онлайн-занятие для всех участников?"),
            )
        )
    elif view.is_student and view.profile_linked:
        actions.append(
            Action(label=t("Перейти в онлайн-занятие Сферум"), url=url("lesson_join"), method="POST", style="primary")
        )
    elif view.is_student:
        status = t("Онлайн-занятие идёт. Чтобы войти, создайте учебный профиль Сферум.")
        actions.append(Action(label=t("Создать учебный профиль Сферум"), url=_section(host)))
    return LessonCard(status=status, hint=hint, actions=tuple(actions))


def _section(host: Host, lesson_id: int | None = None) -> str:
    """The «Онлайн-занятия» section (at the lesson's row, where a MAX call link can be pasted)."""
    section = host.urls.for_route(MODULE_NAME, "online_lessons")
    return section if lesson_id is None else f"{section}#lesson-{lesson_id}"
