"""Chat pages: «Создать чат в Сферум» (group, unit or custom chat with a people picker), bulk creation for
administrators with its progress, re-creating a vanished chat, and the Чаты section's list.

How a chat comes to exist depends on the platform (services/platforms.py): VK Messenger creates it through the sync
pass; on MAX the bot sends the person who asked a chat button («Отправить кнопку ещё раз» if that failed), and an
administrator may link a chat that exists already («Связать существующий чат»)."""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import attrs

from hookspecs.services import Host
from hookspecs.types import Action, ChatSummary, GroupInfo, HttpRequest, HttpResponse, Page, PersonKind, Viewer
from sferum_plugin import MODULE_NAME
from sferum_plugin.i18n import N_, gettext
from sferum_plugin.models import SferumChat
from sferum_plugin.numbers import parse_int
from sferum_plugin.permissions import CHATS_CREATE_CUSTOM, CHATS_CREATE_GROUP, CHATS_CREATE_UNIT, CHATS_MANAGE
from sferum_plugin.rendering import render
from sferum_plugin.services import chat_links, chats, max_chats
from sferum_plugin.services.explain import reason_text
from sferum_plugin.services.platforms import platform_for
from sferum_plugin.settings import configured
from sferum_plugin.views._common import locale_of, message_page, module_settings_of, viewer_of
from sferum_plugin.views._routing import ModuleRoute
from sferum_plugin.views.sync_admin import STATE_LABELS

if TYPE_CHECKING:
    from sferum_plugin.services.connection import SferumAccess

__all__ = ["ROUTES", "chat_list", "section_actions"]

logger = logging.getLogger(__name__)

_CREATE_RIGHTS = (CHATS_CREATE_GROUP, CHATS_CREATE_UNIT, CHATS_CREATE_CUSTOM, CHATS_MANAGE)


def section_actions(viewer: Viewer, host: Host) -> list[Action] | None:
    """«Создать чат в Сферум» on the host's Чаты page, for viewers who may create some chat."""
    if not any(viewer.can(code) for code in _CREATE_RIGHTS):
        return None
    url = host.urls.for_route(MODULE_NAME, "chat_new")
    return [Action(label=gettext(viewer.locale, "Создать чат в Сферум"), url=url, style="primary")]


def chat_list(viewer: Viewer, host: Host) -> list[ChatSummary]:
    """The viewer's Sferum chats for the Чаты section (empty while the module is not configured)."""
    settings = configured(host.settings.get(MODULE_NAME))
    if settings is None:
        return []
    found = chats.viewer_chats(host, viewer, account=settings.account)
    label = gettext(viewer.locale, "Открыть в Сферум")
    return [attrs.evolve(chat, open_label=label) for chat in found]


def _choices(request: HttpRequest) -> tuple[dict[int, str], dict[int, str]]:
    """Groups and units the viewer may create a chat for."""
    viewer, directory = viewer_of(request), request.host.directory
    groups, units = directory.groups(), directory.units()
    if viewer.can(CHATS_MANAGE):
        return dict(groups), dict(units)
    mine_groups: dict[int, str] = {}
    mine_units: dict[int, str] = {}
    if viewer.employee_id is not None:
        if viewer.can(CHATS_CREATE_GROUP):
            staff = directory.group_staff(list(groups))
            mine_groups = {g: t for g, t in groups.items() if any(p.id == viewer.employee_id for p in staff.get(g, ()))}
        if viewer.can(CHATS_CREATE_UNIT):
            me = directory.people(PersonKind.EMPLOYEE, [viewer.employee_id]).get(viewer.employee_id)
            if me is not None and me.unit_id is not None and me.unit_id in units:
                mine_units = {me.unit_id: units[me.unit_id]}
    return mine_groups, mine_units


def new_chat(request: HttpRequest, sferum: SferumAccess) -> Page | HttpResponse:
    """GET: the form (with people search for a custom chat); POST: record the chat and have the platform create it
    (VK Messenger: now; MAX: the bot sends the asker a chat button)."""
    viewer, host, locale = viewer_of(request), request.host, locale_of(request)
    settings = module_settings_of(request)
    back = host.urls.host_page("chats")
    if settings is None:
        return message_page(request, "Чаты Сферум", "Модуль ещё не настроен: обратитесь к администратору.",
                            status=409, back_url=back)  # fmt: skip
    groups, units = _choices(request)
    platform = platform_for(host.settings.get(MODULE_NAME))
    error = ""
    if request.method == "POST":
        kind = request.form.get("kind", "")
        members = [parse_int(value) for value in request.form_lists.get("members", ())]
        try:
            if None in members:  # a member that is not an id refuses the form rather than being dropped
                raise chats.ChatRefused(N_("Некоторых выбранных пользователей нет среди обучающихся и сотрудников."))
            ask = chats.ChatAsk(kind=kind, target_id=parse_int(request.form.get(f"{kind}_id")),
                                title=request.form.get("title", ""),
                                member_user_ids=tuple(n for n in members if n is not None))  # fmt: skip
            made = platform.request_chat_created(host, sferum, viewer, ask)
        except chats.ChatRefused as refused:
            error = gettext(locale, refused.reason)
        else:
            return HttpResponse.redirect(host.urls.for_route(MODULE_NAME, "chat_view", chat_pk=made.chat_pk))
    query = request.args.get("q", "").strip()
    found = host.directory.search_people(query, limit=20) if len(query) >= 2 else []
    body = render(
        "chats_new.html", locale, groups=sorted(groups.items(), key=lambda i: i[1]),
        units=sorted(units.items(), key=lambda i: i[1]), can_custom=viewer.can(CHATS_CREATE_CUSTOM),
        query=query, found=[p for p in found if p.user_id is not None], error=error,
        form=request.form, csrf_field=request.csrf_field, csrf_token=request.csrf_token,
        action=host.urls.for_route(MODULE_NAME, "chat_new"), back_url=back, title_max=chats.TITLE_MAX,
        link_url=host.urls.for_route(MODULE_NAME, "chat_link")
        if platform.links_existing_chats and viewer.can(CHATS_MANAGE) else "",
    )  # fmt: skip
    return Page(title=gettext(locale, "Создать чат в Сферум"), body_html=body, status=400 if error else 200)


def _chat_row(request: HttpRequest, chat_pk: str) -> SferumChat | None:
    settings = module_settings_of(request)
    pk = parse_int(chat_pk)
    if settings is None or pk is None:
        return None
    return chats.find_chat(request.host.db, pk, account=settings.account)


def _own_chat(request: HttpRequest) -> SferumChat | None:
    """The chat of the path, if the viewer asked for it or manages chats (one answer for missing and not theirs)."""
    viewer = viewer_of(request)
    chat = _chat_row(request, request.path_params.get("chat_pk", ""))
    if chat is None or (chat.created_by != viewer.user_id and not viewer.can(CHATS_MANAGE)):
        return None
    return chat


def chat_view(request: HttpRequest) -> Page:
    """One chat's state: being created (on MAX: waiting for the tap on the bot's button), ready (with the «Открыть в
    Сферум» link), vanished, failed, or no longer managed (the bot was removed from it)."""
    viewer, locale, urls = viewer_of(request), locale_of(request), request.host.urls
    chat = _own_chat(request)
    settings = module_settings_of(request)
    back = urls.host_page("chats")
    if chat is None or settings is None:
        return message_page(request, "Чаты Сферум", "Чат не найден.", status=404, back_url=back)
    member = chat_links.may_open(request.host.db, chat.id, viewer, account=settings.account)
    error = reason_text(chat.error, locale, until=None, timezone=request.host.clock.timezone) if chat.error else ""
    body = render(
        "chats_view.html", locale, chat=chat, url=chats.chat_url(request.host, chat.id) if member else "",
        can_manage=viewer.can(CHATS_MANAGE), csrf_field=request.csrf_field, csrf_token=request.csrf_token,
        recreate_url=urls.for_route(MODULE_NAME, "chat_recreate", chat_pk=chat.id), back_url=back, error=error,
        resend_url=urls.for_route(MODULE_NAME, "chat_resend", chat_pk=chat.id),
        recheck_url=urls.for_route(MODULE_NAME, "chat_recheck", chat_pk=chat.id),
        sent=request.args.get("sent") == "1", mine=chat.created_by == viewer.user_id,
        button=max_chats.button_text(locale, chat.title),
    )  # fmt: skip
    return Page(title=chat.title, body_html=body)


def recreate_chat(request: HttpRequest, sferum: SferumAccess) -> Page | HttpResponse:
    """Mark a vanished chat for creation again (VK Messenger: the worker creates it within seconds; MAX: the bot
    sends the administrator a new chat button)."""
    host = request.host
    chat = _chat_row(request, request.path_params.get("chat_pk", ""))
    back = host.urls.for_route(MODULE_NAME, "sync_admin")
    if chat is None:
        return message_page(request, "Чаты Сферум", "Чат не найден.", status=404, back_url=back)
    try:
        recreated = platform_for(host.settings.get(MODULE_NAME)).recreate_chat(
            host, sferum, viewer_of(request), chat.id
        )
    except chats.ChatRefused as refused:
        return message_page(request, "Чаты Сферум", refused.reason, status=409, back_url=back)
    if not recreated:
        return message_page(request, "Чаты Сферум", "Этот чат нельзя создать заново.", status=409, back_url=back)
    return HttpResponse.redirect(host.urls.for_route(MODULE_NAME, "chat_view", chat_pk=chat.id))


def resend_button(request: HttpRequest, sferum: SferumAccess) -> Page | HttpResponse:
    """«Отправить кнопку ещё раз» (MAX): the bot sends the chat button to the viewer again."""
    host = request.host
    chat = _own_chat(request)
    back = host.urls.host_page("chats")
    if chat is None:
        return message_page(request, "Чаты Сферум", "Чат не найден.", status=404, back_url=back)
    try:
        sent = platform_for(host.settings.get(MODULE_NAME)).resend_chat_button(
            host, sferum, viewer_of(request), chat.id
        )
    except chats.ChatRefused as refused:
        return message_page(request, "Чаты Сферум", refused.reason, status=409, back_url=back)
    target = host.urls.for_route(MODULE_NAME, "chat_view", chat_pk=chat.id)
    return HttpResponse.redirect(f"{target}?sent=1" if sent else target)


def recheck_chat(request: HttpRequest, sferum: SferumAccess) -> Page | HttpResponse:
    """«Проверить чат снова» (MAX): a chat whose bot was removed works again once the bot administers it again."""
    host = request.host
    chat = _own_chat(request)
    back = host.urls.host_page("chats")
    if chat is None:
        return message_page(request, "Чаты Сферум", "Чат не найден.", status=404, back_url=back)
    target = host.urls.for_route(MODULE_NAME, "chat_view", chat_pk=chat.id)
    try:
        platform_for(host.settings.get(MODULE_NAME)).recheck_chat(host, sferum, chat.id)
    except chats.ChatRefused as refused:
        return message_page(request, "Чаты Сферум", refused.reason, status=409, back_url=target)
    return HttpResponse.redirect(target)


def link_chat(request: HttpRequest, sferum: SferumAccess) -> Page | HttpResponse:
    """Administrators (MAX): link a chat that exists already — one carried over from VK Messenger — to a study
    group or a unit, once MAX confirms the module's bot administers it."""
    host, locale = request.host, locale_of(request)
    back = host.urls.host_page("chats")
    platform = platform_for(host.settings.get(MODULE_NAME))
    if module_settings_of(request) is None or not platform.links_existing_chats:
        return message_page(request, "Чаты Сферум", "Связать существующий чат можно только в MAX.", status=409,
                            back_url=back)  # fmt: skip
    error = ""
    if request.method == "POST":
        kind = request.form.get("kind", "")
        try:
            chat_pk = platform.link_existing_chat(host, sferum, viewer_of(request), kind=kind,
                                                  target_id=parse_int(request.form.get(f"{kind}_id")),
                                                  chat_id=request.form.get("chat_id", ""))  # fmt: skip
        except chats.ChatRefused as refused:
            error = gettext(locale, refused.reason)
        else:
            return HttpResponse.redirect(host.urls.for_route(MODULE_NAME, "chat_view", chat_pk=chat_pk))
    body = render(
        "chats_link.html", locale, groups=sorted(host.directory.groups().items(), key=lambda i: i[1]),
        units=sorted(host.directory.units().items(), key=lambda i: i[1]), error=error, form=request.form,
        csrf_field=request.csrf_field, csrf_token=request.csrf_token,
        action=host.urls.for_route(MODULE_NAME, "chat_link"), back_url=back,
    )  # fmt: skip
    return Page(title=gettext(locale, "Связать существующий чат MAX"), body_html=body, status=400 if error else 200)


@attrs.frozen
class _GroupFilter:
    """The bulk page's filter: a structural unit and a year of study (``None``: any)."""

    unit_id: int | None = None
    year: int | None = None

    def matches(self, group: GroupInfo) -> bool:
        return (self.unit_id is None or group.unit_id == self.unit_id) and (
            self.year is None or group.year == self.year
        )

    @property
    def active(self) -> bool:
        return self.unit_id is not None or self.year is not None

    def query_string(self) -> str:
        """The filter as the page's query string (``unit=5&year=2``), ``""`` when it filters nothing."""
        return urlencode(
            {name: value for name, value in (("unit", self.unit_id), ("year", self.year)) if value is not None}
        )


class _UnknownFilter(Exception):
    """A filter value names nothing the directory has; ``reason`` is a source string marked for translation."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _group_filter(values: Mapping[str, str], units: Mapping[int, str], years: Collection[int]) -> _GroupFilter:
    """The filter from the page's ``unit`` and ``year`` values (query or form); empty values filter nothing.

    :raises _UnknownFilter: a value that is not a unit of the directory, or a year no group is in.
    """
    raw_unit, raw_year = values.get("unit", ""), values.get("year", "")
    unit_id, year = parse_int(raw_unit), parse_int(raw_year)
    if raw_unit and unit_id not in units:
        raise _UnknownFilter(N_("Структурное подразделение не найдено."))
    if raw_year and year not in years:
        raise _UnknownFilter(N_("Учебных групп такого курса нет."))
    return _GroupFilter(unit_id=unit_id, year=year)


def _chosen_groups(request: HttpRequest, listed: list[GroupInfo]) -> list[int]:
    """The groups a POST asks chats for, always among ``listed`` (the filter's groups, re-derived on the server):
    every listed group for «all», else the ticked ones and those whose title starts with the prefix.

    :raises chats.ChatRefused: a ticked value that is not a group id.
    """
    if request.form.get("scope") == "filter":
        return [group.id for group in listed]
    ticked = {parse_int(value) for value in request.form_lists.get("group_ids", ())}
    if None in ticked:
        raise chats.ChatRefused(N_("Учебная группа не найдена."))
    prefix = request.form.get("prefix", "").strip().casefold()
    return [g.id for g in listed if g.id in ticked or (prefix and g.title.casefold().startswith(prefix))]


_UNDER_WAY = ("creating", "unknown", "awaiting")
"""States of a chat on its way to exist (on MAX, ``awaiting`` the tap on its button)."""


def bulk_create(request: HttpRequest, sferum: SferumAccess) -> Page | HttpResponse:
    """Administrators: chats for many groups at once — every group of a unit and/or a year of study (the filter),
    ticked groups, or those whose title starts with a prefix — and the progress of their creation (on MAX: the bot
    sends the administrator the groups' chat buttons)."""
    viewer, host, locale = viewer_of(request), request.host, locale_of(request)
    settings = module_settings_of(request)
    progress = host.urls.for_route(MODULE_NAME, "chats_bulk")
    if settings is None:
        return message_page(request, "Чаты Сферум", "Модуль ещё не настроен: обратитесь к администратору.",
                            status=409, back_url=host.urls.host_page("chats"))  # fmt: skip
    groups, units = host.directory.group_infos(), host.directory.units()
    years = sorted({group.year for group in groups.values() if group.year is not None})
    error = ""
    try:
        chosen_filter = _group_filter(request.form if request.method == "POST" else request.args, units, years)
    except _UnknownFilter as unknown:
        chosen_filter, error = _GroupFilter(), gettext(locale, unknown.reason)
        listed: list[GroupInfo] = []
    else:
        listed = sorted((g for g in groups.values() if chosen_filter.matches(g)), key=lambda g: (g.title, g.id))
    if request.method == "POST" and not error:
        try:
            platform = platform_for(host.settings.get(MODULE_NAME))
            platform.request_group_chats(host, sferum, viewer, _chosen_groups(request, listed))
        except chats.ChatRefused as refused:
            error = gettext(locale, refused.reason)
        else:
            query = chosen_filter.query_string()
            return HttpResponse.redirect(f"{progress}?{query}" if query else progress)
    listed_ids = {group.id for group in listed}
    # Progress of the groups on the page: with a filter, of that unit's or year's groups only.
    states = chats.group_chat_states(host.db, account=settings.account, group_ids=listed_ids)
    counts: dict[str, int] = {}
    for state, _ in states.values():
        counts[state] = counts.get(state, 0) + 1
    body = render(
        "chats_bulk.html", locale, groups=listed, states=states, counts=counts, total=len(states),
        without_chat=len(listed_ids - states.keys()), state_labels=STATE_LABELS, error=error,
        units=sorted(units.items(), key=lambda i: (i[1], i[0])), years=years, unit_id=chosen_filter.unit_id,
        year=chosen_filter.year, filtered=chosen_filter.active, csrf_field=request.csrf_field,
        csrf_token=request.csrf_token, action=progress,
        in_progress=sum(counts.get(state, 0) for state in _UNDER_WAY) > 0,  # the page refreshes itself then
    )  # fmt: skip
    title = gettext(locale, "Чаты учебных групп в Сферум")
    return Page(title=title, body_html=body, status=400 if error else 200, menu_key="sferum.sync")


ROUTES: tuple[ModuleRoute, ...] = (
    ModuleRoute("chats/new", "chat_new", new_chat, ("GET", "POST"), reaches_sferum=True),
    ModuleRoute("chats/link", "chat_link", link_chat, ("GET", "POST"), CHATS_MANAGE, reaches_sferum=True),
    ModuleRoute("chats/<chat_pk>", "chat_view", chat_view),
    ModuleRoute(
        "chats/<chat_pk>/recreate", "chat_recreate", recreate_chat, ("POST",), CHATS_MANAGE, reaches_sferum=True
    ),
    ModuleRoute("chats/<chat_pk>/resend", "chat_resend", resend_button, ("POST",), reaches_sferum=True),
    ModuleRoute("chats/<chat_pk>/recheck", "chat_recheck", recheck_chat, ("POST",), reaches_sferum=True),
    ModuleRoute("chats-bulk", "chats_bulk", bulk_create, ("GET", "POST"), CHATS_MANAGE, reaches_sferum=True),
)
