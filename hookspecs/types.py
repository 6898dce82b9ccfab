"""Value types that cross the boundary between the host LMS and its plugins.

Every type here is an attrs class.  Values (things that describe, not things that act) are frozen, so that a
plugin cannot change what the host handed to another plugin.  Nothing here imports a web framework: requests and
responses are framework-neutral, and the host translates them to and from its own (Flask in the example host).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, MutableMapping
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Literal

import attrs

if TYPE_CHECKING:
    from hookspecs.services import Host

__all__ = [
    "Action",
    "BackgroundJob",
    "ChatBackendInfo",
    "ChatSummary",
    "DirectoryFilter",
    "FieldError",
    "GroupInfo",
    "HttpRequest",
    "HttpResponse",
    "JobContext",
    "LessonCard",
    "LessonRef",
    "MembershipChange",
    "MenuItem",
    "ModuleInfo",
    "Page",
    "Permission",
    "Person",
    "PersonKind",
    "PersonStatus",
    "PersonStatusChange",
    "Route",
    "SettingsField",
    "Viewer",
]


# --------------------------------------------------------------------------------------------------------------
# Modules and settings
# --------------------------------------------------------------------------------------------------------------


@attrs.frozen
class ModuleInfo:
    """What the Modules page shows about a module.

    :param name: stable machine name, unique among modules (``"sferum"``); the key of its settings.
    :param title: human title in the default (Russian) language.
    :param version: the module's version string.
    :param description: one or two sentences for the Modules page.
    """

    name: str
    title: str
    version: str
    description: str = ""


FieldType = Literal["text", "textarea", "integer", "url", "secret", "boolean", "choice"]


@attrs.frozen
class SettingsField:
    """One field of a settings form.

    The host renders the form, stores the values (``secret`` ones encrypted at rest), never renders a stored
    secret back (it shows a masked hint instead), and keeps the stored secret when the field is submitted blank.

    :param name: key under which the value is stored.
    :param label: label shown next to the input.
    :param type: one of ``text``, ``textarea``, ``integer``, ``url``, ``secret``, ``boolean``, ``choice``.
    :param help: a short explanation under the input.
    :param required: whether an empty value is refused.
    :param default: the value used while nothing is stored.
    :param max_length: the longest accepted value, in characters.
    :param choices: ``(value, label)`` pairs for ``choice`` fields.
    :param section: the group of fields this one is shown in (the host's own sections, e.g. ``"general"``).
    """

    name: str
    label: str
    type: FieldType = "text"
    help: str = ""
    required: bool = False
    default: str = ""
    max_length: int = 2000
    choices: tuple[tuple[str, str], ...] = ()
    section: str = "general"

    @property
    def secret(self) -> bool:
        """Whether the value is a secret (encrypted at rest, never rendered back)."""
        return self.type == "secret"


@attrs.frozen
class FieldError:
    """A validation error attached to one field of a settings form.

    :param field: the field's ``name``.
    :param message: what is wrong, in words the administrator understands.
    """

    field: str
    message: str


@attrs.frozen
class Permission:
    """A right a module declares; the roles page lets administrators grant it to roles.

    :param code: unique code, prefixed with the module name (``"sferum.online_lessons.view"``).
    :param section: the section of the roles page it is listed under (e.g. ``"Расписание"``).
    :param title: what the right allows, as the roles page shows it.
    :param default_roles: roles that receive it when the module is installed (codes such as ``"employee"``).
    """

    code: str
    section: str
    title: str
    default_roles: tuple[str, ...] = ()


# --------------------------------------------------------------------------------------------------------------
# People and the viewer
# --------------------------------------------------------------------------------------------------------------


class PersonKind(enum.StrEnum):
    """Which register of the accounting system a person belongs to."""

    STUDENT = "student"
    EMPLOYEE = "employee"


class PersonStatus(enum.StrEnum):
    """A person's status in the accounting records."""

    ACTIVE = "active"
    EXPELLED = "expelled"
    DISMISSED = "dismissed"


@attrs.frozen
class Person:
    """A student or an employee as the host's records describe them.

    :param id: the person's id in the host's records (unique per kind).
    :param kind: student or employee.
    :param user_id: the LMS account of this person, or ``None`` if they have no account.
    :param full_name: the name to show.
    :param email: e-mail address, or ``""``.
    :param status: active, expelled (students) or dismissed (employees).
    :param group_id: the study group of a student.
    :param unit_id: the structural unit of an employee.
    """

    id: int
    kind: PersonKind
    user_id: int | None
    full_name: str
    email: str = ""
    status: PersonStatus = PersonStatus.ACTIVE
    group_id: int | None = None
    unit_id: int | None = None

    @property
    def active(self) -> bool:
        """Whether the person is currently enrolled or employed."""
        return self.status == PersonStatus.ACTIVE


@attrs.frozen
class GroupInfo:
    """A study group as the host's records describe it: where it belongs and which year of study it is in.

    :param id: the group's id in the host's records.
    :param title: the group's title (``"ИВТ-21"``).
    :param unit_id: the structural unit the group belongs to (a faculty or a department), or ``None``.
    :param year: the year of study (курс: 1 for first-year students), or ``None`` if the host does not keep it.
    """

    id: int
    title: str
    unit_id: int | None = None
    year: int | None = None


@attrs.frozen
class Viewer:
    """The signed-in user a page or an action is for.

    :param user_id: the LMS account id.
    :param username: the login name.
    :param full_name: the name to show.
    :param roles: role codes (``"admin"``, ``"employee"``, ``"student"``).
    :param permissions: every permission code the viewer's roles grant.
    :param student_id: the viewer's student record, if any.
    :param employee_id: the viewer's employee record, if any.
    :param locale: the UI language (``"ru"`` or ``"en"``).
    """

    user_id: int
    username: str
    full_name: str
    roles: frozenset[str] = frozenset()
    permissions: frozenset[str] = frozenset()
    student_id: int | None = None
    employee_id: int | None = None
    locale: str = "ru"

    @property
    def is_admin(self) -> bool:
        """Whether the viewer holds the administrator role."""
        return "admin" in self.roles

    def can(self, permission: str) -> bool:
        """Whether the viewer holds ``permission`` (administrators hold every permission)."""
        return self.is_admin or permission in self.permissions


# --------------------------------------------------------------------------------------------------------------
# UI contributions
# --------------------------------------------------------------------------------------------------------------


@attrs.frozen
class MenuItem:
    """An entry of the host's main menu.

    :param key: stable identifier (used to mark the active item).
    :param title: the label.
    :param url: where it leads.
    :param order: position; lower comes first.
    """

    key: str
    title: str
    url: str
    order: int = 100


@attrs.frozen
class Action:
    """A button a plugin adds to a page the host renders.

    POST actions are rendered by the host as a form with the host's CSRF token, so that plugins never handle
    CSRF tokens in markup they do not own.

    :param label: the button text.
    :param url: the target.
    :param method: ``"GET"`` (a link) or ``"POST"`` (a form).
    :param style: ``"primary"``, ``"secondary"`` or ``"danger"``.
    :param confirm: a question the browser asks before a POST, or ``""``.
    :param takes_selection: for section actions: the host submits the selected ids (``ids``) and the current
        list filter (``filter.<name>``) with the request.
    """

    label: str
    url: str
    method: Literal["GET", "POST"] = "GET"
    style: Literal["primary", "secondary", "danger"] = "secondary"
    confirm: str = ""
    takes_selection: bool = False


@attrs.frozen
class DirectoryFilter:
    """An extra filter a plugin adds to the Обучающиеся or Сотрудники list (a select next to the host's own).

    The host submits it as the query parameter ``name`` (and as ``filter.<name>`` with selection actions) and asks
    the plugin to apply it through ``lms_filter_people``.

    :param name: the query parameter, prefixed with the module (``"sferum_profile"``); unique on the page.
    :param label: the label of the select (its empty choice reads «Все»-like text of the host).
    :param choices: ``(value, label)`` pairs; the empty value means "not filtered" and is added by the host.
    """

    name: str
    label: str
    choices: tuple[tuple[str, str], ...] = ()


@attrs.frozen
class LessonRef:
    """A lesson of the schedule, as the host passes it to lesson-card hooks.

    :param id: the lesson's id.
    :param subject: the subject's title.
    :param starts_at: start, timezone-aware.
    :param ends_at: end, timezone-aware.
    :param group_id: the study group taught.
    :param teacher_id: the employee who teaches it.
    :param room: where it takes place (may be ``""``).
    """

    id: int
    subject: str
    starts_at: datetime
    ends_at: datetime
    group_id: int
    teacher_id: int
    room: str = ""

    @property
    def local_date(self) -> date:
        """The lesson's date in its own (the organisation's) time zone."""
        return self.starts_at.date()

    @property
    def local_time(self) -> time:
        """The lesson's start time in the organisation's time zone."""
        return self.starts_at.time()


@attrs.frozen
class LessonCard:
    """What one plugin adds to one lesson card.

    :param status: a short state line (``"Онлайн-занятие идёт"``), or ``""``.
    :param hint: plain text shown on the card; the host escapes HTML, keeps line breaks and turns URLs into links.
    :param actions: buttons, in order.
    """

    status: str = ""
    hint: str = ""
    actions: tuple[Action, ...] = ()


# --------------------------------------------------------------------------------------------------------------
# HTTP routes
# --------------------------------------------------------------------------------------------------------------


@attrs.frozen
class HttpRequest:
    """A request for a plugin route, translated from the host's framework.

    The host has already authenticated the viewer, checked the route's permission and verified the CSRF token of a
    POST; the plugin still checks every object-level right itself.  On a webhook route (:attr:`Route.webhook`) the
    host does none of that: the handler authenticates the calling service itself.

    :param method: ``"GET"`` or ``"POST"``.
    :param path: the full path requested.
    :param path_params: values of the route's ``<name>`` placeholders.
    :param args: query parameters (first value of each).
    :param form: form fields of a POST (first value of each).
    :param form_lists: every value of each form field (for multi-selects such as ``ids``).
    :param viewer: the signed-in user, or ``None`` on routes that allow anonymous access.
    :param session: the viewer's session store, scoped to the plugin (keys are namespaced by the host); values
        must be JSON-serializable and small (the example host keeps them in a signed cookie, readable by the
        browser: never put a secret there).
    :param csrf_token: the token plugin-rendered forms must carry as the field ``csrf_field``.
    :param csrf_field: the name of that field.
    :param host: the host services.
    :param headers: the request's headers, names in lower case; only on webhook routes (:attr:`Route.webhook`),
        empty on the others.
    :param body: the request's raw body; only on webhook routes, empty on the others.
    """

    method: str
    path: str
    viewer: Viewer | None
    host: Host
    path_params: Mapping[str, str] = attrs.field(factory=dict)
    args: Mapping[str, str] = attrs.field(factory=dict)
    form: Mapping[str, str] = attrs.field(factory=dict)
    form_lists: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)
    session: MutableMapping[str, object] = attrs.field(factory=dict)
    csrf_token: str = ""
    csrf_field: str = "csrf_token"
    headers: Mapping[str, str] = attrs.field(factory=dict)
    body: bytes = b""


@attrs.frozen
class HttpResponse:
    """A raw response from a plugin route.

    :param status: the HTTP status code.
    :param body: the body.
    :param content_type: its media type.
    :param headers: extra headers (``Location`` for redirects).
    """

    status: int = 200
    body: str | bytes = ""
    content_type: str = "text/html; charset=utf-8"
    headers: Mapping[str, str] = attrs.field(factory=dict)

    @classmethod
    def redirect(cls, location: str, status: int = 303) -> HttpResponse:
        """A redirect to ``location`` (303 by default, the right answer to a POST)."""
        return cls(status=status, headers={"Location": location})


@attrs.frozen
class Page:
    """A page body the host wraps in its own layout (menu, header, flash messages).

    :param title: the page title.
    :param body_html: the page's HTML, already escaped by the plugin (rendered from autoescaping templates).
    :param status: the HTTP status code.
    :param menu_key: the menu item to mark as active.
    """

    title: str
    body_html: str
    status: int = 200
    menu_key: str = ""


Handler = Callable[[HttpRequest], "HttpResponse | Page"]


@attrs.frozen
class Route:
    """An HTTP route a plugin serves; the host mounts it under ``/m/<module>/``.

    :param rule: path below the module prefix, with ``<name>`` placeholders (``"lessons/<lesson_id>/start"``).
    :param endpoint: name used to build URLs (``host.urls.for_route(module, endpoint, **params)``).
    :param handler: called with an :class:`HttpRequest`; returns a :class:`Page` or an :class:`HttpResponse`.
    :param methods: accepted methods.
    :param permission: a permission the viewer must hold (checked by the host before the handler runs), or ``None``.
    :param login_required: whether anonymous visitors are sent to the login page.
    :param webhook: whether another service calls the route, not a person in a browser (a messenger posting its
        events).  The host serves it without the viewer's session: no login, no CSRF check, no session read or
        written; it passes the request's headers and raw body (:attr:`HttpRequest.headers`,
        :attr:`HttpRequest.body`), and the handler authenticates the caller itself (a shared secret in a header,
        compared in constant time).  A webhook route has ``login_required=False`` and no ``permission``.
    :param max_body_bytes: the largest request body the host accepts for the route: a larger one is answered 413
        before the handler runs (``None``: the host's own limit).
    """

    rule: str
    endpoint: str
    handler: Handler
    methods: tuple[str, ...] = ("GET",)
    permission: str | None = None
    login_required: bool = True
    webhook: bool = False
    max_body_bytes: int | None = None

    def __attrs_post_init__(self) -> None:
        if self.webhook and (self.login_required or self.permission is not None):
            raise ValueError(f"webhook route {self.endpoint!r}: a service calls it, so no login and no permission")
        if self.max_body_bytes is not None and self.max_body_bytes < 1:
            raise ValueError(f"route {self.endpoint!r}: max_body_bytes must be positive")


# --------------------------------------------------------------------------------------------------------------
# Chats
# --------------------------------------------------------------------------------------------------------------


@attrs.frozen
class ChatBackendInfo:
    """A chat type the main module's «Настройки чатов» can switch to.

    :param code: stored value of the setting (``"sferum"``).
    :param title: the option's label (``"Внешняя система «Сферум»"``).
    """

    code: str
    title: str


@attrs.frozen
class ChatSummary:
    """A chat as the host's Чаты section lists it.

    :param id: the backend's identifier of the chat.
    :param title: its title.
    :param kind: what it is for (``"group"``, ``"unit"``, ``"custom"``).
    :param url: where «Открыть» leads.
    :param open_label: the label of that link.
    :param members: how many members it has, if known.
    """

    id: str
    title: str
    kind: str
    url: str
    open_label: str
    members: int | None = None


# --------------------------------------------------------------------------------------------------------------
# Background jobs
# --------------------------------------------------------------------------------------------------------------


@attrs.frozen
class JobContext:
    """What a background job receives when the host runs it.

    :param host: the host services.
    :param now: when the host started this run (timezone-aware).
    """

    host: Host
    now: datetime


@attrs.frozen
class BackgroundJob:
    """A job the host runs on its own scheduler or task queue.

    :param name: unique name, prefixed with the module (``"sferum.sync"``).
    :param interval: how often to run it.
    :param run: the callable; it must be safe to run in several processes at once.
    :param description: what it does, for the operator.
    """

    name: str
    interval: timedelta
    run: Callable[[JobContext], None]
    description: str = ""


# --------------------------------------------------------------------------------------------------------------
# Directory notifications
# --------------------------------------------------------------------------------------------------------------


@attrs.frozen
class PersonStatusChange:
    """A person became active or inactive (enrolled, expelled, hired, dismissed).

    :param person_id: the person's id.
    :param kind: student or employee.
    :param old_status: the status before, or ``None`` for a new record.
    :param new_status: the status now.
    """

    person_id: int
    kind: PersonKind
    old_status: PersonStatus | None
    new_status: PersonStatus


@attrs.frozen
class MembershipChange:
    """A person moved between study groups (students) or structural units (employees).

    :param person_id: the person's id.
    :param kind: student (group membership) or employee (unit membership).
    :param old_container_id: the group or unit before, or ``None``.
    :param new_container_id: the group or unit now, or ``None``.
    """

    person_id: int
    kind: PersonKind
    old_container_id: int | None
    new_container_id: int | None
