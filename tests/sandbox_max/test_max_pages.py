"""The pages that play a MAX user: open a deep link and press Start, tap a chat button, leave a chat — plain HTML
forms that POST and redirect, under a strict Content-Security-Policy, with every value escaped."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from sferum_sandbox.max import MaxSandbox, RunningMaxSandbox

from tests.sandbox_max.maxbot import chat_button, keyboard, link_button, poll, send, update_types


@pytest.fixture
def browser(running: RunningMaxSandbox) -> Iterator[httpx.Client]:
    """A same-origin browser: it follows redirects and sends ``Origin``/``Sec-Fetch-Site`` on form posts."""
    origin = running.url
    headers = {"Origin": origin, "Sec-Fetch-Site": "same-origin"}
    with httpx.Client(base_url=running.url, follow_redirects=True, headers=headers) as client:
        yield client


def _forms(page: str, action: str) -> list[dict[str, str]]:
    """The hidden fields of each form posting to ``action``."""
    forms = re.findall(rf'<form[^>]*action="{re.escape(action)}"[^>]*>(.*?)</form>', page, re.S)
    return [dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form)) for form in forms]


def test_the_overview_lists_people_chats_and_requests(
    browser: httpx.Client, api: httpx.Client, sandbox: MaxSandbox, people: list[int]
) -> None:
    sandbox.seed_chat("ИВТ-21", owner_id=people[0], member_ids=[people[1]])
    api.get("/me")
    page = browser.get("/_sandbox/")
    assert page.status_code == 200
    for text in ("Анна Иванова", "ИВТ-21", "GET /me", "https://max.ru/sferum_sandbox_bot", f"/_sandbox/as/{people[0]}"):
        assert text in page.text
    assert browser.get("/_sandbox/as", params={"user_id": people[1]}).url.path == f"/_sandbox/as/{people[1]}"


def test_pages_run_no_scripts_under_a_strict_policy(browser: httpx.Client, people: list[int]) -> None:
    for path in ("/_sandbox/", f"/_sandbox/as/{people[0]}"):
        page = browser.get(path)
        policy = page.headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy
        assert "style-src 'self'" in policy
        assert "form-action 'self'" in policy
        assert "frame-ancestors 'none'" in policy
        assert "<script" not in page.text
        assert "style=" not in page.text
        assert "<style" not in page.text
    stylesheet = browser.get("/_sandbox/style.css")
    assert stylesheet.headers["Content-Type"].startswith("text/css")


def test_a_user_opens_a_deep_link_and_presses_start(
    browser: httpx.Client, api: httpx.Client, sandbox: MaxSandbox, people: list[int]
) -> None:
    page = browser.post(f"/_sandbox/as/{people[0]}/start", data={"link": sandbox.deep_link("lk-token-9")})
    assert page.status_code == 200
    assert page.history[0].status_code == 303
    assert "bot_started" in page.text
    (started,) = poll(api)["updates"]
    assert (started["user"]["user_id"], started["payload"]) == (people[0], "lk-token-9")


def test_a_link_to_another_bot_shows_an_error(browser: httpx.Client, api: httpx.Client, people: list[int]) -> None:
    page = browser.post(f"/_sandbox/as/{people[0]}/start", data={"link": "https://max.ru/other_bot?start=x"})
    assert page.status_code == 400
    assert "another bot" in page.text
    assert poll(api)["updates"] == []


def test_a_user_taps_the_chat_button_then_leaves_the_chat(
    browser: httpx.Client, api: httpx.Client, sandbox: MaxSandbox, people: list[int]
) -> None:
    teacher = people[0]
    sandbox.press_start(teacher)
    attachments = [keyboard([chat_button("ИВТ-21 — чат группы", text="Создать чат «ИВТ-21»")], [link_button()])]
    assert send(api, user_id=teacher, text="Создайте чат группы", attachments=attachments).status_code == 200
    page = browser.get(f"/_sandbox/as/{teacher}").text
    assert "Создайте чат группы" in page
    assert 'href="https://lk.example.edu/sferum"' in page
    (tap,) = _forms(page, f"/_sandbox/as/{teacher}/tap")
    page = browser.post(f"/_sandbox/as/{teacher}/tap", data=tap).text
    assert "opens «ИВТ-21 — чат группы»" in page
    (chat,) = sandbox.state()["chats"]
    (leave,) = _forms(page, f"/_sandbox/as/{teacher}/leave")
    assert leave == {"chat_id": str(chat["chat_id"])}
    page = browser.post(f"/_sandbox/as/{teacher}/leave", data=leave).text
    assert "You are in no group chat." in page
    assert update_types(poll(api)) == ["bot_started", "message_chat_created", "user_removed"]


def test_values_are_escaped(browser: httpx.Client, api: httpx.Client, sandbox: MaxSandbox) -> None:
    evil = sandbox.add_user("<script>alert(1)</script>", '"><u>')
    sandbox.press_start(evil)
    buttons = [chat_button('<img src=x onerror="alert(1)">'), link_button("javascript:alert(1)", "<i>js</i>")]
    send(api, user_id=evil, text="<u>hi</u>", attachments=[keyboard(buttons)])
    for path in ("/_sandbox/", f"/_sandbox/as/{evil}"):
        page = browser.get(path).text
        assert "<script>" not in page
        assert "<img" not in page
        assert "<u>" not in page
        assert "<i>js" not in page
        assert 'href="javascript:' not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in browser.get(f"/_sandbox/as/{evil}").text


def test_cross_site_form_posts_are_refused(
    running: RunningMaxSandbox, api: httpx.Client, sandbox: MaxSandbox, people: list[int]
) -> None:
    link = sandbox.deep_link("forged")
    with httpx.Client(base_url=running.url) as client:
        for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
            reply = client.post(f"/_sandbox/as/{people[0]}/start", data={"link": link}, headers=headers)
            assert reply.status_code == 403
    assert poll(api)["updates"] == []


def test_unknown_users_and_actions(browser: httpx.Client, people: list[int]) -> None:
    assert browser.get("/_sandbox/as/1").status_code == 404
    assert browser.get("/_sandbox/as", params={"user_id": "x"}).status_code == 404
    assert browser.post(f"/_sandbox/as/{people[0]}/fly", data={}).status_code == 404
    assert browser.post(f"/_sandbox/as/{people[0]}/tap", data={"message_id": "mid.x", "uuid": "1"}).status_code == 400
    assert browser.post(f"/_sandbox/as/{people[0]}/leave", data={"chat_id": "abc"}).status_code == 400
