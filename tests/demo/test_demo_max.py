"""``scripts/demo_max.py``: a MAX user in the MAX sandbox for every person of the demo organisation, once, and the
banner's lines naming the pages that play the demo student and teacher (against a sandbox served in-process); and
docs/max.md names what the MAX demo and the module really use."""

from __future__ import annotations

from collections.abc import Iterator

import demo_max
import httpx
import pytest
import run_demo
from lms_host.demo import demo_people
from sferum_sandbox.max import DEFAULT_BOT_NAME, TOKEN_ENVIRONMENT_VARIABLE, MaxSandbox, RunningMaxSandbox, serve

from sferum_plugin.views import max_updates
from tests.demo.conftest import ROOT

PEOPLE = demo_people()


@pytest.fixture
def sandbox() -> Iterator[RunningMaxSandbox]:
    with serve(MaxSandbox(rate_limit_per_second=None), deliver_webhooks=False) as running:
        yield running


def _users(sandbox: RunningMaxSandbox) -> list[dict[str, object]]:
    return list(httpx.get(f"{sandbox.url}/_sandbox/state", timeout=10).json()["users"])


def test_the_demo_people_are_the_demo_organisation_with_stable_distinct_handles() -> None:
    assert len(PEOPLE) == 8 + 3 * 22
    assert {person.username for person in PEOPLE} >= {"teacher", "employee", "student"}
    assert len({person.handle for person in PEOPLE}) == len(PEOPLE)
    student = next(person for person in PEOPLE if person.username == "student")
    assert (student.record_number, student.handle) == ("S-ИВТ-21-01", "s_ivt_21_01")
    assert (student.surname, student.first_name, student.place) == ("Кузнецов", "Алексей", "ИВТ-21")


def test_every_person_gets_a_max_user_once_even_when_seeded_again(sandbox: RunningMaxSandbox) -> None:
    before = _users(sandbox)
    first = demo_max.seed_max_users(sandbox.url, PEOPLE)
    after = _users(sandbox)
    assert len(after) == len(before) + len(PEOPLE)
    assert set(first) == {person.record_number for person in PEOPLE}
    by_id = {user["user_id"]: user for user in after}
    for person in PEOPLE:
        user = by_id[first[person.record_number]]
        assert (user["first_name"], user["last_name"], user["username"]) == (
            person.first_name, person.surname, person.handle,
        )  # fmt: skip

    again = demo_max.seed_max_users(sandbox.url, PEOPLE)
    assert again == first
    assert _users(sandbox) == after


def test_the_banner_names_the_max_pages_of_the_demo_student_and_teacher(sandbox: RunningMaxSandbox) -> None:
    ids = demo_max.seed_max_users(sandbox.url, PEOPLE)
    lines = demo_max.banner_lines(sandbox.url, PEOPLE, ids)
    student = ids["S-ИВТ-21-01"]
    teacher = ids["E-001"]
    assert lines == [
        f"MAX user «student»:    {sandbox.url}/_sandbox/as/{student}  (Алексей Кузнецов)",
        f"MAX user «teacher»:    {sandbox.url}/_sandbox/as/{teacher}  (Иван Петров)",
    ]
    page = httpx.get(f"{sandbox.url}/_sandbox/as/{teacher}", timeout=10)
    assert page.status_code == 200
    assert "Петров" in page.text


def test_docs_max_md_names_what_the_max_demo_and_the_module_really_use() -> None:
    doc = (ROOT / "docs" / "max.md").read_text(encoding="utf-8")
    demo = run_demo.PLATFORMS["max"]
    assert "SFERUM_PLATFORM=max make demo" in doc
    assert f"examples/host_app/instance/{demo.state_file}" in doc
    assert demo.module_settings("http://127.0.0.1:8001")["max_updates"] == "polling"
    assert "events by **long polling**" in doc
    assert f"`@{DEFAULT_BOT_NAME}`" in doc
    assert f"`{TOKEN_ENVIRONMENT_VARIABLE}`" in doc
    (webhook,) = (route for route in max_updates.ROUTES if route.endpoint == "max_updates")
    assert f"https://<ЛК address>/m/sferum/{webhook.rule}" in doc
    for page in ("README.md", "docs/administration.md"):
        assert "max.md" in (ROOT / page).read_text(encoding="utf-8"), f"{page} does not link docs/max.md"
