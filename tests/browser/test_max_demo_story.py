"""Issue 12's story on ``SFERUM_PLATFORM=max make demo``, in Chromium: the real demo (``scripts/run_demo.py``) on a
fresh instance folder and free ports, and a person at each page.

The administrator grants what the demo's roles lack; the student and the teacher link their profiles by opening
the bot's deep link on the sandbox page that plays them in MAX and pressing Start (the ЛК's page notices by itself);
the teacher asks for the group's chat, the page waits for the tap, the teacher taps the bot's chat button in MAX and
the ЛК's page shows the chat created; the student is added to the chat in MAX; the administrator expels the student
on the ЛК's own pages and the student leaves the chat in MAX — with no command run by anyone. The demo's jobs run
every few seconds, so every wait polls within a bound (:data:`WAIT`). How the demo is run: ``tests/demo/running.py``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from tests.browser.conftest import login
from tests.demo.running import WAIT, Demo, running_demo

pytestmark = pytest.mark.slow  # the demo from scratch: migrations, demo data and two servers (see tests/demo)

T = TypeVar("T")
ONLINE_LESSONS = "Просмотр раздела онлайн-занятий (Сферум)"
SFERUM_CHATS = "Внешняя система «Сферум»"
GROUP = "ИВТ-21"
STUDENT = "Кузнецов Алексей"  # the demo student's full name starts so


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    with running_demo(tmp_path, "max") as demo:
        yield demo


def _until(read: Callable[[], T], done: Callable[[T], bool], what: str) -> T:
    """Read until ``done``; fail after :data:`WAIT` (a bound, not an expectation)."""
    deadline = time.monotonic() + WAIT
    while not done(value := read()):
        assert time.monotonic() < deadline, f"{what}: still {value!r} after {WAIT} s"
        time.sleep(0.5)
    return value


def _played_page(demo: Demo, account: str) -> tuple[str, int]:
    """The sandbox page the banner names for the demo account ``account`` in MAX, and that MAX user's id."""
    line = re.search(rf"MAX user «{account}»:\s+(\S+/_sandbox/as/(\d+))\s", demo.out.text())
    assert line, demo.out.text()
    return line[1], int(line[2])


def _state(demo: Demo) -> dict[str, Any]:
    return httpx.get(f"{demo.sandbox_url}/_sandbox/state", timeout=10).json()  # type: ignore[no-any-return]


def _members(demo: Demo, chat_id: int) -> set[int]:
    chat = next(chat for chat in _state(demo)["chats"] if chat["chat_id"] == chat_id)
    return {member["user_id"] for member in chat["members"]}


def _new_page(browser: Any) -> Any:
    page = browser.new_context(locale="ru-RU").new_page()
    page.set_default_timeout(10_000)
    return page


def _grant_what_the_demo_lacks(admin: Any, lms_url: str) -> None:
    """As the administrator, on the ЛК's pages: the roles' right to the online lessons, and Sferum as the chats."""
    admin.goto(f"{lms_url}/admin/roles")
    boxes = [admin.get_by_label(f"{role}: {ONLINE_LESSONS}") for role in ("Обучающийся", "Сотрудник")]
    if not all(box.is_checked() for box in boxes):
        for box in boxes:
            box.check()
        admin.get_by_role("button", name="Сохранить").click()
        admin.wait_for_load_state()
    admin.goto(f"{lms_url}/admin/modules/main/settings")
    chat_type = admin.get_by_label("Тип чатов")
    if chat_type.locator("option:checked").inner_text() != SFERUM_CHATS:
        chat_type.select_option(label=SFERUM_CHATS)
        admin.get_by_role("button", name=re.compile("Сохранить")).click()
        admin.wait_for_load_state()
        assert "Настройки сохранены" in admin.content()
    admin.goto(f"{lms_url}/admin/roles")
    assert all(box.is_checked() for box in boxes)


def _press_start(max_page: Any, played: str, link: str) -> None:
    """In MAX (the sandbox's page that plays the person): open the deep link and press Start."""
    max_page.goto(played)
    max_page.locator("input[name=link]").fill(link)
    max_page.get_by_role("button", name="Start").click()
    max_page.wait_for_load_state()
    assert max_page.get_by_role("status").inner_text() == "You pressed Start: the bot got bot_started.", (
        max_page.content()
    )


def _link_profile(page: Any, max_page: Any, lms_url: str, played: str, name: str, shot: Path | None) -> None:
    """«Создать учебный профиль Сферум», Start pressed in MAX; the ЛК's page, not reloaded, says the profile is
    linked."""
    page.goto(f"{lms_url}/m/sferum/online-lessons")
    page.get_by_role("button", name="Создать учебный профиль Сферум").click()
    page.wait_for_load_state()
    link = page.get_by_role("link", name="Открыть бота в MAX").get_attribute("href") or ""
    assert re.fullmatch(r"https://max\.ru/\w+\?start=profile-[\w-]+", link), link
    assert page.locator("figure.sferum-qr svg").is_visible()
    status = page.get_by_role("status")
    assert "нажмите «Начать»" in status.inner_text()
    if shot is not None:
        page.screenshot(path=str(shot), full_page=True)
    navigations: list[str] = []

    def navigated(frame: Any) -> None:
        if frame == page.main_frame:
            navigations.append(frame.url)

    page.on("framenavigated", navigated)

    _press_start(max_page, played, link)

    page.locator('section[data-link-state="linked"]').wait_for(timeout=WAIT * 1000)  # the page's own poll
    assert status.inner_text() == f"Профиль связан: {name}."
    page.remove_listener("framenavigated", navigated)
    assert navigations == []  # noticed by the page's script: neither the test nor the page reloaded it


def _ask_for_the_group_chat(teacher: Any, lms_url: str) -> str:
    """On Чаты: «Создать чат в Сферум» for the group; the page waits for the tap in MAX. Its address."""
    teacher.goto(f"{lms_url}/chats")
    teacher.get_by_role("link", name="Создать чат в Сферум").click()
    teacher.get_by_label("Название чата").fill(GROUP)
    teacher.get_by_label("Чат учебной группы").check()
    teacher.get_by_label("Учебная группа").select_option(label=GROUP)
    teacher.get_by_role("button", name="Создать чат в Сферум").click()
    teacher.wait_for_load_state()
    waiting = teacher.get_by_text(re.compile(r"Ждём, когда вы нажмёте в MAX кнопку «.+»\."))
    assert waiting.is_visible(), teacher.content()
    return str(teacher.url)


def _tap_the_chat_button(max_page: Any, played: str) -> None:
    """In MAX: the bot's latest message carries the chat button; tap it."""
    max_page.goto(played)
    buttons = max_page.locator('form[action$="/tap"] button[type="submit"]')
    assert buttons.count() >= 1, max_page.content()
    buttons.last.click()
    max_page.wait_for_load_state()
    assert max_page.get_by_role("status").inner_text() == "You tapped the chat button.", max_page.content()


def _in_chats(max_page: Any, played: str) -> str:
    """The «Your chats» section of the person's page in MAX, freshly loaded."""
    max_page.goto(played)
    return str(max_page.locator("h2:has-text('Your chats') + *").inner_text())


def _expel(admin: Any, lms_url: str) -> None:
    """As the administrator: Обучающиеся → «Изменить» on the student → status «Отчислен» → Сохранить."""
    admin.goto(f"{lms_url}/students?q={STUDENT.split()[0]}")
    row = admin.locator("tr", has_text=STUDENT)
    assert row.count() == 1, admin.content()
    row.get_by_role("link", name="Изменить").click()
    admin.get_by_label("Статус").select_option(label="Отчислен")
    admin.get_by_role("button", name="Сохранить").click()
    admin.wait_for_load_state()
    admin.goto(f"{lms_url}/students?q={STUDENT.split()[0]}")
    assert "Отчислен" in admin.locator("tr", has_text=STUDENT).inner_text()


def test_the_max_demo_story_in_a_browser(browser: Any, demo: Demo, shots: Path) -> None:
    student_max, student_id = _played_page(demo, "student")
    teacher_max, teacher_id = _played_page(demo, "teacher")
    admin, student, teacher, in_max = (_new_page(browser) for _ in range(4))
    login(admin, demo.lms_url, "admin")
    _grant_what_the_demo_lacks(admin, demo.lms_url)

    login(student, demo.lms_url, "student")
    _link_profile(student, in_max, demo.lms_url, student_max, "Алексей Кузнецов", shots / "max-demo-profile.png")
    login(teacher, demo.lms_url, "teacher")
    _link_profile(teacher, in_max, demo.lms_url, teacher_max, "Иван Петров", None)

    chat_page = _ask_for_the_group_chat(teacher, demo.lms_url)
    teacher.screenshot(path=str(shots / "max-demo-chat-awaiting.png"), full_page=True)
    chats_before = {chat["chat_id"] for chat in _state(demo)["chats"]}
    _tap_the_chat_button(in_max, teacher_max)
    (chat_id,) = {chat["chat_id"] for chat in _state(demo)["chats"]} - chats_before
    chat_title = next(chat["title"] for chat in _state(demo)["chats"] if chat["chat_id"] == chat_id)
    teacher.get_by_text("Чат создан в Сферуме.").wait_for(timeout=WAIT * 1000)  # the page refreshes itself
    assert teacher.url == chat_page

    # The student is added to the chat in MAX by the module's jobs.
    _until(lambda: _in_chats(in_max, student_max), lambda chats: chat_title in chats, "the student's chats in MAX")
    assert _members(demo, chat_id) >= {teacher_id, student_id}
    in_max.screenshot(path=str(shots / "max-demo-student-in-chat.png"), full_page=True)

    _expel(admin, demo.lms_url)
    _until(lambda: _in_chats(in_max, student_max), lambda chats: chat_title not in chats, "the student's chats")
    members = _members(demo, chat_id)
    assert student_id not in members
    assert teacher_id in members
