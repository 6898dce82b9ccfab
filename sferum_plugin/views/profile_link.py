"""«Создать учебный профиль Сферум» and the administrators' list of linked profiles.

The button asks the chosen platform's adapter to start (:meth:`Platform.start_linking`): in VK Messenger the browser
goes to VK ID and comes back to :func:`link_callback`; in MAX the page shows the bot's deep link and its QR code, and
its script (:data:`SCRIPT`, served by :func:`link_script`: the host's policy allows no inline script) polls
:func:`link_status` until the person has pressed Start in MAX.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import TYPE_CHECKING

from hookspecs.types import HttpRequest, HttpResponse, Page
from sferum_plugin import MODULE_NAME
from sferum_plugin.gateway.errors import SferumError
from sferum_plugin.i18n import N_, gettext
from sferum_plugin.numbers import parse_int
from sferum_plugin.rendering import render
from sferum_plugin.services import max_profiles, profiles
from sferum_plugin.services.explain import Retry, explain
from sferum_plugin.services.platforms import platform_for
from sferum_plugin.settings import configured_account
from sferum_plugin.views._common import locale_of, message_page, settings_of, viewer_of
from sferum_plugin.views._routing import ModuleRoute

if TYPE_CHECKING:
    from sferum_plugin.services.connection import SferumAccess

__all__ = [
    "ROUTES",
    "SCRIPT",
    "link_callback",
    "link_script",
    "link_status",
    "linked_profiles_page",
    "start_link",
    "unlink_profile",
]

_STATE_KEY = "link_state"
_TITLE = N_("Учебный профиль Сферум")

SCRIPT = resources.files("sferum_plugin").joinpath("templates", "static", "profile_link.js").read_text("utf-8")
"""The linking page's script: asks :func:`link_status` until the link is made, refused or expired."""


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
    """POST: start linking on the chosen platform. VK Messenger: remember a fresh ``state`` in the viewer's session
    and send the browser to VK ID. MAX: show the bot's deep link, its QR code, and wait for Start."""
    viewer, stored = viewer_of(request), request.host.settings.get(MODULE_NAME)
    try:
        start = platform_for(stored).start_linking(
            stored, sferum, host=request.host, user_id=viewer.user_id, redirect_uri=_redirect_uri(request)
        )
    except profiles.LinkFailed as failed:
        return message_page(request, _TITLE, failed.reason, status=409, back_url=_section_url(request))
    except SferumError as error:
        text = explain(error, retry=Retry.BY_PERSON).text(locale_of(request), request.host.clock.timezone)
        return message_page(request, _TITLE, text, status=502, back_url=_section_url(request))
    if start is None:
        return _not_configured(request)
    if isinstance(start, profiles.LinkStart):
        request.session[_STATE_KEY] = start.state
        return HttpResponse.redirect(start.authorize_url)
    return _deep_link_page(request, start)


def _deep_link_page(request: HttpRequest, start: max_profiles.DeepLinkStart) -> Page:
    """The bot's deep link to open in MAX, its QR code for a phone, and the status the script keeps up to date."""
    locale = locale_of(request)
    urls = request.host.urls
    body = render(
        "profile_link_max.html",
        locale,
        deep_link=start.deep_link,
        qr_svg=start.qr_svg,
        expires_at=start.expires_at,
        waiting=gettext(locale, max_profiles.WAITING),
        status_url=urls.for_route(MODULE_NAME, "profile_link_status", request_id=start.request_id),
        script_url=urls.for_route(MODULE_NAME, "profile_link_script"),
        back_url=_section_url(request),
        timezone=request.host.clock.timezone,
    )
    return Page(title=gettext(locale, _TITLE), body_html=body, menu_key="sferum.online_lessons")


def _json(value: dict[str, object], *, status: int = 200) -> HttpResponse:
    body = json.dumps(value, ensure_ascii=False)
    return HttpResponse(
        status=status, body=body, content_type="application/json; charset=utf-8", headers={"Cache-Control": "no-store"}
    )


def link_status(request: HttpRequest) -> HttpResponse:
    """GET, JSON: what became of the viewer's own MAX link request (404 for anyone else's or an unknown one)."""
    viewer, locale = viewer_of(request), locale_of(request)
    account = configured_account(request.host.settings.get(MODULE_NAME))
    request_id = parse_int(request.path_params.get("request_id"), low=1)
    status = None
    if account is not None and request_id is not None:
        status = max_profiles.link_status(
            request.host.db,
            request_id=request_id,
            user_id=viewer.user_id,
            account=account,
            now=request.host.clock.now(),
        )
    if status is None:
        return _json({"state": "unknown", "done": True, "text": gettext(locale, "Запрос не найден.")}, status=404)
    return _json({"state": status.state, "done": status.done, "text": status.text(locale)})


def link_script(request: HttpRequest) -> HttpResponse:
    """GET: the linking page's script (a file of the module's own: the host's policy allows scripts from the site)."""
    return HttpResponse(body=SCRIPT, content_type="text/javascript; charset=utf-8")


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
    """Administrators: who is linked to which profile of the chosen platform (VK Messenger's or MAX's)."""
    viewer, locale = viewer_of(request), locale_of(request)
    account = configured_account(request.host.settings.get(MODULE_NAME))
    if not viewer.is_admin:
        return message_page(request, N_("Учебные профили Сферум"), N_("Недостаточно прав."), status=403, back_url="/")
    if account is None:
        body = render("linked_profiles.html", locale, rows=[], configured=False)
    else:
        body = render(
            "linked_profiles.html",
            locale,
            rows=profiles.linked_profiles(request.host, account=account),
            configured=True,
            unlink_url=lambda user_id: request.host.urls.for_route(MODULE_NAME, "profile_unlink", user_id=user_id),
            csrf_field=request.csrf_field,
            csrf_token=request.csrf_token,
            timezone=request.host.clock.timezone,
        )
    return Page(title=gettext(locale, "Учебные профили Сферум"), body_html=body)


def unlink_profile(request: HttpRequest) -> HttpResponse | Page:
    """POST, administrators: remove one person's link (on the chosen platform)."""
    viewer, account = viewer_of(request), configured_account(request.host.settings.get(MODULE_NAME))
    back = request.host.urls.for_route(MODULE_NAME, "profiles")
    if not viewer.is_admin:
        return message_page(request, N_("Учебные профили Сферум"), N_("Недостаточно прав."), status=403, back_url="/")
    if account is None:
        return message_page(request, N_("Учебные профили Сферум"), N_("Модуль не настроен."), status=409, back_url=back)
    user_id = parse_int(request.path_params.get("user_id"))
    if user_id is None:  # a path id that is not an id names no one
        return message_page(request, N_("Учебные профили Сферум"), N_("Профиль не найден."), status=404, back_url=back)
    profiles.remove_link(request.host.db, user_id=user_id, account=account, now=request.host.clock.now())
    return HttpResponse.redirect(back)


ROUTES: tuple[ModuleRoute, ...] = (
    ModuleRoute("profile/link", "profile_link", start_link, methods=("POST",), reaches_sferum=True),
    ModuleRoute("profile/callback", "profile_callback", link_callback, reaches_sferum=True),
    ModuleRoute("profile/link/<request_id>/status", "profile_link_status", link_status),
    ModuleRoute("profile/link.js", "profile_link_script", link_script),
    ModuleRoute("profiles", "profiles", linked_profiles_page),
    ModuleRoute("profiles/<user_id>/unlink", "profile_unlink", unlink_profile, methods=("POST",)),
)
