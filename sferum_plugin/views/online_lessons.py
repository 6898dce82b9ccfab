"""The «Онлайн-занятия» section: the viewer's educational profile and today's online lessons."""

from __future__ import annotations

from hookspecs.types import HttpRequest, Page
from sferum_plugin import MODULE_NAME
from sferum_plugin.i18n import gettext
from sferum_plugin.permissions import ONLINE_LESSONS_VIEW
from sferum_plugin.rendering import render
from sferum_plugin.services import lessons as lesson_service
from sferum_plugin.services.platforms import platform_for
from sferum_plugin.views._common import locale_of, viewer_of
from sferum_plugin.views._routing import ModuleRoute

__all__ = ["ROUTES", "online_lessons_page"]


def online_lessons_page(request: HttpRequest) -> Page:
    """The section's page; the route's permission is «Просмотр раздела онлайн-занятий (Сферум)».

    On MAX a teacher may start a lesson here with the link of a MAX call they started (the field «Ссылка на звонок
    MAX»); the schedule's card starts it with the group's chat."""
    viewer, host, locale = viewer_of(request), request.host, locale_of(request)
    stored = host.settings.get(MODULE_NAME)
    platform = platform_for(stored)
    settings = platform.lessons.settings(stored)
    section = lesson_service.online_section(host, viewer, settings)
    asks_link = platform.lessons.offers_call_link
    body = render(
        "online_lessons.html",
        locale,
        configured=settings is not None,
        profile_name=section.profile_name,
        web_url=platform.web_url(stored) if settings else "",
        lessons=section.lessons,
        start_urls={
            view.lesson.id: host.urls.for_route(MODULE_NAME, "lesson_start", lesson_id=view.lesson.id)
            for view in section.lessons
            if asks_link and view.can_start
        },
        schedule_url=host.urls.host_page("schedule"),
        link_url=host.urls.for_route(MODULE_NAME, "profile_link"),
        csrf_field=request.csrf_field,
        csrf_token=request.csrf_token,
        timezone=host.clock.timezone,
    )
    return Page(title=gettext(locale, "Онлайн-занятия"), body_html=body, menu_key="sferum.online_lessons")


ROUTES: tuple[ModuleRoute, ...] = (
    ModuleRoute("online-lessons", "online_lessons", online_lessons_page, permission=ONLINE_LESSONS_VIEW),
)
