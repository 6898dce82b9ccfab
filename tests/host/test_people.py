"""Обучающиеся and Сотрудники: filters, the «Действия» component, edits and the notifications they send."""

from __future__ import annotations

import logging
import re

import pytest
from flask.testing import FlaskClient
from lms_host import Cabinet
from lms_host.models import Student

from hookspecs.types import MembershipChange, PersonKind, PersonStatus, PersonStatusChange
from tests.host.conftest import login, post
from tests.host.fake_plugin import FakePlugin
from tests.host.people import Seeded


def _install(client: FlaskClient) -> None:
    admin = client.application.test_client()
    login(admin, "admin")
    post(admin, "/admin/modules/fake/install")


def _names(page: str) -> list[str]:
    return re.findall(r'name="ids" value="\d+" aria-label="([^"]+)"', page)


def test_students_are_filtered_by_name_group_and_status(client: FlaskClient, seeded: Seeded) -> None:
    login(client, "employee")
    assert len(_names(client.get("/students").get_data(as_text=True))) == 4
    assert _names(client.get("/students?q=АНДРЕЕВА").get_data(as_text=True)) == ["Андреева Мария Олеговна"]
    assert _names(client.get("/students?q=KUZNETSOV@").get_data(as_text=True)) == ["Кузнецов Алексей Игоревич"]
    page = client.get(f"/students?group={seeded.other_group_id}").get_data(as_text=True)
    assert _names(page) == ["Борисов Денис Андреевич", "Волкова Екатерина Юрьевна"]
    page = client.get(f"/students?group={seeded.other_group_id}&status=expelled").get_data(as_text=True)
    assert _names(page) == ["Волкова Екатерина Юрьевна"]
    assert _names(client.get("/students?q=%25").get_data(as_text=True)) == []


def test_employees_are_filtered_by_unit(client: FlaskClient, seeded: Seeded) -> None:
    login(client, "employee")
    page = client.get(f"/employees?unit={seeded.unit_id}").get_data(as_text=True)
    assert _names(page) == ["Петров Иван Сергеевич"]


def test_students_list_is_paginated_by_fifty(client: FlaskClient, cabinet: Cabinet, seeded: Seeded) -> None:
    with cabinet.db.session() as session:
        session.add_all(
            Student(record_number=f"P-{index}", full_name=f"Яковлев {index:03d}", email="", group_id=seeded.group_id)
            for index in range(60)
        )
    login(client, "employee")
    first = client.get("/students").get_data(as_text=True)
    assert len(_names(first)) == 50
    assert "Найдено: 64" in first
    second = client.get("/students?page=2").get_data(as_text=True)
    assert len(_names(second)) == 14


def test_selection_actions_post_ids_filters_and_csrf(
    client: FlaskClient, seeded: Seeded, fake_plugin: FakePlugin
) -> None:
    _install(client)
    login(client, "employee")
    page = client.get(f"/students?q=ва&group={seeded.group_id}").get_data(as_text=True)
    assert "Действия" in page
    assert 'formaction="/m/fake/echo" formmethod="post"' in page
    form = page[page.index('<form id="selection-form"') :]
    assert 'name="csrf_token"' in form
    assert 'name="filter.q" value="ва"' in form
    assert f'name="filter.group" value="{seeded.group_id}"' in form
    # What the browser submits when the button is pressed:
    ids = [str(seeded.student_id), str(seeded.other_student_ids[0])]
    post(client, "/m/fake/echo", {"ids": ids, "filter.q": "ва", "filter.group": str(seeded.group_id)})
    form_values, form_lists = fake_plugin.calls["echo"][-1]
    assert form_lists["ids"] == tuple(ids)
    assert form_values["filter.q"] == "ва"


def test_without_installed_modules_the_actions_are_empty(client: FlaskClient) -> None:
    login(client, "employee")
    assert "Нет доступных действий" in client.get("/students").get_data(as_text=True)


def test_expelling_a_student_notifies_plugins_after_commit(
    client: FlaskClient, cabinet: Cabinet, seeded: Seeded, fake_plugin: FakePlugin
) -> None:
    _install(client)
    login(client, "admin")
    response = post(
        client, f"/students/{seeded.student_id}/edit", {"status": "expelled", "group": str(seeded.group_id)}
    )
    assert response.status_code == 302
    assert fake_plugin.calls["status"] == [
        [PersonStatusChange(seeded.student_id, PersonKind.STUDENT, PersonStatus.ACTIVE, PersonStatus.EXPELLED)]
    ]
    assert fake_plugin.calls["memberships"] == []
    assert (
        cabinet.host.directory.people(PersonKind.STUDENT, [seeded.student_id])[seeded.student_id].status == "expelled"
    )


def test_moving_a_student_to_another_group_notifies_membership_change(
    client: FlaskClient, seeded: Seeded, fake_plugin: FakePlugin
) -> None:
    _install(client)
    login(client, "admin")
    post(client, f"/students/{seeded.student_id}/edit", {"status": "active", "group": str(seeded.other_group_id)})
    assert fake_plugin.calls["memberships"] == [
        [MembershipChange(seeded.student_id, PersonKind.STUDENT, seeded.group_id, seeded.other_group_id)]
    ]
    assert fake_plugin.calls["status"] == []


def test_dismissing_and_moving_an_employee_notifies_both(
    client: FlaskClient, seeded: Seeded, fake_plugin: FakePlugin
) -> None:
    _install(client)
    login(client, "admin")
    post(client, f"/employees/{seeded.teacher_id}/edit", {"status": "dismissed", "unit": str(seeded.other_unit_id)})
    assert fake_plugin.calls["status"] == [
        [PersonStatusChange(seeded.teacher_id, PersonKind.EMPLOYEE, PersonStatus.ACTIVE, PersonStatus.DISMISSED)]
    ]
    assert fake_plugin.calls["memberships"] == [
        [MembershipChange(seeded.teacher_id, PersonKind.EMPLOYEE, seeded.unit_id, seeded.other_unit_id)]
    ]


def test_failing_plugin_does_not_fail_the_change(
    client: FlaskClient, cabinet: Cabinet, seeded: Seeded, fake_plugin: FakePlugin, caplog: pytest.LogCaptureFixture
) -> None:
    _install(client)
    fake_plugin.fail_notifications = True
    login(client, "admin")
    with caplog.at_level(logging.ERROR):
        response = post(client, f"/students/{seeded.student_id}/edit", {"status": "expelled", "group": ""})
    assert response.status_code == 302
    assert "Изменения сохранены." in client.get("/students").get_data(as_text=True)
    assert "lms_people_status_changed" in caplog.text
    assert cabinet.host.directory.people(PersonKind.STUDENT, [seeded.student_id])[seeded.student_id].group_id is None


def test_not_installed_module_is_not_notified(client: FlaskClient, seeded: Seeded, fake_plugin: FakePlugin) -> None:
    login(client, "admin")
    post(client, f"/students/{seeded.student_id}/edit", {"status": "expelled", "group": str(seeded.group_id)})
    assert fake_plugin.calls["status"] == []


def test_invalid_status_is_refused(client: FlaskClient, seeded: Seeded) -> None:
    login(client, "admin")
    response = post(client, f"/students/{seeded.student_id}/edit", {"status": "dismissed", "group": ""})
    assert response.status_code == 400


@pytest.mark.parametrize("raw", ["²", "١٧", "9" * 40, "-1"])
def test_hostile_numbers_in_lists_forms_and_paths_get_an_answer_not_an_error(
    client: FlaskClient, seeded: Seeded, raw: str
) -> None:
    login(client, "admin")
    assert client.get("/students", query_string={"page": raw}).status_code == 200  # the first page
    # A group or unit that is not an id is refused, not dropped (which would list everyone).
    assert client.get("/students", query_string={"group": raw, "page": raw}).status_code == 400
    assert client.get("/employees", query_string={"unit": raw}).status_code == 400
    edit = post(client, f"/students/{seeded.student_id}/edit", {"status": "active", "group": raw})
    assert edit.status_code == 400
    assert client.get("/students/" + "9" * 40 + "/edit").status_code == 404
