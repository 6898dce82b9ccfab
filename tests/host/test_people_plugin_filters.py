"""Plugin filters on Обучающиеся and Сотрудники: rendered, applied before pagination, posted with actions, and
``Directory.list_people``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import pytest
from flask.testing import FlaskClient
from lms_host import Cabinet
from lms_host.models import Student

from hookspecs import hookimpl
from hookspecs.types import DirectoryFilter, Person, PersonKind, Viewer
from tests.host.conftest import login, post
from tests.host.fake_plugin import FakePlugin
from tests.host.people import Seeded


class FilteringPlugin(FakePlugin):
    """The fake module with a filter «Буква» that keeps people whose name starts with the chosen letter."""

    @hookimpl
    def lms_directory_filters(self, section: str, viewer: Viewer, host: Any) -> Sequence[DirectoryFilter] | None:
        self.calls["filters"].append(section)
        return [DirectoryFilter(name="fake_letter", label="Буква", choices=(("Я", "На Я"), ("А", "На А")))]

    @hookimpl
    def lms_filter_people(
        self, section: str, name: str, value: str, people: Sequence[Person], host: Any
    ) -> Sequence[int] | None:
        if name != "fake_letter":
            return None
        self.calls["filter_people"].append((section, value, len(people)))
        return [person.id for person in people if person.full_name.startswith(value)]


@pytest.fixture
def fake_plugin() -> FakePlugin:
    return FilteringPlugin()


def _install(client: FlaskClient) -> None:
    admin = client.application.test_client()
    login(admin, "admin")
    post(admin, "/admin/modules/fake/install")


def _names(page: str) -> list[str]:
    return re.findall(r'name="ids" value="\d+" aria-label="([^"]+)"', page)


def test_plugin_filter_is_rendered_and_applied_before_pagination(
    client: FlaskClient, cabinet: Cabinet, seeded: Seeded, fake_plugin: FakePlugin
) -> None:
    with cabinet.db.session() as session:
        session.add_all(
            Student(record_number=f"P-{index}", full_name=f"Яковлев {index:03d}", email="", group_id=seeded.group_id)
            for index in range(60)
        )
        session.add(Student(record_number="P-x", full_name="Ярцев", email="", group_id=seeded.other_group_id))
    _install(client)
    login(client, "employee")
    page = client.get("/students").get_data(as_text=True)
    assert '<select name="fake_letter" aria-label="Буква">' in page
    assert "Найдено: 65" in page
    assert fake_plugin.calls["filter_people"] == []  # no plugin filter chosen: nothing to ask

    page = client.get("/students?fake_letter=Я").get_data(as_text=True)
    assert "Найдено: 61" in page
    assert len(_names(page)) == 50
    assert '<option value="Я" selected>' in page
    assert "fake_letter=%D0%AF" in page  # the pager keeps the filter
    second = client.get("/students?fake_letter=Я&page=2").get_data(as_text=True)
    assert _names(second)[-1] == "Ярцев"
    assert len(_names(second)) == 11

    page = client.get(f"/students?fake_letter=Я&group={seeded.other_group_id}").get_data(as_text=True)
    assert _names(page) == ["Ярцев"]
    assert fake_plugin.calls["filter_people"][-1] == ("students", "Я", 3)  # host filters applied first, one call
    form = page[page.index('<form id="selection-form"') :]
    assert 'name="filter.fake_letter" value="Я"' in form

    assert "Найдено: 65" in client.get("/students?fake_letter=Z").get_data(as_text=True)  # not a choice: ignored


def test_employees_list_has_the_plugin_filter_too(client: FlaskClient, seeded: Seeded, fake_plugin: FakePlugin) -> None:
    _install(client)
    login(client, "employee")
    page = client.get("/employees?fake_letter=А").get_data(as_text=True)
    assert fake_plugin.calls["filters"][-1] == "employees"
    everyone = _names(client.get("/employees").get_data(as_text=True))
    assert _names(page) == [name for name in everyone if name.startswith("А")]
    assert len(_names(page)) < len(everyone)


def test_list_people_returns_every_page_for_the_lists_own_filters(cabinet: Cabinet, seeded: Seeded) -> None:
    with cabinet.db.session() as session:
        session.add_all(
            Student(record_number=f"P-{index}", full_name=f"Яковлев {index:03d}", email="", group_id=seeded.group_id)
            for index in range(60)
        )
    directory = cabinet.host.directory
    everyone = directory.list_people(PersonKind.STUDENT, {})
    assert len(everyone) == 64
    assert [p.full_name for p in everyone] == sorted(p.full_name for p in everyone)
    group = directory.list_people(PersonKind.STUDENT, {"group": str(seeded.other_group_id), "status": "expelled"})
    assert [p.full_name for p in group] == ["Волкова Екатерина Юрьевна"]
    assert [p.full_name for p in directory.list_people(PersonKind.STUDENT, {"q": "андреева", "other": "x"})] == [
        "Андреева Мария Олеговна"
    ]
    unit = directory.list_people(PersonKind.EMPLOYEE, {"unit": str(seeded.unit_id)})
    assert [p.full_name for p in unit] == ["Петров Иван Сергеевич"]
