"""``SFERUM_PLATFORM=max make demo``: the demo on the MAX sandbox, run as a real process from scratch.

The MAX sandbox and the LMS answer; the module is set to MAX against the sandbox (events by long polling) and its
connection check gets the bot with ``GET /me``; every person of the demo organisation has a MAX user in the sandbox
and the banner names the pages that play the demo student and teacher; on the demo, profiles linked by Start in the
sandbox, a group chat created by a tap on the bot's chat button and an expulsion reach MAX by themselves; no process
carries the bot's token on its command line; a killed MAX sandbox comes back with its people; Ctrl-C stops
everything; and ``make demo`` without the variable on the same instance folder is the VK demo again, with MAX's
settings kept. (How the demo is run: ``tests/demo/running.py``.)
"""

from __future__ import annotations

import html
import os
import re
import signal
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import run_demo
from sferum_sandbox.max import DEFAULT_BOT_NAME, DEFAULT_BOT_TITLE

from tests.demo.running import WAIT, Demo, command_lines, get, read_proc, running_demo, started_pid

pytestmark = pytest.mark.slow  # migrations, demo data and two servers: tens of seconds on a busy machine

TOKEN = run_demo.DEMO_MAX_BOT_TOKEN
T = TypeVar("T")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    with running_demo(tmp_path_factory.mktemp("max-demo"), "max") as demo:
        yield demo


def _csrf(page: str) -> str:
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, "the page carries a CSRF token"
    return token[1]


@contextmanager
def _signed_in(lms_url: str, username: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=lms_url, timeout=30.0) as client:
        token = _csrf(client.get("/login").text)
        signed_in = client.post("/login", data={"csrf_token": token, "username": username, "password": "demo"})
        assert signed_in.status_code == 302, signed_in.text
        yield client


def _signed_in_admin(lms_url: str) -> AbstractContextManager[httpx.Client]:
    return _signed_in(lms_url, "admin")


def _played_user_id(demo: Demo, account: str) -> int:
    """The MAX user id of the page the banner names for the demo account ``account``."""
    line = re.search(rf"MAX user «{account}»:\s+\S+/_sandbox/as/(\d+)\s", demo.out.text())
    assert line, demo.out.text()
    return int(line[1])


def _selected(page: str, name: str) -> str:
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert select, f"no select named {name}"
    chosen: list[str] = re.findall(r'<option value="([^"]*)"[^>]*\bselected\b', select[1])
    assert len(chosen) == 1, select[0]
    return chosen[0]


def _input_value(page: str, name: str) -> str:
    found = re.search(rf'<input[^>]*name="{name}"[^>]*\bvalue="([^"]*)"', page, re.S)
    assert found, f"no input named {name}"
    return found[1]


def _lms_people(instance: Path) -> list[tuple[str, str]]:
    """(record number, full name) of every student and employee in the demo's LMS database."""
    with sqlite3.connect(instance / "lms.sqlite3") as database:
        return [
            *database.execute("SELECT record_number, full_name FROM employees"),
            *database.execute("SELECT record_number, full_name FROM students"),
        ]


def test_the_lms_and_the_max_sandbox_answer_and_everyone_has_a_max_user(demo: Demo) -> None:
    assert get(f"{demo.lms_url}/login").status_code == 200
    state = get(f"{demo.sandbox_url}/_sandbox/state").json()
    assert state["bot"]["name"] == DEFAULT_BOT_NAME
    names = {(user["last_name"], user["first_name"]) for user in state["users"]}
    people = _lms_people(demo.instance)
    assert len(people) == 74
    missing = [name for _number, name in people if tuple(name.split()[:2]) not in names]
    assert not missing
    assert "MAX sandbox:" in demo.out.text()
    assert "Sferum sandbox:" not in demo.out.text()


@pytest.mark.parametrize(("account", "name"), [("student", "Алексей Кузнецов"), ("teacher", "Иван Петров")])
def test_the_banner_names_the_pages_that_play_the_demo_student_and_teacher_in_max(
    demo: Demo, account: str, name: str
) -> None:
    line = re.search(rf"MAX user «{account}»:\s+(\S+)\s+\(([^)]*)\)", demo.out.text())
    assert line, demo.out.text()
    url, shown = line[1], line[2]
    assert shown == name
    user_id = int(url.rsplit("/", 1)[1])
    assert url == f"{demo.sandbox_url}/_sandbox/as/{user_id}"
    users = get(f"{demo.sandbox_url}/_sandbox/state").json()["users"]
    user = next(user for user in users if user["user_id"] == user_id)
    assert f"{user['first_name']} {user['last_name']}" == name
    page = get(url)
    assert page.status_code == 200
    assert user["last_name"] in page.text


def test_the_module_is_set_to_max_against_the_sandbox_and_its_connection_check_gets_the_bot(demo: Demo) -> None:
    with _signed_in_admin(demo.lms_url) as admin:
        settings = admin.get("/admin/modules/sferum/settings").text
        assert _selected(settings, "platform") == "max"
        assert _input_value(settings, "max_api_url") == demo.sandbox_url
        assert _selected(settings, "max_updates") == "polling"
        assert _input_value(settings, "max_bot_token") == ""  # stored, never shown back
        form = re.search(r'action="/m/sferum/settings/check".*?name="csrf_token" value="([^"]+)"', settings, re.S)
        assert form, "the settings page offers «Проверить подключение»"
        before = get(f"{demo.sandbox_url}/_sandbox/requests").json().get("GET /me", 0)
        check = admin.post("/m/sferum/settings/check", data={"csrf_token": form[1]})
    assert check.status_code == 200, check.text
    assert 'data-credential="max_bot_token"' in check.text
    assert f"Токен принят: бот «{DEFAULT_BOT_TITLE}» (@{DEFAULT_BOT_NAME})." in check.text
    assert '<tr class="sferum-ok" data-credential="max_events">' in check.text  # long polling, no subscription
    assert demo.sandbox_url in check.text
    assert TOKEN not in settings + check.text
    assert get(f"{demo.sandbox_url}/_sandbox/requests").json()["GET /me"] == before + 1


def _link_max_profile(demo: Demo, person: httpx.Client, account: str) -> dict[str, Any]:
    """«Создать учебный профиль Сферум» in the ЛК, then Start pressed on its deep link by the person's MAX user in the
    sandbox; the status the ЛК's page polls, once it is no longer pending."""
    started = person.post("/m/sferum/profile/link", data={"csrf_token": _csrf(person.get("/").text)})
    assert started.status_code == 200, started.text
    deep_link = re.search(r'href="(https://max\.ru/[^"]+)"', started.text)
    status_url = re.search(r'data-link-status-url="([^"]+)"', started.text)
    assert deep_link, started.text
    assert status_url, started.text
    pressed = httpx.post(
        f"{demo.sandbox_url}/_sandbox/control/open_deep_link",
        json={"user_id": _played_user_id(demo, account), "link": html.unescape(deep_link[1])},
        timeout=10,
    )
    assert pressed.json() == {"ok": True, "result": None}
    return _until(lambda: person.get(html.unescape(status_url[1])).json(), lambda status: status["state"] != "pending")


def _until(read: Callable[[], T], done: Callable[[T], bool]) -> T:
    """Read until ``done`` (the module's jobs run every few seconds); fail after :data:`WAIT`, a bound."""
    deadline = time.monotonic() + WAIT
    while not done(value := read()):
        assert time.monotonic() < deadline, value
        time.sleep(0.5)
    return value


def _chat_member_ids(demo: Demo) -> dict[int, set[int]]:
    chats = get(f"{demo.sandbox_url}/_sandbox/state").json()["chats"]
    return {chat["chat_id"]: {member["user_id"] for member in chat["members"]} for chat in chats}


def _pending_chat_button(demo: Demo, user_id: int) -> tuple[str, int]:
    """The message id and button uuid of the chat button the bot last sent ``user_id``."""
    state = get(f"{demo.sandbox_url}/_sandbox/state").json()
    dialog = next(user["dialog_id"] for user in state["users"] if user["user_id"] == user_id)
    sent = [message for message in state["messages"] if message["chat_id"] == dialog and message["buttons"]]
    assert sent, state["messages"]
    button = next(button for row in sent[-1]["buttons"] for button in row if button["type"] == "chat")
    return sent[-1]["mid"], int(button["uuid"])


def test_on_the_max_demo_a_group_chat_follows_the_records_with_no_command_run(demo: Demo) -> None:
    """The issue's story, over HTTP: the student and the teacher link their MAX profiles (Start pressed in the
    sandbox; the module's events come by long polling, without a public address), the teacher asks for the group's
    chat and taps the bot's chat button, the student is added; the student is expelled and leaves the chat."""
    student_id, teacher_id = _played_user_id(demo, "student"), _played_user_id(demo, "teacher")
    with _signed_in(demo.lms_url, "student") as student:
        assert _link_max_profile(demo, student, "student") == {
            "state": "linked", "done": True, "text": "Профиль связан: Алексей Кузнецов.",
        }  # fmt: skip
    with _signed_in(demo.lms_url, "teacher") as teacher:
        assert _link_max_profile(demo, teacher, "teacher")["state"] == "linked"
        form = teacher.get("/m/sferum/chats/new").text
        group_id = re.search(r'<option value="(\d+)">ИВТ-21</option>', form)
        assert group_id, form
        asked = teacher.post(
            "/m/sferum/chats/new",
            data={"csrf_token": _csrf(form), "kind": "group", "group_id": group_id[1], "title": "ИВТ-21"},
        )
        assert asked.status_code == 303, asked.text
    message_id, button = _pending_chat_button(demo, teacher_id)
    tapped = httpx.post(
        f"{demo.sandbox_url}/_sandbox/control/tap_chat_button",
        json={"user_id": teacher_id, "message_id": message_id, "button_uuid": button},
        timeout=10,
    ).json()
    chat_id = tapped["result"]
    assert _until(lambda: _chat_member_ids(demo)[chat_id], lambda members: student_id in members) >= {teacher_id}

    with sqlite3.connect(demo.instance / "lms.sqlite3") as database:
        person, group = database.execute(
            "SELECT id, group_id FROM students WHERE record_number = 'S-ИВТ-21-01'"
        ).fetchone()
    with _signed_in_admin(demo.lms_url) as admin:
        edit = admin.get(f"/students/{person}/edit").text
        expelled = admin.post(
            f"/students/{person}/edit", data={"csrf_token": _csrf(edit), "status": "expelled", "group": str(group)}
        )
        assert expelled.status_code == 302, expelled.text
    assert teacher_id in _until(lambda: _chat_member_ids(demo)[chat_id], lambda members: student_id not in members)
    assert get(f"{demo.sandbox_url}/_sandbox/requests").json()["GET /updates"] >= 1


def test_no_command_line_of_the_max_demo_carries_the_bot_token_and_nothing_prints_it(demo: Demo) -> None:
    live, recorded = command_lines(demo)
    every = [*live.values(), *recorded.values()]
    assert any("sferum-sandbox max " in line for line in live.values()), live
    assert any("lms_host run" in line for line in live.values()), live
    assert any("modules configure sferum" in line for line in recorded.values()), recorded
    assert not [line for line in every if TOKEN in line]
    assert TOKEN not in demo.out.text()
    # The sandbox is given the token in its environment; the LMS reads it from its database.
    sandbox_environment = read_proc(Path(f"/proc/{started_pid(demo.out, 'sandbox-max')}/environ"))
    assert f"SFERUM_SANDBOX_BOT_TOKEN={TOKEN}" in sandbox_environment
    lms_environment = read_proc(Path(f"/proc/{started_pid(demo.out, 'lms')}/environ"))
    assert lms_environment
    assert TOKEN not in lms_environment


def test_a_killed_max_sandbox_comes_back_with_its_people_and_ctrl_c_stops_everything(demo: Demo) -> None:
    users_before = get(f"{demo.sandbox_url}/_sandbox/state").json()["users"]
    first = started_pid(demo.out, "sandbox-max")
    mark = len(demo.out.text())
    os.kill(first, signal.SIGKILL)
    died = demo.out.wait_for(
        f"==> sandbox-max (pid {first}) died: killed by signal SIGKILL. Its last lines:", WAIT, mark
    )
    second = started_pid(demo.out, "sandbox-max", died)
    assert second != first
    demo.out.wait_for(f"==> sandbox-max (pid {second}) answers again", WAIT, died)
    assert get(f"{demo.sandbox_url}/_sandbox/state").json()["users"] == users_before
    assert get(f"{demo.lms_url}/login").status_code == 200

    demo.process.send_signal(signal.SIGINT)
    assert demo.process.wait(WAIT) == 0
    assert "Stopping ..." in demo.out.text()
    assert not [pid for pid in (second, started_pid(demo.out, "lms")) if Path(f"/proc/{pid}").exists()]


def test_make_demo_without_the_variable_is_the_vk_demo_again_and_keeps_the_max_settings(
    demo: Demo, tmp_path_factory: pytest.TempPathFactory
) -> None:
    if demo.process.poll() is None:  # run on its own, this test stops the MAX demo first
        demo.process.send_signal(signal.SIGINT)
        assert demo.process.wait(WAIT) == 0
    with running_demo(tmp_path_factory.mktemp("vk-demo"), instance=demo.instance) as vk:
        assert "Sferum sandbox:" in vk.out.text()
        assert "MAX user" not in vk.out.text()
        assert any("sferum-sandbox vk " in line for line in command_lines(vk)[0].values())
        with _signed_in_admin(vk.lms_url) as admin:
            settings = admin.get("/admin/modules/sferum/settings").text
        assert _selected(settings, "platform") == "vk"
        assert _input_value(settings, "api_base_url") == vk.sandbox_url
        assert _input_value(settings, "max_api_url") == demo.sandbox_url  # MAX's settings are kept for switching back
        assert re.search(r'name="max_bot_token"[^>]*placeholder="••••', settings)  # and its token is still stored
        vk.process.send_signal(signal.SIGINT)
        assert vk.process.wait(WAIT) == 0
