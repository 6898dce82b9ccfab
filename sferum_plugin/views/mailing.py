"""E-mail mailing pages: the form (audience count, placeholders, preview), the progress page with pause / resume /
cancel and the final report, and the list of mailings.  Every route requires the mailing permission (checked by
the host); the request only stores the mailing, the ``sferum.mailing`` job sends it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hookspecs.services import Host
from hookspecs.types import Action, HttpRequest, HttpResponse, Page, Route, Viewer
from sferum_plugin import MODULE_NAME
from sferum_plugin.i18n import N_, gettext
from sferum_plugin.numbers import parse_int
from sferum_plugin.permissions import MAILING_SEND
from sferum_plugin.rendering import render
from sferum_plugin.services import mailing
from sferum_plugin.services.mailing.audience import SECTIONS
from sferum_plugin.services.mailing.compose import PLACEHOLDERS, substitute
from sferum_plugin.views._common import locale_of, message_page, viewer_of

__all__ = ["DEFAULT_BODY", "DEFAULT_SUBJECT", "ROUTES", "section_actions"]

MENU_KEY = "sferum.mailings"
SUBJECT_MAX = 200
BODY_MAX = 20_000
REFRESH_SECONDS = 3
TITLE = N_("E-mail рассылка")
NOT_FOUND = N_("Рассылка не найдена.")

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
    step = request.form.get("step", "")
    subject = request.form.get("subject", "").strip() if step else gettext(locale, DEFAULT_SUBJECT)
    body = request.form.get("body", "").replace("\r\n", "\n").strip() if step else gettext(locale, DEFAULT_BODY)
    errors = _validate(subject, body) if step else []
    if step == "send" and not errors:
        # Only the choice of audience is stored: the job expands it, so this request does not grow with it.
        selected = [n for n in map(parse_int, ids) if n is not None]
        draft = mailing.MailingDraft(
            subject=subject,
            body=body,
            link_url=link,
            audience_text=mailing.describe_choice(section, len(selected) if selected else None, filters, locale),
        )
        mailing_id = mailing.create_pending_mailing(
            host, author=viewer, section=section, selected_ids=selected, filters=filters, draft=draft,
            now=host.clock.now(),
        )  # fmt: skip
        return HttpResponse.redirect(host.urls.for_route(MODULE_NAME, "mailing_view", mailing_id=mailing_id))
    audience = mailing.resolve_audience(host, section, ids, filters)
    assert audience is not None  # the section is one of SECTIONS
    plan = mailing.recipient_plan(audience.people)
    sendable = [person for person, reason in plan if reason is None]
    sample = sendable[0] if sendable else (audience.people[0] if audience.people else None)
    preview = None
    if step == "preview" and sample is not None and not errors:
        values = {"full_name": sample.full_name, "email": sample.email, "link": link}
        preview = {
            "from": host.mailer.sender,
            "to": f"{sample.full_name} <{sample.email}>",
            "subject": mailing.header_text(substitute(subject, **values)),
            "body": substitute(body, **values),
        }
    body_html = render(
        "mailing_new.html",
        locale,
        action=host.urls.for_route(MODULE_NAME, "mailing_new", section=section),
        csrf_field=request.csrf_field,
        csrf_token=request.csrf_token,
        ids=[str(person.id) for person in audience.people] if audience.selected else [],
        filters=filters,
        subject=subject,
        body=body,
        errors=[gettext(locale, error) for error in errors],
        placeholders=[(name, gettext(locale, title)) for name, title in PLACEHOLDERS],
        total=len(plan),
        sendable=len(sendable),
        without_email=sum(1 for person, _ in plan if not person.email.strip()),
        invalid=sum(1 for person, reason in plan if reason is not None and person.email.strip()),
        selected=audience.selected,
        preview=preview,
        subject_max=SUBJECT_MAX,
        back_url=back,
    )
    return Page(title=gettext(locale, "Создать e-mail рассылку"), body_html=body_html, menu_key=section)


def _mailing_id(request: HttpRequest) -> int | None:
    return parse_int(request.path_params.get("mailing_id"))


def mailing_view(request: HttpRequest) -> Page:
    """Progress (refreshes itself while the mailing runs), the controls, and the report of failed and skipped."""
    locale, host = locale_of(request), request.host
    mailing_id = _mailing_id(request)
    list_url = host.urls.for_route(MODULE_NAME, "mailings")
    with host.db.session() as session:
        row = mailing.get_mailing(session, mailing_id) if mailing_id is not None else None
        if row is None:
            return message_page(request, TITLE, NOT_FOUND, status=404, back_url=list_url)
        problems = [(r.full_name, r.email, r.state, r.reason) for r in mailing.problem_recipients(session, row.id)]
        done = row.sent + row.failed + row.skipped
        context = {
            "mailing": row,
            "state_title": gettext(locale, STATE_TITLES.get(row.state, row.state)),
            "done": done,
            "percent": 0
            if row.state == "preparing"
            else (100 if row.total == 0 else min(100, done * 100 // row.total)),
            "created_at": row.created_at.astimezone(host.clock.timezone).strftime("%d.%m.%Y %H:%M"),
            "finished_at": (
                row.finished_at.astimezone(host.clock.timezone).strftime("%d.%m.%Y %H:%M") if row.finished_at else ""
            ),
        }
        body_html = render(
            "mailing_view.html",
            locale,
            **context,
            problems=[
                (name, email, gettext(locale, STATE_TITLES[state]), gettext(locale, reason) if reason else "")
                for name, email, state, reason in problems
            ],
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
    with host.db.session() as session:
        rows = [
            {
                "url": host.urls.for_route(MODULE_NAME, "mailing_view", mailing_id=row.id),
                "subject": row.subject,
                "author": row.author_name,
                "audience": row.audience,
                "created_at": row.created_at.astimezone(host.clock.timezone).strftime("%d.%m.%Y %H:%M"),
                "state": gettext(locale, STATE_TITLES.get(row.state, row.state)),
                "total": row.total,
                "sent": row.sent,
                "failed": row.failed,
                "skipped": row.skipped,
            }
            for row in mailing.list_mailings(session)
        ]
    body_html = render(
        "mailing_list.html",
        locale,
        rows=rows,
        students_url=host.urls.host_page("students"),
        employees_url=host.urls.host_page("employees"),
    )
    return Page(title=gettext(locale, "E-mail рассылки"), body_html=body_html, menu_key=MENU_KEY)


ROUTES: tuple[Route, ...] = (
    Route(rule="mailings", endpoint="mailings", handler=mailings_page, permission=MAILING_SEND),
    Route(rule="mailings/new/<section>", endpoint="mailing_new", handler=new_mailing, methods=("POST",),
          permission=MAILING_SEND),
    Route(rule="mailings/<mailing_id>", endpoint="mailing_view", handler=mailing_view, permission=MAILING_SEND),
    Route(rule="mailings/<mailing_id>/<action>", endpoint="mailing_control", handler=mailing_control,
          methods=("POST",), permission=MAILING_SEND),
)  # fmt: skip
