"""Расписание: the viewer's week, plugin card contributions in one batched call, a constant number of queries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from lms_host import Cabinet
from lms_host.filters import linkify
from lms_host.models import Lesson
from sqlalchemy import delete, event

from tests.host.conftest import login, post
from tests.host.fake_plugin import FakePlugin
from tests.host.people import Seeded

MONDAY_UTC = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)  # 08:00 in Moscow


def add_lessons(cabinet: Cabinet, seeded: Seeded, count: int, group_id: int | None = None) -> list[int]:
    with cabinet.db.session() as session:
        lessons = []
        for index in range(count):
            start = MONDAY_UTC + timedelta(days=index % 7, hours=index // 7)
            lessons.append(
                Lesson(
                    subject=f"Предмет {index}",
                    starts_at=start,
                    ends_at=start + timedelta(minutes=50),
                    group_id=group_id or seeded.group_id,
                    teacher_id=seeded.teacher_id,
                    room=f"{100 + index}",
                )
            )
        session.add_all(lessons)
        session.flush()
        return [lesson.id for lesson in lessons]


@contextmanager
def count_queries(cabinet: Cabinet) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(cabinet.db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(cabinet.db.engine, "before_cursor_execute", record)


def _install(client: FlaskClient) -> None:
    admin = client.application.test_client()
    login(admin, "admin")
    post(admin, "/admin/modules/fake/install")


def test_query_count_does_not_grow_with_the_number_of_lessons(
    client: FlaskClient, cabinet: Cabinet, seeded: Seeded, fake_plugin: FakePlugin
) -> None:
    _install(client)
    login(client, "student")
    add_lessons(cabinet, seeded, 5)
    client.get("/schedule")  # warm up caches that are not per-page
    with count_queries(cabinet) as few:
        page = client.get("/schedule").get_data(as_text=True)
    assert page.count('class="lesson"') == 5
    with cabinet.db.session() as session:
        session.execute(delete(Lesson))
    add_lessons(cabinet, seeded, 50)
    fake_plugin.calls["cards"].clear()
    with count_queries(cabinet) as many:
        page = client.get("/schedule").get_data(as_text=True)
    assert page.count('class="lesson"') == 50
    assert len(many) == len(few)
    assert len(fake_plugin.calls["cards"]) == 1
    assert len(fake_plugin.calls["cards"][0]) == 50


def test_student_sees_their_group_teacher_sees_their_lessons_admin_sees_all(
    client: FlaskClient, cabinet: Cabinet, seeded: Seeded
) -> None:
    add_lessons(cabinet, seeded, 3)
    with cabinet.db.session() as session:
        start = MONDAY_UTC + timedelta(hours=3)
        session.add(
            Lesson(
                subject="Чужая группа",
                starts_at=start,
                ends_at=start + timedelta(hours=1),
                group_id=seeded.other_group_id,
                teacher_id=seeded.employee_id,
                room="1",
            )
        )
    for username, expected in (("student", 3), ("teacher", 3), ("admin", 4), ("employee", 1)):
        viewer = client.application.test_client()
        login(viewer, username)
        page = viewer.get("/schedule").get_data(as_text=True)
        assert page.count('class="lesson"') == expected, username


def test_card_shows_lesson_details_in_org_time_and_today_is_highlighted(
    client: FlaskClient, cabinet: Cabinet, seeded: Seeded
) -> None:
    add_lessons(cabinet, seeded, 3)  # Mon, Tue, Wed at 08:00 Moscow
    login(client, "student")
    page = client.get("/schedule").get_data(as_text=True)
    assert "08:00–08:50" in page
    assert "ИВТ-21 · Петров Иван Сергеевич · ауд. 100" in page
    assert 'class="day today" data-date="2026-03-04"' in page
    assert page.count("day today") == 1
    assert "среда, 4 марта" in page


def test_other_weeks_are_reachable_by_the_week_parameter(client: FlaskClient, cabinet: Cabinet, seeded: Seeded) -> None:
    add_lessons(cabinet, seeded, 2)
    login(client, "student")
    assert client.get("/schedule?week=2026-03-11").get_data(as_text=True).count('class="lesson"') == 0
    page = client.get("/schedule?week=2026-03-05").get_data(as_text=True)
    assert page.count('class="lesson"') == 2
    assert "?week=2026-02-23" in page
    assert "?week=2026-03-09" in page


def test_plugin_contributions_are_rendered_on_cards(client: FlaskClient, cabinet: Cabinet, seeded: Seeded) -> None:
    _install(client)
    add_lessons(cabinet, seeded, 1)
    login(client, "student")
    page = client.get("/schedule").get_data(as_text=True)
    assert "Фейк идёт" in page
    assert '<a class="btn btn-secondary" href="/m/fake/page">Открыть фейк</a>' in page
    start = page.index('action="/m/fake/echo"')
    form = page[page.rfind("<form", 0, start) : page.index("</form>", start)]
    assert 'data-confirm="Точно начать?"' in form
    assert 'name="csrf_token"' in form
    assert '<a href="https://fake.example/join?a=1&amp;b=2" rel="noopener noreferrer" target="_blank">' in page
    assert "&lt;b&gt;не жирный&lt;/b&gt;" in page


def test_linkify_escapes_html_keeps_line_breaks_and_links_urls() -> None:
    html = linkify('Старт <script>x</script>\nСсылка: https://sferum.ru/?call=1&x="2", и http://a.example.')
    assert "<script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;<br>\n" in html
    assert '<a href="https://sferum.ru/?call=1&amp;x=" rel="noopener noreferrer" target="_blank">' in html
    assert '<a href="http://a.example" rel="noopener noreferrer" target="_blank">http://a.example</a>.' in html
    assert str(linkify("javascript:alert(1)")) == "javascript:alert(1)"


def test_empty_day_text_and_room_visibility_come_from_schedule_settings(
    client: FlaskClient, cabinet: Cabinet, seeded: Seeded
) -> None:
    add_lessons(cabinet, seeded, 1)
    cabinet.settings.save("schedule", {"show_room": "0", "empty_day_text": "Отдыхаем"})
    login(client, "student")
    page = client.get("/schedule").get_data(as_text=True)
    assert "ауд. 100" not in page
    assert page.count("Отдыхаем") == 6
