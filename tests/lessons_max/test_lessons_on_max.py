"""Online lessons on MAX, truthfully: the bot announces the lesson in the group's MAX chat and the teacher starts the
call there (or pastes a MAX call link); against the MAX sandbox over real HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest
from sqlalchemy import select

from hookspecs.types import LessonRef, Viewer
from sferum_plugin.models import OnlineLesson, ProfileLink
from sferum_plugin.services import lessons, max_lessons
from sferum_plugin.services.lessons import LessonOutcome, LessonRefused
from tests.lessons_max.conftest import (
    ADMIN,
    OTHER_TEACHER,
    OUTSIDER,
    STUDENT,
    TEACHER,
    World,
    add_group_chat,
    lesson,
)
from tests.plugin.fakes import ORG_TZ


def _start(world: World, viewer: Viewer = TEACHER, lesson_id: int = 1, call_link: str = "") -> LessonOutcome:
    return max_lessons.start_lesson(world.host, viewer, lesson_id, world.settings, world.access.bot,
                                    call_link=call_link)  # fmt: skip


def _end(world: World, viewer: Viewer = TEACHER, lesson_id: int = 1) -> LessonOutcome:
    return max_lessons.end_lesson(world.host, viewer, lesson_id, world.settings, world.access.bot)


def _rows(world: World) -> list[OnlineLesson]:
    with world.host.db.session() as session:
        rows = list(session.scalars(select(OnlineLesson).order_by(OnlineLesson.id)).all())
        session.expunge_all()
        return rows


def test_start_posts_one_announcement_to_the_groups_chat_and_opens_it(world: World) -> None:
    outcome = _start(world)

    chat_link = world.chat()["link"]
    assert chat_link.startswith("https://max.ru/join/")
    assert outcome.open_url == chat_link  # the teacher is sent to the chat, to start the group call there
    assert outcome.notice is None
    (message,) = world.messages()
    assert message["text"] == (
        "Онлайн-занятие «Физика» (09:00–10:30) начинается. Преподаватель Петров Иван начнёт групповой звонок "
        "в этом чате."
    )
    assert message["buttons"] == []
    assert world.posts() == 1
    assert len(world.sandbox.state()["messages"]) == 1  # nothing anywhere else
    (row,) = _rows(world)
    assert (row.platform, row.app_id, row.state, row.join_link, row.call_id, row.started_by) == (
        "max", 0, "active", chat_link, None, TEACHER.user_id,
    )  # fmt: skip


def test_a_pasted_call_link_is_announced_and_given_to_the_students(world: World) -> None:
    call = "https://call.max.ru/c/AbCdEf123?lang=ru"
    outcome = _start(world, call_link=f"  {call} ")

    assert outcome.open_url == call
    (message,) = world.messages()
    assert message["buttons"] == [[{"type": "link", "text": "Присоединиться к звонку", "url": call}]]
    assert lessons.join_link(world.host, STUDENT, 1, world.settings) == call
    assert lessons.join_link(world.host, TEACHER, 1, world.settings) == call


@pytest.mark.parametrize(
    "link",
    [
        "http://max.ru/call/1",  # not https
        "https://vk.com/call/join/abc",  # another messenger
        "https://max.ru.evil.test/call/1",  # MAX's name inside a foreign host
        "https://evil.test/https://max.ru/call",
        "https://user:pass@max.ru/call/1",
        "https://max.ru:8443/call/1",
        "javascript:alert(1)",
        "max.ru/call/1",  # no scheme
        "https://max.ru/call/1 2",
        "https://max.ru/" + "a" * 1000,
    ],
)
def test_a_call_link_that_is_not_maxs_is_refused_naming_the_field(world: World, link: str) -> None:
    with pytest.raises(LessonRefused) as refused:
        _start(world, call_link=link)
    assert refused.value.reason.startswith("Поле «Ссылка на звонок MAX»:")
    assert refused.value.status == 400
    assert world.posts() == 0
    assert _rows(world) == []


@pytest.mark.parametrize("link", ["https://max.ru/call/abc", "https://web.max.ru/-123#call", "https://MAX.RU/x"])
def test_maxs_own_https_addresses_are_accepted(link: str) -> None:
    assert max_lessons.clean_call_link(link) == link
    assert max_lessons.clean_call_link("   ") is None


def test_join_opens_the_same_place_for_the_groups_students_only(world: World) -> None:
    with pytest.raises(LessonRefused, match="не идёт"):
        lessons.join_link(world.host, STUDENT, 1, world.settings)
    _start(world)
    link = world.chat()["link"]
    assert lessons.join_link(world.host, STUDENT, 1, world.settings) == link
    assert lessons.join_link(world.host, TEACHER, 1, world.settings) == link
    with pytest.raises(LessonRefused) as refused:
        lessons.join_link(world.host, OUTSIDER, 1, world.settings)
    assert refused.value.status == 403
    assert "max.ru" not in refused.value.reason


def test_end_posts_the_end_in_the_chat_and_closes_the_lesson(world: World) -> None:
    _start(world)
    with pytest.raises(LessonRefused, match="только его преподаватель или администратор"):
        _end(world, STUDENT)
    outcome = _end(world)

    assert outcome.notice is None
    _, end = world.messages()
    assert end["text"] == "Онлайн-занятие «Физика» завершено."
    assert (outcome.online.state, outcome.online.end_reason, outcome.online.ended_by) == ("ended", "teacher", 1)
    with pytest.raises(LessonRefused, match="не идёт"):
        lessons.join_link(world.host, STUDENT, 1, world.settings)
    assert _start(world).online.state == "active"  # a lesson may be started again after it ended
    assert world.posts() == 3


def test_an_administrator_may_end_it_too(world: World) -> None:
    _start(world)
    assert _end(world, ADMIN).online.end_reason == "admin"
    assert world.messages()[-1]["text"] == "Онлайн-занятие «Физика» завершено."


def test_a_group_without_a_max_chat_is_told_exactly_what_is_missing_and_nothing_is_sent(world: World) -> None:
    world.host.directory.lesson_list.append(lesson(5, group_id=200))
    add_group_chat(world.host, 777, group_id=200, platform="vk", app_id=51234567)  # VK Messenger's chat: not MAX's
    add_group_chat(world.host, None, group_id=200, state="creating")  # asked for, the button not tapped yet
    add_group_chat(world.host, world.chat_id, group_id=200, kind="unit")  # a unit's chat, not the group's

    with pytest.raises(LessonRefused) as refused:
        _start(world, lesson_id=5)

    assert refused.value.text("ru", ORG_TZ) == (
        "У группы «ПМ-22» нет чата в MAX: создайте его на странице «Чаты» или привяжите существующий."
    )
    assert refused.value.status == 409
    assert world.sandbox.request_counts() == {}  # not even a read
    assert _rows(world) == []


def test_a_chat_the_bot_was_removed_from_is_said_and_nothing_is_sent(world: World) -> None:
    world.sandbox.remove_bot(world.chat_id)
    with pytest.raises(LessonRefused) as refused:
        _start(world)
    assert "недоступен боту модуля" in refused.value.text("ru", ORG_TZ)
    assert "ИВТ-21" in refused.value.text("ru", ORG_TZ)
    assert world.posts() == 0
    assert [row.state for row in _rows(world)] == ["failed"]  # the teacher may try again once it is fixed


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
def test_the_rules_are_those_of_vk_and_nothing_is_sent(
    world: World, viewer: Viewer, lesson_id: int, words: str
) -> None:
    with pytest.raises(LessonRefused, match=words):
        _start(world, viewer, lesson_id, call_link="https://max.ru/call/1")
    assert world.sandbox.request_counts() == {}
    assert _rows(world) == []


def test_a_teacher_without_a_linked_max_profile_must_link_one_first(world: World) -> None:
    with world.host.db.session() as session:
        session.execute(ProfileLink.__table__.delete().where(ProfileLink.user_id == 1))
    with pytest.raises(LessonRefused, match="учебный профиль"):
        _start(world)
    assert world.posts() == 0


def test_the_current_day_is_the_organisations(world: World) -> None:
    """A lesson at 00:30 Moscow time is stored as 21:30 UTC of the day before: it is still the Moscow day's."""
    night_start = datetime(2026, 11, 30, 0, 30, tzinfo=ORG_TZ).astimezone(UTC)
    world.host.directory.lesson_list = [
        LessonRef(
            id=7,
            subject="Физика",
            starts_at=night_start,
            ends_at=night_start + timedelta(minutes=90),
            group_id=100,
            teacher_id=10,
        )
    ]
    world.host.clock.current = datetime(2026, 11, 29, 23, 50, tzinfo=ORG_TZ)
    with pytest.raises(LessonRefused, match="только в день занятия"):
        _start(world, lesson_id=7)
    world.host.clock.current = datetime(2026, 11, 30, 10, 0, tzinfo=ORG_TZ)
    assert _start(world, lesson_id=7).online.state == "active"
    assert "00:30–02:00" in world.messages()[0]["text"]  # the organisation's time, not UTC


def test_a_second_start_posts_nothing(world: World) -> None:
    _start(world)
    with pytest.raises(LessonRefused, match="уже идёт"):
        _start(world)
    assert world.posts() == 1


def test_503_on_the_announcement_is_reported_and_never_posted_twice(world: World) -> None:
    world.sandbox.faults.inject("POST /messages", status=503)
    outcome = _start(world)

    # MAX may have posted it: the lesson starts (its place does not depend on the message), the teacher is told.
    assert outcome.notice == max_lessons.ANNOUNCEMENT_UNCONFIRMED
    assert outcome.open_url == world.chat()["link"]
    assert outcome.online.state == "active"
    assert world.posts() == 1  # one request: a send is never repeated after an ambiguous failure
    with pytest.raises(LessonRefused, match="уже идёт"):
        _start(world)  # the teacher presses «Начать» again
    assert world.posts() == 1
    (row,) = _rows(world)
    assert row.error == max_lessons.ANNOUNCEMENT_UNCONFIRMED


def test_a_dropped_connection_after_the_post_leaves_one_announcement(world: World) -> None:
    world.sandbox.faults.inject("POST /messages", drop_after_apply=True)
    assert _start(world).notice == max_lessons.ANNOUNCEMENT_UNCONFIRMED
    with pytest.raises(LessonRefused, match="уже идёт"):
        _start(world)
    assert len(world.messages()) == 1


def test_429_that_does_not_pass_is_said_in_words_and_the_teacher_may_retry(world: World) -> None:
    world.sandbox.faults.inject("POST /messages", status=429, times=4)  # every attempt of the retry policy
    with pytest.raises(LessonRefused) as refused:
        _start(world)
    assert refused.value.text("ru", ORG_TZ) == (
        "MAX получил слишком много запросов подряд и попросил подождать. Попробуйте ещё раз через минуту."
    )
    assert refused.value.status == 502
    assert world.messages() == []  # 429 is refused before anything is posted
    assert [row.state for row in _rows(world)] == ["failed"]

    assert _start(world).notice is None
    assert len(world.messages()) == 1


def test_an_unreachable_max_is_said_in_words(world: World) -> None:
    gone = attrs.evolve(world.settings, api_url="http://127.0.0.1:9")  # nothing listens on the discard port
    with pytest.raises(LessonRefused) as refused:
        max_lessons.start_lesson(world.host, TEACHER, 1, gone, world.access.bot)
    assert refused.value.text("ru", ORG_TZ) == (
        "MAX не отвечает. Попробуйте ещё раз через несколько минут; если ошибка повторяется, сообщите администратору."
    )
    assert [row.state for row in _rows(world)] == ["failed"]
    assert world.sandbox.request_counts() == {}


def test_the_teacher_s_end_closes_the_lesson_even_when_max_does_not_confirm_the_end(world: World) -> None:
    _start(world)
    world.sandbox.faults.inject("POST /messages", status=503)
    outcome = _end(world)
    assert outcome.online.state == "ended"  # nothing runs in MAX that the module could end: the card closes
    assert outcome.notice == max_lessons.END_UNCONFIRMED
    assert world.posts() == 2  # the announcement and the one attempt, never repeated
    with pytest.raises(LessonRefused, match="не идёт"):
        _end(world)
    assert world.posts() == 2


def test_the_teacher_s_end_says_when_the_end_could_not_be_posted(world: World) -> None:
    _start(world)
    world.sandbox.remove_bot(world.chat_id)
    outcome = _end(world)
    assert outcome.online.state == "ended"
    assert outcome.notice == max_lessons.END_NOT_POSTED
    assert outcome.online.error == max_lessons.END_NOT_POSTED
