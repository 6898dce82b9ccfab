"""The «Онлайн-занятия» section: the viewer's educational profile and today's online lessons."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from hookspecs.types import HttpRequest, Page
from sferum_plugin import MODULE_NAME
from sferum_plugin.i18n import gettext
from sferum_plugin.rendering import render
from sferum_plugin.services import lessons as lesson_service
from sferum_plugin.services import profiles
from sferum_plugin.views._common import locale_of, settings_of, viewer_of

__all__ = ["online_lessons_page"]


def online_lessons_page(request: HttpRequest) -> Page:
    """The section's page; the route's permission is «Просмотр раздела онлайн-занятий (Сферум)»."""
    viewer, host, locale = viewer_of(request), request.host, locale_of(request)
    settings = settings_of(request)
    clock = host.clock
    day_start = datetime.combine(clock.today(), time.min, tzinfo=clock.timezone)
    todays = host.directory.lessons_between(day_start, day_start + timedelta(days=1))
    with host.db.session() as session:
        link = None
        if settings is not None:
            link = profiles.links_by_user(session, app_id=settings.app_id, user_ids=[viewer.user_id]).get(
                viewer.user_id
            )
        views = lesson_service.lesson_views(session, host, viewer, todays, settings)
        mine = sorted(
            (view for view in views.values() if view.is_teacher or view.is_student),
            key=lambda view: view.lesson.starts_at,
        )
        body = render(
            "online_lessons.html",
            locale,
            configured=settings is not None,
            link=link,
            web_url=settings.web_url if settings else "",
            lessons=mine,
            schedule_url=host.urls.host_page("schedule"),
            link_url=host.urls.for_route(MODULE_NAME, "profile_link"),
            csrf_field=request.csrf_field,
            csrf_token=request.csrf_token,
            timezone=clock.timezone,
        )
    return Page(title=gettext(locale, "Онлайн-занятия"), body_html=body, menu_key="sferum.online_lessons")
