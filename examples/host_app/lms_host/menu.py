"""The main menu: the host's items the viewer may open, plus the installed modules' items."""

from __future__ import annotations

from flask import url_for

from hookspecs.types import MenuItem, Viewer
from lms_host.cabinet import Cabinet
from lms_host.i18n import gettext as _
from lms_host.permissions import CHATS_USE, EMPLOYEES_VIEW, SCHEDULE_VIEW, STUDENTS_VIEW
from lms_host.plugins import flatten

__all__ = ["build_menu"]


def _host_items(viewer: Viewer) -> list[MenuItem]:
    items = [MenuItem("dashboard", _("Главная"), url_for("dashboard.index"), 0)]
    if viewer.can(SCHEDULE_VIEW):
        items.append(MenuItem("schedule", _("Расписание"), url_for("schedule.week"), 10))
    if viewer.can(STUDENTS_VIEW):
        items.append(MenuItem("students", _("Обучающиеся"), url_for("people.students"), 20))
    if viewer.can(EMPLOYEES_VIEW):
        items.append(MenuItem("employees", _("Сотрудники"), url_for("people.employees"), 30))
    if viewer.can(CHATS_USE):
        items.append(MenuItem("chats", _("Чаты"), url_for("chats.index"), 40))
    if viewer.is_admin:
        items.append(MenuItem("admin", _("Администрирование"), url_for("admin.modules"), 900))
    return items


def build_menu(cabinet: Cabinet, viewer: Viewer | None) -> list[MenuItem]:
    """The viewer's menu, sorted by ``order`` (ties keep the host's items first)."""
    if viewer is None:
        return []
    items = _host_items(viewer)
    items.extend(flatten(cabinet.contributions("lms_menu_items", viewer=viewer, host=cabinet.host)))
    return sorted(items, key=lambda item: item.order)
