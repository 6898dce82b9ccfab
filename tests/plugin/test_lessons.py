"""The online-lesson rules, checked on the server whatever the page showed."""

from __future__ import annotations

from datetime import datetime, timedelta

import attrs
import pytest

from hookspecs.types import LessonRef, Person, PersonKind, Viewer
from sferum_plugin.account import Account
from sferum_plugin.gateway.domain import StartedCall
from sferum_plugin.gateway.errors import AccessDeniedError, OutcomeUnknownError
from sferum_plugin.models import OnlineLesson, ProfileLink
from sferum_plugin.permissions import ONLINE_LESSONS_VIEW
from sferum_plugin.services import install, lessons
from sferum_plugin.services.lessons import LessonRefused
from sferum_plugin.settings import SferumSettings
from sferum_plugin.views.cards import schedule_cards
from tests.plugin.fakes import ORG_TZ, FakeHost

SETTINGS = SferumSettings(app_id=51234567, service_token="s" * 20, app_token="a" * 20)
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=ORG_TZ)
GRANT = frozenset({ONLINE_LESSONS_VIEW})
TEACHER = Viewer(user_id=1, username="teacher", full_name="Преподаватель", employee_id=10, permissions=GRANT)
OTHER_TEACHER = Viewer(user_id=2, username="t2", full_name="Другой", employee_id=11, permissions=GRANT)
STUDENT = Viewer(user_id=3, username="student", full_name="Студент", student_id=20, permissions=GRANT)
OUTSIDER = Viewer(user_id=4, username="s2", full_name="Чужой студент", student_id=21, permissions=GRANT)
ADMIN = Viewer(user_id=5, username="admin", full_name="Админ", roles=frozenset({"admin"}))


def _lesson(lesson_id: int, day_offset: int = 0, hour: int = 9) -> LessonRef:
    starts = NOW.replace(hour=hour, minute=0) + timedelta(days=day_offset)
    return LessonRef(
        id=lesson_id, subject="Физика", starts_at=starts, ends_at=starts + timedelta(minutes=90), group_id=100,
        teacher_id=10,
    )  # fmt: skip


@attrs.define
class FakeCalls:
    started: int = 0
    finished: list[str] = attrs.field(factory=list)
    fail_with: Exception | None = None
    already_over: bool = False

    def start_call(self) -> StartedCall:
        if self.fail_with is not None:
            raise self.fail_with
        self.started += 1
        return StartedCall(join_link=f"https://call.test/{self.started}", call_id=f"call-{self.started}")

    def finish_call(self, call_id: str) -> bool:
        self.finished.append(call_id)
        return not self.already_over


@pytest.fixture
def setup(host: FakeHost) -> tuple[FakeHost, FakeCalls]:
    install.install(host.db.engine)
    host.clock.current = NOW
    host.directory.persons = [
        Person(id=20, kind=PersonKind.STUDENT, user_id=3, full_name="Студент", group_id=100),
        Person(id=21, kind=PersonKind.STUDENT, user_id=4, full_name="Чужой", group_id=200),
    ]
    host.directory.lesson_list = [_lesson(1), _lesson(2, day_offset=-1), _lesson(3, day_offset=1)]
    with host.db.session() as session:
        for user_id in (1, 2, 3, 4):
            session.add(
                ProfileLink(
                    platform="vk", app_id=SETTINGS.app_id, user_id=user_id, sferum_user_id=1000 + user_id, linked_at=NOW
                )
            )
    return host, FakeCalls()


def _start(
    host: FakeHost, calls: FakeCalls, viewer: Viewer = TEACHER, lesson_id: int = 1, **kw: object
) -> OnlineLesson:
    return lessons.start_lesson(host, viewer, lesson_id, SETTINGS, lambda s: calls, **kw)  # type: ignore[arg-type]


def test_teacher_starts_todays_lesson_and_the_call_is_stored(setup: tuple[FakeHost, FakeCalls]) -> None:
    host, calls = setup
    online = _start(host, calls)
    assert (online.state, online.call_id, online.join_link, online.started_by) == (
        "active", "call-1", "https://call.test/1", 1,
    )  # fmt: skip
    assert calls.started == 1


@pytest.mark.parametrize(
    ("viewer", "lesson_id", "words"),
    [
        (STUDENT, 1, "только преподаватель"),
        (OTHER_TEACHER, 1, "только преподаватель"),
        (TEACHER, 2, "только в день занятия"),
        (TEACHER, 3, "только в день занятия"),
        (Viewer(user_id=1, username="teacher", full_name="Без права", employee_id=10), 1, "Нет права"),
    ],
    ids=["student", "teacher-of-another-lesson", "yesterday", "tomorrow", "no-permission"],
)
def test_start_is_refused_with_a_clear_reason(
    setup: tuple[FakeHost, FakeCalls], viewer: Viewer, lesson_id: int, words: str
) -> None:
    host, calls = setup
    with pytest.raises(LessonRefused, match=words):
        _start(host, calls, viewer, lesson_id)
    assert calls.started == 0


def test_start_is_refused_while_the_module_is_not_configured(setup: tuple[FakeHost, FakeCalls]) -> None:
    host, calls = setup
    with pytest.raises(LessonRefused, match="не настроен"):
        lessons.start_lesson(host, TEACHER, 1, None, lambda s: calls)
    assert calls.started == 0


def test_teacher_without_a_profile_must_create_one_first(setup: tuple[FakeHost, FakeCalls]) -> None:
    host, calls = setup
    from sferum_plugin.services import profiles

    with host.db.session() as session:
        profiles.unlink(session, user_id=1, account=Account("vk", SETTINGS.app_id), now=NOW)
    with pytest.raises(LessonRefused, match="учебный профиль"):
        _start(host, calls)


def test_a_second_start_of_an_active_lesson_makes_no_second_call(setup: tuple[FakeHost, FakeCalls]) -> None:
    host, calls = setup
    _start(host, calls)
    with pytest.raises(LessonRefused, match="уже идёт"):
        _start(host, calls)
    assert calls.started == 1


def test_sferum_refusal_is_shown_in_words_and_the_teacher_can_retry(setup: tuple[FakeHost, FakeCalls]) -> None:
    host, calls = setup
    calls.fail_with = AccessDeniedError(15, "Access denied", method="calls.start")
    with pytest.raises(LessonRefused, match="Сферум отказал: у учётной записи организации нет прав") as refused:
        _start(host, calls)
    assert "Access denied" not in refused.value.text("ru", ORG_TZ)  # VK's English stays in the log
    calls.fail_with = None
    assert _start(host, calls).state == "active"


def test_outcome_unknown_needs_the_teachers_confirmation_before_a_new_call(setup: tuple[FakeHost, FakeCalls]) -> None:
    host, calls = setup
    calls.fail_with = OutcomeUnknownError("connection dropped", method="calls.start")
    with pytest.raises(LessonRefused, match="не подтвердил"):
        _start(host, calls)
    calls.fail_with = None
    with pytest.raises(LessonRefused, match="Подтвердите"):
        _start(host, calls)
    assert calls.started == 0
    assert _start(host, calls, confirm_after_unknown=True).state == "active"


def test_student_of_the_lesson_joins_an_active_lesson(setup: tuple[FakeHost, FakeCalls]) -> None:
    host, calls = setup
    with pytest.raises(LessonRefused, match="не идёт"):
        lessons.join_link(host, STUDENT, 1, SETTINGS)
    _start(host, calls)
    assert lessons.join_link(host, STUDENT, 1, SETTINGS) == "https://call.test/1"
    assert lessons.join_link(host, TEACHER, 1, SETTINGS) == "https://call.test/1"


def test_a_student_of_another_group_never_gets_the_link(setup: tuple[FakeHost, FakeCalls]) -> None:
    host, calls = setup
    _start(host, calls)
    with pytest.raises(LessonRefused) as refused:
        lessons.join_link(host, OUTSIDER, 1, SETTINGS)
    assert refused.value.status == 403
    assert "call.test" not in refused.value.reason


def test_teacher_ends_the_lesson_with_force_finish(setup: tuple[FakeHost, FakeCalls]) -> None:
    host, calls = setup
    _start(host, calls)
    with pytest.raises(LessonRefused):
        lessons.end_lesson(host, STUDENT, 1, SETTINGS, lambda s: calls)
    ended = lessons.end_lesson(host, TEACHER, 1, SETTINGS, lambda s: calls)
    assert (ended.state, ended.end_reason, calls.finished) == ("ended", "teacher", ["call-1"])
    assert _start(host, calls).state == "active"  # a lesson may be started again after it ended


def test_a_call_sferum_already_finished_counts_as_ended(setup: tuple[FakeHost, FakeCalls]) -> None:
    host, calls = setup
    _start(host, calls)
    calls.already_over = True
    assert lessons.end_lesson(host, ADMIN, 1, SETTINGS, lambda s: calls).end_reason == "admin"


def test_forgotten_lessons_end_automatically_after_the_delay(setup: tuple[FakeHost, FakeCalls]) -> None:
    host, calls = setup
    _start(host, calls)
    lesson_end = _lesson(1).ends_at
    host.clock.current = lesson_end + timedelta(minutes=29)
    assert lessons.auto_end_overdue(host, SETTINGS, lambda s: calls, after=timedelta(minutes=30)) == []
    host.clock.current = lesson_end + timedelta(minutes=31)
    (ended_id,) = lessons.auto_end_overdue(host, SETTINGS, lambda s: calls, after=timedelta(minutes=30))
    with host.db.session() as session:
        assert session.get_one(OnlineLesson, ended_id).end_reason == "auto"


def test_cards_show_each_viewer_the_right_button_and_the_hint_only_while_active(
    setup: tuple[FakeHost, FakeCalls],
) -> None:
    host, calls = setup
    host.settings.stored = {
        "sferum": {"app_id": str(SETTINGS.app_id), "service_token": "s" * 20, "app_token": "a" * 20},
        "schedule": {"sferum_online_lesson_hint": "Включите камеру <b>\nhttps://help.test"},
    }
    lesson_list = host.directory.lesson_list

    idle = schedule_cards(TEACHER, lesson_list, host)
    assert [a.label for a in idle[1].actions] == ["Начать онлайн-занятие в Сферум"]
    assert idle[1].hint == ""
    assert 2 not in idle
    assert 3 not in idle
    assert schedule_cards(STUDENT, lesson_list, host) == {}

    _start(host, calls)
    teacher = schedule_cards(TEACHER, lesson_list, host)[1]
    assert [a.label for a in teacher.actions] == ["Войти в звонок", "Завершить онлайн-занятие в Сферум"]
    assert teacher.hint == "Включите камеру <b>\nhttps://help.test"  # raw text: the host escapes it
    student = schedule_cards(STUDENT, lesson_list, host)[1]
    assert [a.label for a in student.actions] == ["Перейти в онлайн-занятие Сферум"]
    assert all(a.method == "POST" for a in student.actions)
    assert schedule_cards(OUTSIDER, lesson_list, host)[1].actions == ()  # status and hint, no way in


def test_cards_cost_the_same_queries_for_5_and_50_lessons(setup: tuple[FakeHost, FakeCalls]) -> None:
    from sqlalchemy import event

    host, _ = setup
    host.settings.stored = {
        "sferum": {"app_id": str(SETTINGS.app_id), "service_token": "s" * 20, "app_token": "a" * 20}
    }

    def count(n: int) -> tuple[int, int]:
        statements: list[str] = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(host.db.engine, "before_cursor_execute", listener)
        host.directory.calls.clear()
        try:
            schedule_cards(STUDENT, [_lesson(i) for i in range(n)], host)
        finally:
            event.remove(host.db.engine, "before_cursor_execute", listener)
        return len(statements), len(host.directory.calls)

    assert count(5) == count(50)


def test_after_an_unconfirmed_start_the_teachers_card_asks_to_confirm_a_new_one(
    setup: tuple[FakeHost, FakeCalls],
) -> None:
    host, calls = setup
    host.settings.stored = {
        "sferum": {"app_id": str(SETTINGS.app_id), "service_token": "s" * 20, "app_token": "a" * 20}
    }
    calls.fail_with = OutcomeUnknownError("connection dropped", method="calls.start")
    with pytest.raises(LessonRefused):
        _start(host, calls)
    card = schedule_cards(TEACHER, host.directory.lesson_list, host)[1]
    assert card.status == "Сферум не подтвердил запуск онлайн-занятия."
    (action,) = card.actions
    assert action.label == "Начать онлайн-занятие заново"
    assert action.url.endswith("?confirm=1")
    assert action.confirm  # the browser asks before a possibly second call


def test_the_current_day_is_the_organisations_even_for_a_lesson_stored_in_utc(
    setup: tuple[FakeHost, FakeCalls],
) -> None:
    """A lesson at 00:30 Moscow time is stored as 21:30 UTC of the day before: it is still the Moscow day's."""
    from datetime import UTC

    host, calls = setup
    half_past_midnight = datetime(2026, 11, 30, 0, 30, tzinfo=ORG_TZ).astimezone(UTC)
    assert half_past_midnight.date().day == 29  # the UTC date is the day before
    night = LessonRef(id=7, subject="Физика", starts_at=half_past_midnight,
                      ends_at=half_past_midnight + timedelta(minutes=90), group_id=100, teacher_id=10)  # fmt: skip
    host.directory.lesson_list = [night]
    host.clock.current = datetime(2026, 11, 29, 23, 50, tzinfo=ORG_TZ)  # Moscow's day before: too early
    with pytest.raises(LessonRefused, match="только в день занятия"):
        _start(host, calls, lesson_id=7)
    host.clock.current = datetime(2026, 11, 30, 10, 0, tzinfo=ORG_TZ)  # the lesson's Moscow day
    assert _start(host, calls, lesson_id=7).state == "active"
