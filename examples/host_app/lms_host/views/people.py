"""Обучающиеся and Сотрудники: filtered lists with the «Действия» component, and the administrator's edit form."""

from __future__ import annotations

from typing import Any

import attrs
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from hookspecs.types import DirectoryFilter, PersonKind, PersonStatus, Viewer
from lms_host.auth import admin_required, current_viewer, permission_required
from lms_host.cabinet import current_cabinet
from lms_host.i18n import gettext as _
from lms_host.models import Employee, Student
from lms_host.numbers import parse_id
from lms_host.permissions import EMPLOYEES_VIEW, STUDENTS_VIEW
from lms_host.plugins import flatten
from lms_host.records import EMPLOYEE_STATUSES, STUDENT_STATUSES, notify_changes, update_employee, update_student
from lms_host.services.directory import list_statement

bp = Blueprint("people", __name__)

PAGE_SIZE = 50

STATUS_TITLES = {
    "active": "Активен",
    "expelled": "Отчислен",
    "dismissed": "Уволен",
}


@attrs.frozen
class ListFilter:
    """The list filters, from the query string."""

    q: str = ""
    container: int | None = None
    status: str = ""

    @classmethod
    def from_args(cls, container_arg: str) -> ListFilter:
        """The filters of this request; a group or unit that is not an id refuses it (400), rather than being
        dropped and widening the list to everyone."""
        container = request.args.get(container_arg, "")
        container_id = parse_id(container)
        if container and container_id is None:
            abort(400)
        return cls(
            q=request.args.get("q", "").strip(),
            container=container_id,
            status=request.args.get("status", ""),
        )


def _page_number() -> int:
    return max(parse_id(request.args.get("page")) or 1, 1)


def _paginate(statement: Select[Any], count_statement: Select[Any]) -> tuple[list[Any], int, int]:
    page = _page_number()
    with current_cabinet().db.session() as session:
        total = session.scalar(count_statement) or 0
        rows = session.scalars(statement.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).unique().all()
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    return list(rows), total, pages


def _plugin_filters(section: str, viewer: Viewer) -> list[DirectoryFilter]:
    cabinet = current_cabinet()
    return flatten(cabinet.contributions("lms_directory_filters", section=section, viewer=viewer, host=cabinet.host))


def _active_plugin_filters(plugin_filters: list[DirectoryFilter]) -> dict[str, str]:
    """The plugin filters chosen in the query string (values outside a filter's choices are ignored)."""
    active = {}
    for item in plugin_filters:
        value = request.args.get(item.name, "")
        if value and value in {choice for choice, _ in item.choices}:
            active[item.name] = value
    return active


def _filtered_page(
    kind: PersonKind, host_filters: dict[str, str], active: dict[str, str]
) -> tuple[list[Any], int, int]:
    """Host filters in SQL, then one ``lms_filter_people`` call per active plugin filter, then the page."""
    cabinet = current_cabinet()
    section = "students" if kind == PersonKind.STUDENT else "employees"
    people = list(cabinet.host.directory.list_people(kind, host_filters))
    for name, value in active.items():
        passing = cabinet.call(
            "lms_filter_people", section=section, name=name, value=value, people=people, host=cabinet.host
        )
        if passing is not None:
            keep = set(passing)
            people = [person for person in people if person.id in keep]
    total = len(people)
    page = _page_number()
    page_ids = [person.id for person in people[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]]
    model: type[Student] | type[Employee] = Student if kind == PersonKind.STUDENT else Employee
    statement, _ = list_statement(kind, {})
    relation = joinedload(Student.group) if kind == PersonKind.STUDENT else joinedload(Employee.unit)
    with cabinet.db.session() as session:
        rows = session.scalars(statement.options(relation).where(model.id.in_(page_ids))).unique().all()
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    return list(rows), total, pages


def _list_page(kind: PersonKind) -> str:
    """One of the two lists: the host's filters, the plugins' filters, the page and the «Действия»."""
    viewer = current_viewer()
    assert viewer is not None
    section = "students" if kind == PersonKind.STUDENT else "employees"
    container_arg = "group" if kind == PersonKind.STUDENT else "unit"
    filters = ListFilter.from_args(container_arg)
    container = "" if filters.container is None else str(filters.container)
    host_filters = {"q": filters.q, container_arg: container, "status": filters.status}
    plugin_filters = _plugin_filters(section, viewer)
    active = _active_plugin_filters(plugin_filters)
    if active:
        rows, total, pages = _filtered_page(kind, host_filters, active)
    else:
        statement, conditions = list_statement(kind, host_filters)
        model: type[Student] | type[Employee] = Student if kind == PersonKind.STUDENT else Employee
        relation = joinedload(Student.group) if kind == PersonKind.STUDENT else joinedload(Employee.unit)
        count = select(func.count()).select_from(model).where(*conditions)
        rows, total, pages = _paginate(statement.options(relation), count)
    return _render_list(kind, rows, total, pages, host_filters, plugin_filters, active)


def _render_list(
    kind: PersonKind,
    rows: list[Any],
    total: int,
    pages: int,
    host_filters: dict[str, str],
    plugin_filters: list[DirectoryFilter],
    active: dict[str, str],
) -> str:
    cabinet = current_cabinet()
    viewer = current_viewer()
    assert viewer is not None
    section = "students" if kind == PersonKind.STUDENT else "employees"
    containers = cabinet.host.directory.groups() if kind == PersonKind.STUDENT else cabinet.host.directory.units()
    statuses = STUDENT_STATUSES if kind == PersonKind.STUDENT else EMPLOYEE_STATUSES
    container_arg = "group" if kind == PersonKind.STUDENT else "unit"
    return render_template(
        "people/list.html",
        kind=kind.value,
        section=section,
        rows=rows,
        total=total,
        page=_page_number(),
        pages=pages,
        filters={**host_filters, **active},
        plugin_filters=plugin_filters,
        container_arg=container_arg,
        containers=containers,
        statuses=[status.value for status in statuses],
        status_titles=STATUS_TITLES,
        actions=cabinet.section_actions(section, viewer),
        menu_key=section,
    )


@bp.route("/students")
@permission_required(STUDENTS_VIEW)
def students() -> str:
    """Обучающиеся."""
    return _list_page(PersonKind.STUDENT)


@bp.route("/employees")
@permission_required(EMPLOYEES_VIEW)
def employees() -> str:
    """Сотрудники."""
    return _list_page(PersonKind.EMPLOYEE)


def _parse_edit(statuses: tuple[PersonStatus, ...], container_arg: str) -> tuple[PersonStatus, int | None] | None:
    status = request.form.get("status", "")
    container = request.form.get(container_arg, "")
    container_id = parse_id(container)
    if status not in {item.value for item in statuses} or (container != "" and container_id is None):
        return None
    return PersonStatus(status), container_id


@bp.route("/students/<id:student_id>/edit", methods=["GET", "POST"])
@admin_required
def edit_student(student_id: int) -> Response | str:
    """An administrator changes a student's status or group."""
    return _edit_person(PersonKind.STUDENT, student_id)


@bp.route("/employees/<id:employee_id>/edit", methods=["GET", "POST"])
@admin_required
def edit_employee(employee_id: int) -> Response | str:
    """An administrator changes an employee's status or structural unit."""
    return _edit_person(PersonKind.EMPLOYEE, employee_id)


def _edit_person(kind: PersonKind, person_id: int) -> Response | str:
    """The edit form of either register: students belong to a group, employees to a unit."""
    cabinet = current_cabinet()
    student = kind == PersonKind.STUDENT
    statuses, section = (STUDENT_STATUSES, "students") if student else (EMPLOYEE_STATUSES, "employees")
    container_arg = "group" if student else "unit"
    with cabinet.db.session() as session:
        person = session.get(Student, person_id) if student else session.get(Employee, person_id)
    if person is None:
        abort(404)
    containers = cabinet.host.directory.groups() if student else cabinet.host.directory.units()
    if request.method == "POST":
        parsed = _parse_edit(statuses, container_arg)
        if parsed is None or (parsed[1] is not None and parsed[1] not in containers):
            abort(400)
        if student:
            changes = update_student(cabinet, person_id, status=parsed[0], group_id=parsed[1])
        else:
            changes = update_employee(cabinet, person_id, status=parsed[0], unit_id=parsed[1])
        notify_changes(cabinet, changes)
        flash(_("Изменения сохранены."), "success")
        return redirect(url_for(f"people.{section}"))
    return render_template(
        "people/edit.html",
        person=person,
        kind=kind.value,
        container_arg=container_arg,
        container_id=person.group_id if isinstance(person, Student) else person.unit_id,
        containers=containers,
        statuses=[status.value for status in statuses],
        status_titles=STATUS_TITLES,
        menu_key=section,
    )
