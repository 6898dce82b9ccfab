"""Bulk chat creation: every group of a unit or a year of study, filtered and re-derived on the server."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sferum_sandbox import DEFAULT_APP_ID, DEFAULT_APP_TOKEN, DEFAULT_SERVICE_TOKEN
from sqlalchemy import event, select

from hookspecs.types import HttpRequest, HttpResponse, Page, Person, PersonKind, Viewer
from sferum_plugin.account import Account
from sferum_plugin.models import SferumChat, SferumSyncRequest
from sferum_plugin.permissions import CHATS_CREATE_GROUP
from sferum_plugin.services import chats
from sferum_plugin.views import chats as chat_views
from tests._sferum import no_wait_access
from tests.plugin.fakes import FakeHost

SFERUM = no_wait_access()  # the VK page does not reach Sferum; MAX's would send chat buttons

ADMIN = Viewer(user_id=1, username="a", full_name="Админ", roles=frozenset({"admin"}))
TEACHER = Viewer(user_id=10, username="t", full_name="Преподаватель", roles=frozenset({"employee"}),
                 permissions=frozenset({CHATS_CREATE_GROUP}), employee_id=1)  # fmt: skip
IVT, PM, EMPTY = 5, 6, 7  # structural units


@pytest.fixture
def configured(host: FakeHost) -> FakeHost:
    """Two units with first- and second-year groups, a unit without groups, a group with neither unit nor year."""
    host.settings.installed.add("sferum")
    host.settings.stored["sferum"] = {
        "app_id": str(DEFAULT_APP_ID), "service_token": DEFAULT_SERVICE_TOKEN, "app_token": DEFAULT_APP_TOKEN,
        "api_base_url": "http://sferum.test", "id_base_url": "http://sferum.test", "web_url": "http://sferum.test",
    }  # fmt: skip
    directory = host.directory
    directory.group_titles = {11: "ИВТ-11", 21: "ИВТ-21", 12: "ПМ-11", 22: "ПМ-21", 30: "<b>Аспиранты</b>"}
    directory.group_units = {11: IVT, 21: IVT, 12: PM, 22: PM}
    directory.group_years = {11: 1, 21: 2, 12: 1, 22: 2}
    directory.unit_titles = {IVT: "Кафедра ИВТ", PM: "Кафедра ПМ", EMPTY: "<i>Кафедра без групп</i>"}
    directory.staff = {11: [1]}
    directory.persons = [Person(id=1, kind=PersonKind.EMPLOYEE, user_id=10, full_name="Иван Петров", unit_id=IVT)]
    return host


def _request(host: FakeHost, viewer: Viewer = ADMIN, method: str = "GET", **kwargs: object) -> HttpRequest:
    return HttpRequest(method=method, path="/", viewer=viewer, host=host, csrf_token="tok", **kwargs)  # type: ignore[arg-type]


def _page(host: FakeHost, **args: str) -> Page:
    page = chat_views.bulk_create(_request(host, args=args), sferum=SFERUM)
    assert isinstance(page, Page)
    return page


def _listed(page: Page) -> set[int]:
    """The groups the page lists (each without a chat has a checkbox)."""
    return {gid for gid in (11, 21, 12, 22, 30) if f'name="group_ids" value="{gid}"' in page.body_html}


def _post(host: FakeHost, **form: str) -> Page | HttpResponse:
    lists = {"group_ids": tuple(form.pop("group_ids").split(","))} if "group_ids" in form else {}
    return chat_views.bulk_create(_request(host, method="POST", form=form, form_lists=lists), sferum=SFERUM)


def _group_chats(host: FakeHost) -> dict[int | None, int]:
    with host.db.session() as session:
        return {target: pk for target, pk in session.execute(select(SferumChat.target_id, SferumChat.id))}


def test_the_page_filters_groups_by_unit_by_year_and_by_both(configured: FakeHost) -> None:
    everything = _page(configured)
    assert _listed(everything) == {11, 21, 12, 22, 30}
    assert "Создать чаты всех групп<" in everything.body_html
    assert _listed(_page(configured, unit=str(IVT))) == {11, 21}
    assert _listed(_page(configured, year="1")) == {11, 12}
    by_both = _page(configured, unit=str(PM), year="2")
    assert _listed(by_both) == {22}
    assert f'<option value="{PM}" selected>Кафедра ПМ</option>' in by_both.body_html
    assert '<option value="2" selected>2</option>' in by_both.body_html
    assert "Создать чаты всех групп, отобранных фильтром" in by_both.body_html
    assert _listed(_page(configured, unit=str(EMPTY))) == set()


def test_titles_of_groups_and_units_are_escaped(configured: FakeHost) -> None:
    html = _page(configured).body_html
    assert "&lt;b&gt;Аспиранты&lt;/b&gt;" in html
    assert "&lt;i&gt;Кафедра без групп&lt;/i&gt;" in html
    assert "<b>" not in html
    assert "<i>" not in html


def test_all_groups_of_a_unit_get_chats_and_the_progress_keeps_the_filter(configured: FakeHost) -> None:
    reply = _post(configured, scope="filter", unit=str(IVT))
    assert isinstance(reply, HttpResponse)
    assert reply.status == 303
    assert reply.headers["Location"] == f"/m/sferum/chats_bulk?unit={IVT}"
    made = _group_chats(configured)
    assert set(made) == {11, 21}
    with configured.db.session() as session:
        assert set(session.scalars(select(SferumChat.title))) == {"ИВТ-11", "ИВТ-21"}
        assert set(session.scalars(select(SferumChat.state))) == {"creating"}
        assert set(session.scalars(select(SferumSyncRequest.scope))) == {f"chat:{pk}" for pk in made.values()}
    progress = _page(configured, unit=str(IVT))
    assert "Создано: 0 / 2" in progress.body_html
    assert "без чата: 0" in progress.body_html
    assert "отобранных фильтром" not in progress.body_html  # nothing left to create


def test_all_groups_of_a_year_across_units(configured: FakeHost) -> None:
    reply = _post(configured, scope="filter", year="2")
    assert isinstance(reply, HttpResponse)
    assert reply.headers["Location"] == "/m/sferum/chats_bulk?year=2"
    assert set(_group_chats(configured)) == {21, 22}


def test_posting_again_or_an_overlapping_filter_creates_no_duplicate(configured: FakeHost) -> None:
    _post(configured, scope="filter", unit=str(IVT))
    first = _group_chats(configured)
    _post(configured, scope="filter", unit=str(IVT))
    assert _group_chats(configured) == first
    _post(configured, scope="filter", year="1")  # ИВТ-11 has its chat; ПМ-11 gets one
    again = _group_chats(configured)
    assert set(again) == {11, 21, 12}
    assert {gid: again[gid] for gid in first} == first
    with configured.db.session() as session:
        assert len(session.scalars(select(SferumChat.id)).all()) == 3


def test_ticks_and_prefix_act_only_on_the_groups_the_filter_lists(configured: FakeHost) -> None:
    refused = _post(configured, unit=str(PM), group_ids="11,12,abc,²")  # a tick that is no id refuses the form
    assert isinstance(refused, Page)
    assert refused.status == 400
    assert _group_chats(configured) == {}
    _post(configured, unit=str(PM), group_ids="11,12,999")  # 11 is not a ПМ group, 999 is not a group
    assert set(_group_chats(configured)) == {12}
    reply = _post(configured, unit=str(PM), prefix="ивт")
    assert isinstance(reply, HttpResponse)
    assert set(_group_chats(configured)) == {12}
    _post(configured, prefix="ивт")
    assert set(_group_chats(configured)) == {11, 12, 21}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"unit": "999"}, "Структурное подразделение не найдено."),
        ({"unit": "abc"}, "Структурное подразделение не найдено."),
        ({"unit": "-5"}, "Структурное подразделение не найдено."),
        ({"unit": "9" * 5000}, "Структурное подразделение не найдено."),
        ({"year": "7"}, "Учебных групп такого курса нет."),
        ({"year": "²"}, "Учебных групп такого курса нет."),
        ({"year": "1; DROP TABLE"}, "Учебных групп такого курса нет."),
    ],
)
def test_a_forged_or_garbled_filter_is_refused_with_a_message(
    configured: FakeHost, args: dict[str, str], message: str
) -> None:
    page = _page(configured, **args)
    assert page.status == 400
    assert message in page.body_html
    assert _listed(page) == set()
    refused = _post(configured, scope="filter", **args)
    assert isinstance(refused, Page)
    assert refused.status == 400
    assert message in refused.body_html
    assert _group_chats(configured) == {}


def test_all_groups_of_a_unit_without_groups_creates_nothing(configured: FakeHost) -> None:
    reply = _post(configured, scope="filter", unit=str(EMPTY))
    assert isinstance(reply, HttpResponse)
    assert _group_chats(configured) == {}


@contextmanager
def _statements(host: FakeHost) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(*args: object) -> None:
        seen.append(str(args[2]))

    event.listen(host.db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(host.db.engine, "before_cursor_execute", record)


def test_recording_chats_costs_the_same_statements_for_3_groups_and_for_60(configured: FakeHost) -> None:
    configured.directory.group_titles = {gid: f"Г-{gid}" for gid in range(100, 200)}
    with _statements(configured) as few:
        made = chats.request_group_chats(
            configured, ADMIN, account=Account("vk", DEFAULT_APP_ID), group_ids=[100, 101, 102]
        )
    assert [r.existed for r in made] == [False, False, False]
    with _statements(configured) as many:
        made = chats.request_group_chats(
            configured, ADMIN, account=Account("vk", DEFAULT_APP_ID), group_ids=list(range(100, 160))
        )
    assert [r.existed for r in made[:3]] == [True, True, True]
    assert not any(r.existed for r in made[3:])
    assert len(many) == len(few)
    assert len({r.chat_pk for r in made}) == 60


def test_without_the_manage_right_every_group_must_be_the_teachers_own(configured: FakeHost) -> None:
    assert [r.existed for r in chats.request_group_chats(configured, TEACHER, account=Account("vk", DEFAULT_APP_ID),
                                                         group_ids=[11])] == [False]  # fmt: skip
    with pytest.raises(chats.ChatRefused):
        chats.request_group_chats(configured, TEACHER, account=Account("vk", DEFAULT_APP_ID), group_ids=[21, 11, 12])
    student = Viewer(user_id=20, username="s", full_name="Студент", student_id=2)
    with pytest.raises(chats.ChatRefused):
        chats.request_group_chats(configured, student, account=Account("vk", DEFAULT_APP_ID), group_ids=[21])
    assert set(_group_chats(configured)) == {11}  # nothing written for a refused request


def test_a_chat_recorded_concurrently_is_returned_not_duplicated(
    configured: FakeHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    (winner,) = chats.request_group_chats(configured, ADMIN, account=Account("vk", DEFAULT_APP_ID), group_ids=[11])
    # Another request records ИВТ-11's chat between our SELECT and our INSERT: the SELECT saw nothing.
    monkeypatch.setattr(chats, "_group_chat_pks", lambda *args: {})
    made = chats.request_group_chats(configured, ADMIN, account=Account("vk", DEFAULT_APP_ID), group_ids=[11, 21])
    assert made[0] == chats.ChatRequest(winner.chat_pk, existed=True)
    assert not made[1].existed
    assert set(_group_chats(configured)) == {11, 21}
    with configured.db.session() as session:
        assert f"chat:{made[1].chat_pk}" in set(session.scalars(select(SferumSyncRequest.scope)))
