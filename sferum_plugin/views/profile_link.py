"""«Создать учебный профиль Сферум»: the VK ID round trip, and the administrators' list of linked profiles."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hookspecs.types import HttpRequest, HttpResponse, Page
from sferum_plugin import MODULE_NAME
from sferum_plugin.i18n import N_, gettext
from sferum_plugin.numbers import parse_int
from sferum_plugin.rendering import render
from sferum_plugin.services import profiles
from sferum_plugin.views._common import locale_of, message_page, settings_of, viewer_of
from sferum_plugin.views._routing import ModuleRoute

if TYPE_CHECKING:
    from sferum_plugin.services.connection import SferumAccess

__all__ = ["ROUTES", "link_callback", "linked_profiles_page", "start_link", "unlink_profile"]

_STATE_KEY = "link_state"


def _section_url(request: HttpRequest) -> str:
    return request.host.urls.for_route(MODULE_NAME, "online_lessons")


def _redirect_uri(request: HttpRequest) -> str:
    return request.host.urls.external(request.host.urls.for_route(MODULE_NAME, "profile_callback"))


def _not_configured(request: HttpRequest) -> Page:
    return message_page(
        request,
        N_("Онлайн-занятия"),
        N_("Модуль ещё не настроен: обратитесь к администратору."),
        status=409,
        back_url=_section_url(request),
    )


def start_link(request: HttpRequest, sferum: SferumAccess) -> HttpResponse | Page:
    """POST: remember a fresh ``state`` in the viewer's session and send the browser to VK ID."""
    viewer, settings = viewer_of(request), settings_of(request)
    if settings is None:
        return _not_configured(request)
    with sferum.profiles(settings) as api:
        start = profiles.start_linking(
            request.host.db,
            api,
            user_id=viewer.user_id,
            account=settings.account,
            redirect_uri=_redirect_uri(request),
            now=request.host.clock.now(),
        )
    request.session[_STATE_KEY] = start.state
    return HttpResponse.redirect(start.authorize_url)


def link_callback(request: HttpRequest, sferum: SferumAccess) -> HttpResponse | Page:
    """GET: VK ID's redirect back. Every failure ends on a page that says what happened; nothing is stored then."""
    viewer, settings = viewer_of(request), settings_of(request)
    back = _section_url(request)
    session_state = request.session.pop(_STATE_KEY, None)
    if settings is None:
        return _not_configured(request)
    try:
        with sferum.profiles(settings) as api:
            linked = profiles.complete_link(
                request.host.db,
                api,
                user_id=viewer.user_id,
                account=settings.account,
                state=request.args.get("state", ""),
                session_state=session_state if isinstance(session_state, str) else None,
                code=request.args.get("code", ""),
                device_id=request.args.get("device_id", ""),
                error=request.args.get("error", ""),
                now=request.host.clock.now(),
            )
    except profiles.LinkFailed as failed:
        return message_page(request, N_("Учебный профиль Сферум"), failed.reason, status=400, back_url=back)
    text = gettext(locale_of(request), "Учебный профиль Сферум привязан:") + f" {linked.display_name}"
    return message_page(request, N_("Учебный профиль Сферум"), text, status=200, back_url=back)


def linked_profiles_page(request: HttpRequest) -> Page:
    """Administrators: who is linked to which Sferum profile."""
    viewer, settings, locale = viewer_of(request), settings_of(request), locale_of(request)
    if not viewer.is_admin:
        return message_page(request, N_("Учебные профили Сферум"), N_("Недостаточно прав."), status=403, back_url="/")
    if settings is None:
        body = render("linked_profiles.html", locale, rows=[], configured=False)
    else:
        body = render(
            "linked_profiles.html",
            locale,
            rows=profiles.linked_profiles(request.host, account=settings.account),
            configured=True,
            unlink_url=lambda user_id: request.host.urls.for_route(MODULE_NAME, "profile_unlink", user_id=user_id),
            csrf_field=request.csrf_field,
            csrf_token=request.csrf_token,
            timezone=request.host.clock.timezone,
        )
    return Page(title=gettext(locale, "Учебные профили Сферум"), body_html=body)


def unlink_profile(request: HttpRequest) -> HttpResponse | Page:
    """POST, administrators: remove one person's link."""
    viewer, settings = viewer_of(request), settings_of(request)
    back = request.host.urls.for_route(MODULE_NAME, "profiles")
    if not viewer.is_admin:
        return message_page(request, N_("Учебные профили Сферум"), N_("Недостаточно прав."), status=403, back_url="/")
    if settings is None:
        return message_page(request, N_("Учебные профили Сферум"), N_("Модуль не настроен."), status=409, back_url=back)
    user_id = parse_int(request.path_params.get("user_id"))
    if user_id is None:  # a path id that is not an id names no one
        return message_page(request, N_("Учебные профили Сферум"), N_("Профиль не найден."), status=404, back_url=back)
    profiles.remove_link(request.host.db, user_id=user_id, account=settings.account, now=request.host.clock.now())
    return HttpResponse.redirect(back)


ROUTES: tuple[ModuleRoute, ...] = (
    ModuleRoute("profile/link", "profile_link", start_link, methods=("POST",), reaches_sferum=True),
    ModuleRoute("profile/callback", "profile_callback", link_callback, reaches_sferum=True),
    ModuleRoute("profiles", "profiles", linked_profiles_page),
    ModuleRoute("profiles/<user_id>/unlink", "profile_unlink", unlink_profile, methods=("POST",)),
)
