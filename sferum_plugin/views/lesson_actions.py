"""Start, join and end an online lesson (POST routes behind the lesson cards' buttons).

What starting and ending do is the chosen platform's (``platform_for(stored).lessons``): a VK call, or an
announcement in the group's MAX chat; the rules are the same on both (:mod:`sferum_plugin.services.lessons`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hookspecs.types import HttpRequest, HttpResponse, Page
from sferum_plugin import MODULE_NAME
from sferum_plugin.i18n import N_, gettext
from sferum_plugin.numbers import parse_int
from sferum_plugin.permissions import ONLINE_LESSONS_VIEW
from sferum_plugin.rendering import render
from sferum_plugin.services import lessons as lesson_service
from sferum_plugin.services.lessons import LessonOutcome, LessonPlatform, LessonRefused
from sferum_plugin.services.platforms import platform_for
from sferum_plugin.views._common import locale_of, message_page, viewer_of
from sferum_plugin.views._routing import ModuleRoute

if TYPE_CHECKING:
    from sferum_plugin.services.connection import SferumAccess

__all__ = ["ROUTES", "end_lesson", "join_lesson", "start_lesson"]


def _lesson_id(request: HttpRequest) -> int:
    lesson_id = parse_int(request.path_params.get("lesson_id"))
    if lesson_id is None:
        raise LessonRefused(N_("Занятие не найдено."), status=404)
    return lesson_id


def _lessons(request: HttpRequest) -> LessonPlatform:
    return platform_for(request.host.settings.get(MODULE_NAME)).lessons


def _refused(request: HttpRequest, refused: LessonRefused) -> Page:
    return message_page(
        request,
        N_("Онлайн-занятие"),
        refused.text(locale_of(request), request.host.clock.timezone),
        status=refused.status,
        back_url=request.host.urls.host_page("schedule"),
    )


def _to_place(link: str) -> HttpResponse:
    """A redirect to the lesson's place (a call, a chat): its link is a way in, so it is neither cached nor passed on
    as a referrer (as «Открыть в Сферум» does)."""
    return HttpResponse(
        status=303, headers={"Location": link, "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    )


def _done(request: HttpRequest, outcome: LessonOutcome) -> HttpResponse | Page:
    """Where the person goes after «Начать»/«Завершить»: the lesson's place, the schedule, or a page saying what
    went partly wrong (the place is then behind a POST button, so its link never appears on a page)."""
    schedule = request.host.urls.host_page("schedule")
    if outcome.notice is None:
        return HttpResponse.redirect(schedule) if outcome.open_url is None else _to_place(outcome.open_url)
    locale = locale_of(request)
    body = render(
        "lesson_notice.html",
        locale,
        notice=gettext(locale, outcome.notice),
        join_url=request.host.urls.for_route(MODULE_NAME, "lesson_join", lesson_id=outcome.online.lesson_id)
        if outcome.online.state == "active"
        else "",
        back_url=schedule,
        csrf_field=request.csrf_field,
        csrf_token=request.csrf_token,
    )
    return Page(title=gettext(locale, "Онлайн-занятие"), body_html=body, menu_key="sferum.online_lessons")


def start_lesson(request: HttpRequest, sferum: SferumAccess) -> HttpResponse | Page:
    try:
        lesson_id = _lesson_id(request)
        outcome = _lessons(request).start(
            request.host,
            viewer_of(request),
            lesson_id,
            request.host.settings.get(MODULE_NAME),
            sferum,
            confirm=request.args.get("confirm") == "1",
            call_link=request.form.get("call_link", ""),
        )
    except LessonRefused as refused:
        return _refused(request, refused)
    return _done(request, outcome)


def join_lesson(request: HttpRequest) -> HttpResponse | Page:
    stored = request.host.settings.get(MODULE_NAME)
    settings = platform_for(stored).lessons.settings(stored)
    try:
        link = lesson_service.join_link(request.host, viewer_of(request), _lesson_id(request), settings)
    except LessonRefused as refused:
        return _refused(request, refused)
    return _to_place(link)


def end_lesson(request: HttpRequest, sferum: SferumAccess) -> HttpResponse | Page:
    try:
        lesson_id = _lesson_id(request)
        outcome = _lessons(request).end(
            request.host, viewer_of(request), lesson_id, request.host.settings.get(MODULE_NAME), sferum
        )
    except LessonRefused as refused:
        return _refused(request, refused)
    return _done(request, outcome)


_VIEW = ONLINE_LESSONS_VIEW
ROUTES: tuple[ModuleRoute, ...] = (
    ModuleRoute("lessons/<lesson_id>/start", "lesson_start", start_lesson, ("POST",), _VIEW, reaches_sferum=True),
    ModuleRoute("lessons/<lesson_id>/join", "lesson_join", join_lesson, ("POST",), _VIEW),
    ModuleRoute("lessons/<lesson_id>/end", "lesson_end", end_lesson, ("POST",), _VIEW, reaches_sferum=True),
)
