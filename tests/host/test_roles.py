"""Права доступа → Роли, the menu and permission checks on the server."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from lms_host import Cabinet

from tests.host.conftest import login, post

ADMIN_PAGES = [
    "/admin/modules",
    "/admin/roles",
    "/admin/modules/main/settings",
    "/admin/modules/schedule/settings",
    "/admin/modules/fake/settings",
    "/students/1/edit",
    "/employees/1/edit",
]


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_every_admin_page_is_forbidden_to_a_student(client: FlaskClient, url: str) -> None:
    login(client, "student")
    response = client.get(url)
    assert response.status_code == 403
    assert "Доступ запрещён" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "url", ["/admin/modules/fake/install", "/admin/modules/fake/uninstall", "/admin/roles", "/students/1/edit"]
)
def test_admin_posts_are_forbidden_to_a_student(client: FlaskClient, cabinet: Cabinet, url: str) -> None:
    login(client, "student")
    assert post(client, url, {"grant": "student:host.students.view"}).status_code == 403
    assert not cabinet.settings.is_installed("fake")


def test_student_cannot_open_the_students_list(client: FlaskClient) -> None:
    login(client, "student")
    assert client.get("/students").status_code == 403
    assert client.get("/employees").status_code == 403


def test_roles_page_lists_host_and_installed_module_permissions_by_section(client: FlaskClient) -> None:
    login(client, "admin")
    page = client.get("/admin/roles").get_data(as_text=True)
    assert "Просмотр расписания" in page
    assert "Просмотр обучающихся" in page
    assert "Просмотр фейкового раздела" not in page
    post(client, "/admin/modules/fake/install")
    page = client.get("/admin/roles").get_data(as_text=True)
    schedule_section = page.index(">Расписание<")
    assert page.index("Просмотр фейкового раздела") > schedule_section
    assert 'value="student:fake.view"' in page


def test_granting_and_revoking_changes_what_the_role_may_open(client: FlaskClient) -> None:
    login(client, "admin")
    current = {
        "employee:host.schedule.view",
        "employee:host.students.view",
        "employee:host.employees.view",
        "employee:host.chats.use",
        "student:host.schedule.view",
        "student:host.chats.use",
    }
    response = post(client, "/admin/roles", {"grant": sorted(current | {"student:host.students.view"})})
    assert response.status_code == 302
    student = client.application.test_client()
    login(student, "student")
    assert student.get("/students").status_code == 200
    post(client, "/admin/roles", {"grant": sorted(current - {"student:host.schedule.view"})})
    assert student.get("/students").status_code == 403
    assert student.get("/schedule").status_code == 403
    assert 'data-key="schedule"' not in student.get("/").get_data(as_text=True)


def test_plugin_menu_item_appears_only_with_the_permission(client: FlaskClient) -> None:
    login(client, "admin")
    post(client, "/admin/modules/fake/install")
    student = client.application.test_client()
    login(student, "student")
    assert "Фейковый раздел" in student.get("/").get_data(as_text=True)
    employee = client.application.test_client()
    login(employee, "employee")
    assert "Фейковый раздел" not in employee.get("/").get_data(as_text=True)


def test_menu_items_are_sorted_by_order(client: FlaskClient) -> None:
    login(client, "admin")
    post(client, "/admin/modules/fake/install")
    page = client.get("/").get_data(as_text=True)
    keys = ["dashboard", "schedule", "students", "employees", "chats", "fake", "admin"]
    positions = [page.index(f'data-key="{key}"') for key in keys]
    assert positions == sorted(positions)
