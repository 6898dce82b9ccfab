"""E-mail mailing pages: the form (audience count, placeholders, preview), the progress page with pause / resume /
cancel and the final report, and the list of mailings.  Every route requires the mailing permission (checked by
the host); the request only stores the mailing, the ``sferum.mailing`` job sends it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import attrs

from hookspecs.services import Host
from hookspecs.types import Action, HttpRequest, HttpResponse, Page, Viewer
from sferum_plugin import MODULE_NAME
from sferum_plugin.i18n import N_, gettext
from sferum_plugin.numbers import parse_int
from sferum_plugin.permissions import MAILING_SEND
from sferum_plugin.rendering import render
from sferum_plugin.services import mailing
from sferum_plugin.services.mailing.audience import SECTIONS
from sferum_plugin.services.mailing.compose import PLACEHOLDERS
from sferum_plugin.views._common import locale_of, message_page, viewer_of
from sferum_plugin.views._routing import ModuleRoute

__all__ = ["DEFAULT_BODY", "DEFAULT_SUBJECT", "ROUTES", "section_actions"]

MENU_KEY = "sferum.mailings"
SUBJECT_MAX = 200
BODY_MAX = 20_000
REFRESH_SECONDS = 3
TITLE = N_("E-mail рассылка")
NOT_FOUND = N_("Рассылка не найдена.")
CHOICE_REFUSED = N_(
    "Рассылка не создана: значение поля «%(field)s» нельзя применить к списку (%(reason)s). Ничего не сохранено и "
    "не отправлено. Вернитесь к списку и выберите получателей заново."
)

DEFAULT_SUBJECT = N_("Создайте учебный профиль Сферум")
DEFAULT_BODY = N_(
    "Здравствуйте, {name}!\n\n"
    "Онлайн-занятия и чаты нашей организации проходят в ИКОП «Сферум». Чтобы участвовать в них, создайте "
    "учебный профиль Сферум:\n\n"
    "1. Войдите в личный кабинет и откройте страницу «Онлайн-занятия»: {link}\n"
    "2. Нажмите «Создать учебный профиль Сферум» и войдите через VK ID.\n\n"
    "После этого вы сможете подключаться к онлайн-занятиям прямо из расписания.\n\n"
    "Письмо отправлено автоматически, отвечать на него не нужно."
)

STATE_TITLES = {
    "preparing": N_("Готовится список получателей"),
    "sending": N_("Отправляется"),
    "paused": N_("Приостановлена"),
    "cancelled": N_("Отменена"),
    "finished": N_("Завершена"),
    "queued": N_("В очереди"),
    "sent": N_("Отправлено"),
    "failed": N_("Ошибка"),
    "skipped": N_("Пропущено"),
}


def section_actions(section: str, viewer: Viewer, host: Host) -> list[Action] | None:
    """«Создать e-mail рассылку» in the «Действия» of Обучающиеся and Сотрудники (selection or filter)."""
    if section not in SECTIONS or not viewer.can(MAILING_SEND):
        return None
    return [
        Action(
            label=gettext(viewer.locale, "Создать e-mail рассылку"),
            url=host.urls.for_route(MODULE_NAME, "mailing_new", section=section),
            method="POST",
            takes_selection=True,
        )
    ]


def _filters(form: Mapping[str, str]) -> dict[str, str]:
    return {key.removeprefix("filter."): value for key, value in form.items() if key.startswith("filter.")}


def _validate(subject: str, body: str) -> list[str]:
    errors = []
    if not subject or len(subject) > SUBJECT_MAX:
        errors.append(N_("Введите тему письма (не длиннее 200 символов)."))
    if not body or len(body) > BODY_MAX:
        errors.append(N_("Введите текст письма (не длиннее 20000 символов)."))
    if mailing.unknown_placeholders(subject + body):
        errors.append(N_("В тексте есть неизвестные подстановки; используйте только перечисленные ниже."))
    return errors


@attrs.frozen
class _Letter:
    """The form as posted: which step, the subject and body (the defaults on first arrival), and their errors."""

    step: str
    subject: str
    body: str
    errors: list[str]


def _letter(request: HttpRequest, locale: str) -> _Letter:
    """Read the subject and body; a form that has no ``step`` yet comes from «Действия» and gets the defaults."""
    step = request.form.get("step", "")
    subject = request.form.get("subject", "").strip() if step else gettext(locale, DEFAULT_SUBJECT)
    body = request.form.get("body", "").replace("\r\n", "\n").strip() if step else gettext(locale, DEFAULT_BODY)
    return _Letter(step=step, subject=subject, body=body, errors=_validate(subject, body) if step else [])


def _refused_choice(request: HttpRequest, refused: mailing.ChoiceRefused, back: str) -> Page:
    """400: the audience's choice cannot be applied exactly, so there is no mailing (nothing stored or sent)."""
    locale = locale_of(request)
    text = gettext(locale, CHOICE_REFUSED) % {"field": refused.field, "reason": gettext(locale, refused.reason)}
    return message_page(request, TITLE, text, status=400, back_url=back)


def new_mailing(request: HttpRequest) -> Page | HttpResponse:
    """The form: arrives from «Действия» (``ids``, ``filter.*``), posts back to preview and to confirm."""
    viewer, host, locale = viewer_of(request), request.host, locale_of(request)
    section = request.path_params.get("section", "")
    back = host.urls.host_page(section) if section in SECTIONS else host.urls.host_page("dashboard")
    ids: Sequence[str] = request.form_lists.get("ids", ())
    filters = _filters(request.form)
    if section not in SECTIONS:
        explanation = N_("Рассылку можно создать из списков обучающихся и сотрудников.")
        return message_page(request, TITLE, explanation, status=404, back_url=back)
    link = host.urls.external(host.urls.for_route(MODULE_NAME, "online_lessons"))
    letter = _letter(request, locale)
    try:
        if letter.step == "send" and not letter.errors:
            mailing_id = mailing.confirm_mailing(
                host, author=viewer, section=section, ids=ids, filters=filters, subject=letter.subject,
                body=letter.body, link_url=link, locale=locale, now=host.clock.now(),
            )  # fmt: skip
            return HttpResponse.redirect(host.urls.for_route(MODULE_NAME, "mailing_view", mailing_id=mailing_id))
        form = mailing.mailing_form(
            host, section, ids, filters, subject=letter.subject, body=letter.body, link_url=link,
            preview=letter.step == "preview" and not letter.errors,
        )  # fmt: skip
    except mailing.ChoiceRefused as refused:
        return _refused_choice(request, refused, back)
    body_html = render(
        "mailing_new.html",
        locale,
        action=host.urls.for_route(MODULE_NAME, "mailing_new", section=section),
        csrf_field=request.csrf_field,
        csrf_token=request.csrf_token,
        ids=list(form.ids),
        filters=filters,
        subject=letter.subject,
        body=letter.body,
        errors=[gettext(locale, error) for error in letter.errors],
        placeholders=[(name, gettext(locale, title)) for name, title in PLACEHOLDERS],
        total=form.total,
        sendable=form.sendable,
        without_email=form.without_email,
        invalid=form.invalid,
        selected=form.selected,
        preview=form.preview,
        subject_max=SUBJECT_MAX,
        back_url=back,
    )
    return Page(title=gettext(locale, "Создать e-mail рассылку"), body_html=body_html, menu_key=section)


def _mailing_id(request: HttpRequest) -> int | None:
    return parse_int(request.path_params.get("mailing_id"))


def _when(moment: datetime | None, host: Host) -> str:
    """A moment as the pages show it: the host's time zone, to the minute ("" for none)."""
    return moment.astimezone(host.clock.timezone).strftime("%d.%m.%Y %H:%M") if moment else ""


def _problem_lines(problems: Sequence[mailing.ProblemRecipient], locale: str) -> list[tuple[str, str, str, str]]:
    """The final report's lines in the page's language: name, address, state, reason."""
    return [
        (p.full_name, p.email, gettext(locale, STATE_TITLES[p.state]), gettext(locale, p.reason) if p.reason else "")
        for p in problems
    ]


def mailing_view(request: HttpRequest) -> Page:
    """Progress (refreshes itself while the mailing runs), the controls, and the report of failed and skipped."""
    locale, host = locale_of(request), request.host
    mailing_id = _mailing_id(request)
    list_url = host.urls.for_route(MODULE_NAME, "mailings")
    report = mailing.mailing_report(host, mailing_id) if mailing_id is not None else None
    if report is None:
        return message_page(request, TITLE, NOT_FOUND, status=404, back_url=list_url)
    row = report.mailing
    body_html = render(
        "mailing_view.html",
        locale,
        mailing=row,
        state_title=gettext(locale, STATE_TITLES.get(row.state, row.state)),
        done=report.done,
        # A mailing still preparing has no total yet: 0 %, not "100 % of nothing".
        percent=0
        if row.state == "preparing"
        else (100 if row.total == 0 else min(100, report.done * 100 // row.total)),
        created_at=_when(row.created_at, host),
        finished_at=_when(row.finished_at, host),
        problems=_problem_lines(report.problems, locale),
        refresh=REFRESH_SECONDS if row.state in ("preparing", "sending") else None,
        control_url=lambda action: host.urls.for_route(
            MODULE_NAME, "mailing_control", mailing_id=row.id, action=action
        ),
        csrf_field=request.csrf_field,
        csrf_token=request.csrf_token,
        list_url=list_url,
    )
    return Page(title=gettext(locale, TITLE), body_html=body_html, menu_key=MENU_KEY)


def mailing_control(request: HttpRequest) -> Page | HttpResponse:
    """Pause, resume or cancel (POST with the host's CSRF check; the permission is the route's)."""
    host = request.host
    mailing_id = _mailing_id(request)
    action = request.path_params.get("action", "")
    list_url = host.urls.for_route(MODULE_NAME, "mailings")
    if mailing_id is None or action not in ("pause", "resume", "cancel"):
        return message_page(request, TITLE, NOT_FOUND, status=404, back_url=list_url)
    view_url = host.urls.for_route(MODULE_NAME, "mailing_view", mailing_id=mailing_id)
    if not mailing.control(host, mailing_id, action, now=host.clock.now()):  # type: ignore[arg-type]
        explanation = N_("Рассылка уже в другом состоянии; действие не выполнено.")
        return message_page(request, TITLE, explanation, status=409, back_url=view_url)
    return HttpResponse.redirect(view_url)


def mailings_page(request: HttpRequest) -> Page:
    """Every mailing, newest first, with its author, audience, counts and state."""
    locale, host = locale_of(request), request.host
    rows = [
        {
            "url": host.urls.for_route(MODULE_NAME, "mailing_view", mailing_id=row.id),
            "subject": row.subject,
            "author": row.author_name,
            "audience": row.audience,
            "created_at": _when(row.created_at, host),
            "state": gettext(locale, STATE_TITLES.get(row.state, row.state)),
            "total": row.total,
            "sent": row.sent,
            "failed": row.failed,
            "skipped": row.skipped,
        }
        for row in mailing.recent_mailings(host)
    ]
    body_html = render(
        "mailing_list.html",
        locale,
        rows=rows,
        students_url=host.urls.host_page("students"),
        employees_url=host.urls.host_page("employees"),
    )
    return Page(title=gettext(locale, "E-mail рассылки"), body_html=body_html, menu_key=MENU_KEY)


ROUTES: tuple[ModuleRoute, ...] = (
    ModuleRoute("mailings", "mailings", mailings_page, permission=MAILING_SEND),
    ModuleRoute("mailings/new/<section>", "mailing_new", new_mailing, ("POST",), MAILING_SEND),
    ModuleRoute("mailings/<mailing_id>", "mailing_view", mailing_view, permission=MAILING_SEND),
    ModuleRoute("mailings/<mailing_id>/<action>", "mailing_control", mailing_control, ("POST",), MAILING_SEND),
)
