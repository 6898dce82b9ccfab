"""Start, join and end an online lesson (POST routes behind the lesson cards' buttons)."""

from __future__ import annotations

from hookspecs.types import HttpRequest, HttpResponse, Page
from sferum_plugin.i18n import N_
from sferum_plugin.services import connection
from sferum_plugin.services import lessons as lesson_service
from sferum_plugin.services.lessons import LessonRefused
from sferum_plugin.views._common import message_page, settings_of, viewer_of

__all__ = ["end_lesson", "join_lesson", "start_lesson"]


def _lesson_id(request: HttpRequest) -> int | None:
    try:
        return int(request.path_params["lesson_id"])
    except (KeyError, ValueError):
        return None


def _refused(request: HttpRequest, refused: LessonRefused) -> Page:
    return message_page(
        request,
        N_("Онлайн-занятие"),
        refused.reason,
        status=refused.status,
        back_url=request.host.urls.host_page("schedule"),
    )


def start_lesson(request: HttpRequest) -> HttpResponse | Page:
    lesson_id = _lesson_id(request)
    if lesson_id is None:
        return _refused(request, LessonRefused(N_("Занятие не найдено."), status=404))
    try:
        with connection.gateway_calls() as calls:
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
    lesson_id = _lesson_id(request)
    if lesson_id is None:
        return _refused(request, LessonRefused(N_("Занятие не найдено."), status=404))
    try:
        link = lesson_service.join_link(request.host, viewer_of(request), lesson_id, settings_of(request))
    except LessonRefused as refused:
        return _refused(request, refused)
    return HttpResponse.redirect(link)


def end_lesson(request: HttpRequest) -> HttpResponse | Page:
    lesson_id = _lesson_id(request)
    if lesson_id is None:
        return _refused(request, LessonRefused(N_("Занятие не найдено."), status=404))
    try:
        with connection.gateway_calls() as calls:
            lesson_service.end_lesson(request.host, viewer_of(request), lesson_id, settings_of(request), calls)
    except LessonRefused as refused:
        return _refused(request, refused)
    return HttpResponse.redirect(request.host.urls.host_page("schedule"))
