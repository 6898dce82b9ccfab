"""Start, join and end an online lesson (POST routes behind the lesson cards' buttons)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hookspecs.types import HttpRequest, HttpResponse, Page
from sferum_plugin.i18n import N_
from sferum_plugin.numbers import parse_int
from sferum_plugin.permissions import ONLINE_LESSONS_VIEW
from sferum_plugin.services import lessons as lesson_service
from sferum_plugin.services.lessons import LessonRefused
from sferum_plugin.views._common import locale_of, message_page, settings_of, viewer_of
from sferum_plugin.views._routing import ModuleRoute

if TYPE_CHECKING:
    from sferum_plugin.services.connection import SferumAccess

__all__ = ["ROUTES", "end_lesson", "join_lesson", "start_lesson"]


def _lesson_id(request: HttpRequest) -> int:
    lesson_id = parse_int(request.path_params.get("lesson_id"))
    if lesson_id is None:
        raise LessonRefused(N_("Занятие не найдено."), status=404)
    return lesson_id


def _refused(request: HttpRequest, refused: LessonRefused) -> Page:
    return message_page(
        request,
        N_("Онлайн-занятие"),
        refused.text(locale_of(request), request.host.clock.timezone),
        status=refused.status,
        back_url=request.host.urls.host_page("schedule"),
    )


def start_lesson(request: HttpRequest, sferum: SferumAccess) -> HttpResponse | Page:
    try:
        lesson_id = _lesson_id(request)
        with sferum.calls() as calls:
            lesson_service.start_lesson(
                request.host,
                viewer_of(request),
                lesson_id,
                settings_of(request),
                calls,
                confirm_after_unknown=request.args.get("confirm") == "1",
            )
    except LessonRefused as refused:
        return _refused(request, refused)
    return HttpResponse.redirect(request.host.urls.host_page("schedule"))


def join_lesson(request: HttpRequest) -> HttpResponse | Page:
    try:
        link = lesson_service.join_link(request.host, viewer_of(request), _lesson_id(request), settings_of(request))
    except LessonRefused as refused:
        return _refused(request, refused)
    return HttpResponse.redirect(link)


def end_lesson(request: HttpRequest, sferum: SferumAccess) -> HttpResponse | Page:
    try:
        lesson_id = _lesson_id(request)
        with sferum.calls() as calls:
            lesson_service.end_lesson(request.host, viewer_of(request), lesson_id, settings_of(request), calls)
    except LessonRefused as refused:
        return _refused(request, refused)
    return HttpResponse.redirect(request.host.urls.host_page("schedule"))


_VIEW = ONLINE_LESSONS_VIEW
ROUTES: tuple[ModuleRoute, ...] = (
    ModuleRoute("lessons/<lesson_id>/start", "lesson_start", start_lesson, ("POST",), _VIEW, reaches_sferum=True),
    ModuleRoute("lessons/<lesson_id>/join", "lesson_join", join_lesson, ("POST",), _VIEW),
    ModuleRoute("lessons/<lesson_id>/end", "lesson_end", end_lesson, ("POST",), _VIEW, reaches_sferum=True),
)
