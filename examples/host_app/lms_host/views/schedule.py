"""Расписание: a week of lesson cards, with the installed modules' contributions from ONE batched hook call.

The page runs a constant number of queries whatever the number of lessons: lessons come with their group and
teacher eagerly loaded, and plugins answer for all cards at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta

from flask import Blueprint, render_template, request
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import joinedload

from hookspecs.types import LessonCard, Viewer
from lms_host.auth import current_viewer, permission_required
from lms_host.cabinet import Cabinet, current_cabinet
from lms_host.host_modules import host_fields
from lms_host.models import Lesson, Student
from lms_host.permissions import SCHEDULE_VIEW
from lms_host.services.directory import lesson_ref

bp = Blueprint("schedule", __name__)


def week_start(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def _requested_week(today: date) -> date:
    raw = request.args.get("week", "")
    try:
        return week_start(date.fromisoformat(raw)) if raw else week_start(today)
    except ValueError:
        return week_start(today)


def _viewer_lessons(viewer: Viewer) -> Select[Lesson]:
    statement = select(Lesson).options(joinedload(Lesson.group), joinedload(Lesson.teacher))
    if viewer.is_admin:
        return statement
    conditions = []
    if viewer.student_id is not None:
        group = select(Student.group_id).where(Student.id == viewer.student_id).scalar_subquery()
        conditions.append(Lesson.group_id == group)
    if viewer.employee_id is not None:
        conditions.append(Lesson.teacher_id == viewer.employee_id)
    return statement.where(or_(*conditions)) if conditions else statement.where(Lesson.id.is_(None))


def _merge_cards(answers: list[Mapping[int, LessonCard] | None]) -> dict[int, list[LessonCard]]:
    cards: dict[int, list[LessonCard]] = defaultdict(list)
    for answer in answers:
        for lesson_id, card in (answer or {}).items():
            cards[lesson_id].append(card)
    return cards


def _schedule_settings(cabinet: Cabinet) -> dict[str, str]:
    stored = cabinet.settings.get("schedule")
    return {field.name: stored.get(field.name, field.default) for field in host_fields("schedule", [])}


@bp.route("/schedule")
@permission_required(SCHEDULE_VIEW)
def week() -> str:
    """The viewer's lessons of one week (Monday to Sunday) in the organisation's time zone."""
    cabinet = current_cabinet()
    viewer = current_viewer()
    assert viewer is not None
    clock = cabinet.host.clock
    today = clock.today()
    monday = _requested_week(today)
    start = datetime.combine(monday, time.min, tzinfo=clock.timezone)
    end = datetime.combine(monday + timedelta(days=7), time.min, tzinfo=clock.timezone)
    statement = (
        _viewer_lessons(viewer)
        .where(Lesson.starts_at >= start, Lesson.starts_at < end)
        .order_by(Lesson.starts_at, Lesson.id)
    )
    with cabinet.db.session() as session:
        lessons = list(session.scalars(statement).all())
    refs = [lesson_ref(lesson, clock.timezone) for lesson in lessons]
    cards = _merge_cards(cabinet.contributions("lms_schedule_cards", viewer=viewer, lessons=refs, host=cabinet.host))
    by_day: dict[date, list[Lesson]] = defaultdict(list)
    for lesson in lessons:
        by_day[lesson.starts_at.astimezone(clock.timezone).date()].append(lesson)
    days = [monday + timedelta(days=offset) for offset in range(7)]
    return render_template(
        "schedule.html",
        days=days,
        by_day=by_day,
        cards=cards,
        today=today,
        monday=monday,
        previous_week=(monday - timedelta(days=7)).isoformat(),
        next_week=(monday + timedelta(days=7)).isoformat(),
        this_week=week_start(today).isoformat(),
        settings=_schedule_settings(cabinet),
        menu_key="schedule",
    )
