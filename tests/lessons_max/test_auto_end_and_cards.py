"""MAX lessons on the schedule's cards, and the job that ends forgotten ones (posting the end in the group's chat),
chosen through the platform port; against the MAX sandbox over real HTTP."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from hookspecs.types import JobContext
from sferum_plugin.models import OnlineLesson
from sferum_plugin.services import lesson_jobs, max_lessons
from sferum_plugin.services.lessons import LessonOutcome
from sferum_plugin.services.platforms import platform_for
from sferum_plugin.views.cards import schedule_cards
from tests.lessons_max.conftest import NOW, OUTSIDER, STUDENT, TEACHER, World, lesson

AFTER = timedelta(minutes=30)
LESSON_END = lesson(1).ends_at


def _start(world: World, lesson_id: int = 1) -> LessonOutcome:
    return max_lessons.start_lesson(world.host, TEACHER, lesson_id, world.settings, world.access.bot)


def _auto_end(world: World) -> list[int]:
    return max_lessons.auto_end_overdue(world.host, world.settings, world.access.bot, after=AFTER)


def _row(world: World, online_id: int) -> OnlineLesson:
    with world.host.db.session() as session:
        row = session.get_one(OnlineLesson, online_id)
        session.expunge(row)
        return row


def test_a_forgotten_lesson_ends_after_the_delay_with_the_end_posted(world: World) -> None:
    online = _start(world).online
    world.host.clock.current = LESSON_END + AFTER - timedelta(minutes=1)
    assert _auto_end(world) == []
    assert len(world.messages()) == 1
    world.host.clock.current = LESSON_END + AFTER + timedelta(minutes=1)
    assert _auto_end(world) == [online.id]
    assert world.messages()[-1]["text"] == "Онлайн-занятие «Физика» завершено автоматически."
    row = _row(world, online.id)
    assert (row.state, row.end_reason, row.ended_by, row.error) == ("ended", "auto", None, None)
    assert _auto_end(world) == []  # nothing twice
    assert len(world.messages()) == 2


def test_the_job_ends_max_lessons_through_the_platform_port(world: World) -> None:
    online = _start(world).online
    world.host.clock.current = LESSON_END + timedelta(minutes=31)  # the setting's default: 30 minutes
    lesson_jobs.end_overdue_lessons(JobContext(host=world.host, now=world.host.clock.current), sferum=world.access)
    assert _row(world, online.id).state == "ended"
    assert world.messages()[-1]["text"].endswith("завершено автоматически.")


def test_an_ambiguous_end_post_ends_the_lesson_at_once_and_says_so(world: World) -> None:
    online = _start(world).online
    world.sandbox.faults.inject("POST /messages", status=503)
    world.host.clock.current = LESSON_END + AFTER + timedelta(minutes=1)
    assert _auto_end(world) == [online.id]
    assert _row(world, online.id).error == max_lessons.END_UNCONFIRMED
    assert world.posts() == 2  # the announcement and the one attempt: never repeated
    assert _auto_end(world) == []
    assert world.posts() == 2


def test_an_end_post_max_refused_is_retried_by_the_next_runs_then_given_up(world: World) -> None:
    online = _start(world).online
    world.sandbox.faults.inject("POST /messages", status=429, times=8)  # two runs of four attempts
    world.host.clock.current = LESSON_END + AFTER + timedelta(minutes=1)
    assert _auto_end(world) == []  # MAX surely did not take it: the lesson waits for the next run
    row = _row(world, online.id)
    assert (row.state, row.error) == ("active", max_lessons.END_RETRYING)
    card = schedule_cards(TEACHER, world.host.directory.lesson_list, world.host)[1]
    assert max_lessons.END_RETRYING in card.status  # said, not silently dropped

    world.host.clock.current += timedelta(minutes=5)
    assert _auto_end(world) == []
    world.host.clock.current += timedelta(minutes=5)
    assert _auto_end(world) == [online.id]  # MAX takes it now
    row = _row(world, online.id)
    assert (row.state, row.error) == ("ended", None)
    assert world.messages()[-1]["text"].endswith("завершено автоматически.")


def test_an_end_post_that_keeps_failing_does_not_keep_the_lesson_open(world: World) -> None:
    online = _start(world).online
    world.sandbox.faults.inject("POST /messages", status=429, times=1000)
    world.host.clock.current = LESSON_END + AFTER + timedelta(minutes=1)
    assert _auto_end(world) == []
    world.host.clock.current = LESSON_END + AFTER + max_lessons.END_POST_GRACE
    assert _auto_end(world) == [online.id]
    row = _row(world, online.id)
    assert (row.state, row.end_reason, row.error) == ("ended", "auto", max_lessons.END_NOT_POSTED)
    card = schedule_cards(TEACHER, world.host.directory.lesson_list, world.host)[1]
    assert card.status == (
        "Онлайн-занятие завершено автоматически. MAX не опубликовал сообщение о завершении в чате группы: "
        "сообщите группе сами."
    )


def test_a_lesson_whose_chat_is_gone_still_ends_and_says_why(world: World) -> None:
    online = _start(world).online
    world.sandbox.remove_bot(world.chat_id)
    world.host.clock.current = LESSON_END + AFTER + timedelta(minutes=1)
    assert _auto_end(world) == [online.id]  # a refusal: no point in trying again
    assert _row(world, online.id).error == max_lessons.END_NOT_POSTED


def test_the_max_job_leaves_vk_lessons_alone(world: World) -> None:
    with world.host.db.session() as session:
        session.add(OnlineLesson(lesson_id=2, platform="vk", app_id=51234567, state="active", call_id="call-1",
                                 started_by=1, started_at=NOW - timedelta(days=1)))  # fmt: skip
    world.host.clock.current = LESSON_END + AFTER + timedelta(minutes=1)
    assert _auto_end(world) == []
    with world.host.db.session() as session:
        assert session.scalars(select(OnlineLesson.state)).all() == ["active"]
    assert world.sandbox.request_counts() == {}


def test_the_cards_offer_max_s_ways_and_keep_the_hint_and_the_rules(world: World) -> None:
    lessons_on_page = world.host.directory.lesson_list
    idle = schedule_cards(TEACHER, lessons_on_page, world.host)
    assert [(a.label, a.method) for a in idle[1].actions] == [
        ("Начать онлайн-занятие в Сферум", "POST"),
        ("Начать со ссылкой на звонок MAX", "GET"),
    ]
    assert idle[1].actions[1].url == "/m/sferum/online_lessons#lesson-1"
    assert idle[1].hint == ""
    assert 2 not in idle  # other days: no button
    assert 3 not in idle
    assert schedule_cards(STUDENT, lessons_on_page, world.host) == {}

    _start(world)
    teacher = schedule_cards(TEACHER, lessons_on_page, world.host)[1]
    assert teacher.status == "Онлайн-занятие идёт"
    assert [a.label for a in teacher.actions] == [
        "Перейти в онлайн-занятие Сферум",
        "Завершить онлайн-занятие в Сферум",
    ]
    assert teacher.hint == "Включите камеру"
    student = schedule_cards(STUDENT, lessons_on_page, world.host)[1]
    assert [a.label for a in student.actions] == ["Перейти в онлайн-занятие Сферум"]
    assert all(a.method == "POST" for a in student.actions)  # the link itself is on no page
    assert schedule_cards(OUTSIDER, lessons_on_page, world.host)[1].actions == ()


def test_an_unconfirmed_announcement_stays_on_the_teachers_card(world: World) -> None:
    world.sandbox.faults.inject("POST /messages", status=503)
    _start(world)
    card = schedule_cards(TEACHER, world.host.directory.lesson_list, world.host)[1]
    assert card.status.startswith("Онлайн-занятие идёт. MAX не подтвердил, что объявление о занятии опубликовано")
    assert schedule_cards(STUDENT, world.host.directory.lesson_list, world.host)[1].status == "Онлайн-занятие идёт"


def test_the_platform_port_chooses_max_for_lessons(world: World) -> None:
    port = platform_for(world.stored).lessons
    assert port.offers_call_link
    outcome = port.start(world.host, TEACHER, 1, world.stored, world.access, confirm=False,
                         call_link="https://max.ru/call/xyz")  # fmt: skip
    assert outcome.open_url == "https://max.ru/call/xyz"
    ended = port.end(world.host, TEACHER, 1, world.stored, world.access)
    assert ended.online.state == "ended"
    announcement, end = world.messages()
    assert announcement["buttons"] == [
        [{"type": "link", "text": "Присоединиться к звонку", "url": "https://max.ru/call/xyz"}]
    ]
    assert end["text"] == "Онлайн-занятие «Физика» завершено."
