"""Администрирование: Модули (install, settings, uninstall) and Права доступа → Роли."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import delete, select
from werkzeug.wrappers import Response

from hookspecs.types import FieldError, Permission, SettingsField
from lms_host.auth import admin_required, current_viewer
from lms_host.cabinet import current_cabinet
from lms_host.host_modules import HOST_MODULE_INFO, SECTION_TITLES
from lms_host.i18n import gettext as _
from lms_host.models import Role, RolePermission
from lms_host.module_admin import install_module, module_states, uninstall_module, upgrade_module
from lms_host.permissions import HOST_PERMISSIONS
from lms_host.settings_form import SettingsOutcome, current_values, secret_hint, settings_fields, submit_settings

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/modules")
@admin_required
def modules() -> str:
    """Администрирование → Модули."""
    return render_template("admin/modules.html", states=module_states(current_cabinet()), menu_key="admin")


@bp.post("/modules/<name>/install")
@admin_required
def install(name: str) -> Response:
    """«Установка»."""
    outcome = install_module(current_cabinet(), name)
    flash(outcome.message, "success" if outcome.ok else "error")
    return redirect(url_for("admin.modules"))


@bp.post("/modules/<name>/upgrade")
@admin_required
def upgrade(name: str) -> Response:
    """«Обновить»."""
    outcome = upgrade_module(current_cabinet(), name)
    flash(outcome.message, "success" if outcome.ok else "error")
    return redirect(url_for("admin.modules"))


@bp.post("/modules/<name>/uninstall")
@admin_required
def uninstall(name: str) -> Response:
    """«Удаление», keeping or dropping the module's data."""
    keep_data = request.form.get("keep_data", "1") != "0"
    outcome = uninstall_module(current_cabinet(), name, keep_data=keep_data)
    flash(outcome.message, "success" if outcome.ok else "error")
    return redirect(url_for("admin.modules"))


def _module_title(name: str) -> str:
    if name in HOST_MODULE_INFO:
        return HOST_MODULE_INFO[name].title
    entry = current_cabinet().registry.modules.get(name)
    return entry.info.title if entry else name


@bp.route("/modules/<name>/settings", methods=["GET", "POST"])
@admin_required
def settings(name: str) -> Response | str | tuple[str, int]:
    """«Настройка» of a module: the form, its validation and the module's settings actions."""
    cabinet = current_cabinet()
    if not cabinet.settings.is_installed(name):
        flash(_("Модуль «%(title)s» не установлен: настройка недоступна.", title=_module_title(name)), "error")
        return redirect(url_for("admin.modules"))
    fields = settings_fields(cabinet, name)
    status = 200
    if request.method == "POST":
        submitted = {field.name: request.form.get(field.name, "") for field in fields}
        outcome = submit_settings(cabinet, name, submitted)
        if outcome.saved:
            flash(_("Настройки сохранены."), "success")
            return redirect(url_for("admin.settings", name=name))
        status = 422
    else:
        outcome = SettingsOutcome(errors=(), values=current_values(cabinet, name, fields))
    stored = cabinet.settings.get(name)
    hints = {field.name: secret_hint(stored.get(field.name, "")) for field in fields if field.secret}
    errors: dict[str, list[str]] = defaultdict(list)
    for error in outcome.errors:
        errors[error.field].append(error.message)
    sections: dict[str, list[SettingsField]] = {}
    for field in fields:
        sections.setdefault(field.section, []).append(field)
    viewer = current_viewer()
    assert viewer is not None
    page = render_template(
        "admin/settings.html",
        module=name,
        title=_module_title(name),
        sections=sections,
        section_titles=SECTION_TITLES,
        values=outcome.values,
        hints=hints,
        errors=errors,
        error_list=_labelled(outcome.errors, fields),
        actions=cabinet.section_actions(f"settings:{name}", viewer),
        menu_key="admin",
    )
    return page, status


def _labelled(errors: Sequence[FieldError], fields: Sequence[SettingsField]) -> list[tuple[str, str]]:
    labels = {field.name: field.label for field in fields}
    return [(labels.get(error.field, error.field), error.message) for error in errors]


def _catalog() -> list[Permission]:
    return [*HOST_PERMISSIONS, *current_cabinet().module_permissions()]


@bp.route("/roles", methods=["GET", "POST"])
@admin_required
def roles() -> Response | str:
    """Права доступа → Роли: which role holds which permission (the administrator holds all)."""
    cabinet = current_cabinet()
    catalog = _catalog()
    codes = {permission.code for permission in catalog}
    with cabinet.db.session() as session:
        role_rows = session.scalars(select(Role).order_by(Role.id)).all()
        editable = [role for role in role_rows if role.code != "admin"]
        if request.method == "POST":
            wanted = set(request.form.getlist("grant"))
            # Only the permissions listed on the page are rewritten: grants of modules whose data was kept
            # across an uninstall stay as they are.
            session.execute(
                delete(RolePermission).where(
                    RolePermission.role_id.in_([role.id for role in editable]),
                    RolePermission.permission.in_(sorted(codes)),
                )
            )
            for role in editable:
                for code in sorted(codes):
                    if f"{role.code}:{code}" in wanted:
                        session.add(RolePermission(role_id=role.id, permission=code))
        granted = {
            (row[0], row[1]) for row in session.execute(select(RolePermission.role_id, RolePermission.permission))
        }
    if request.method == "POST":
        flash(_("Права доступа сохранены."), "success")
        return redirect(url_for("admin.roles"))
    sections: dict[str, list[Permission]] = {}
    for permission in catalog:
        sections.setdefault(permission.section, []).append(permission)
    return render_template(
        "admin/roles.html",
        roles=role_rows,
        sections=sections,
        granted=granted,
        menu_key="admin",
    )


@bp.route("/")
@admin_required
def index() -> Response:
    """Администрирование starts with the Modules page."""
    return redirect(url_for("admin.modules"))
