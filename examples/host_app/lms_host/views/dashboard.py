"""The start page: who am I, and where can I go."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from lms_host.auth import current_viewer, login_required
from lms_host.cabinet import current_cabinet
from lms_host.models import Employee, Student

bp = Blueprint("dashboard", __name__)


@bp.route("/")
@login_required
def index() -> str:
    """The dashboard."""
    viewer = current_viewer()
    assert viewer is not None  # login_required
    with current_cabinet().db.session() as session:
        students = session.scalars(
            select(Student).options(joinedload(Student.group)).where(Student.user_id == viewer.user_id)
        ).all()
        employees = session.scalars(
            select(Employee).options(joinedload(Employee.unit)).where(Employee.user_id == viewer.user_id)
        ).all()
    return render_template("dashboard.html", students=students, employees=employees, menu_key="dashboard")
