"""Чаты: native chats, and the chat type switch to a plugin's backend."""

from __future__ import annotations

from flask.testing import FlaskClient
from lms_host import Cabinet
from lms_host.models import Chat, ChatMember, ChatMessage, User
from sqlalchemy import select

from tests.host.conftest import login, post


def _chat(cabinet: Cabinet, title: str, usernames: list[str]) -> int:
    with cabinet.db.session() as session:
        chat = Chat(title=title)
        session.add(chat)
        session.flush()
        users = session.scalars(select(User).where(User.username.in_(usernames))).all()
        session.add_all(ChatMember(chat_id=chat.id, user_id=user.id) for user in users)
        return chat.id


def test_native_chat_list_open_and_post(client: FlaskClient, cabinet: Cabinet) -> None:
    chat_id = _chat(cabinet, "Группа ИВТ-21", ["student", "teacher"])
    _chat(cabinet, "Чужой чат", ["teacher"])
    login(client, "student")
    page = client.get("/chats").get_data(as_text=True)
    assert "Группа ИВТ-21" in page
    assert "участников: 2" in page
    assert "Чужой чат" not in page
    response = post(client, f"/chats/{chat_id}/messages", {"body": "Здравствуйте! <b>"})
    assert response.status_code == 302
    page = client.get(f"/chats/{chat_id}").get_data(as_text=True)
    assert "Здравствуйте! &lt;b&gt;" in page
    with cabinet.db.session() as session:
        assert session.scalar(select(ChatMessage.body)) == "Здравствуйте! <b>"


def test_chat_of_others_is_forbidden(client: FlaskClient, cabinet: Cabinet) -> None:
    chat_id = _chat(cabinet, "Чужой чат", ["teacher"])
    login(client, "student")
    assert client.get(f"/chats/{chat_id}").status_code == 403
    assert post(client, f"/chats/{chat_id}/messages", {"body": "x"}).status_code == 403
    assert client.get("/chats/999").status_code == 404


def test_posting_without_csrf_is_refused(client: FlaskClient, cabinet: Cabinet) -> None:
    chat_id = _chat(cabinet, "Группа", ["student"])
    login(client, "student")
    assert client.post(f"/chats/{chat_id}/messages", data={"body": "x"}).status_code == 400


def test_backend_chat_type_hides_native_chats_and_switching_back_shows_them(
    client: FlaskClient, cabinet: Cabinet
) -> None:
    chat_id = _chat(cabinet, "Группа ИВТ-21", ["student", "admin"])
    login(client, "admin")
    post(client, "/admin/modules/fake/install")
    response = post(client, "/admin/modules/main/settings", {"org_name": "Университет", "chat_type": "fakechat"})
    assert response.status_code == 302
    page = client.get("/chats").get_data(as_text=True)
    assert "Группа ИВТ-21" not in page
    assert "Чат группы ФЕЙК-1" in page
    assert '<a class="btn btn-secondary" href="https://fake.example/c1">Открыть в Фейке</a>' in page
    assert "Внешняя система «Фейк»" in page
    assert '<a class="btn btn-secondary" href="/m/fake/page">Создать чат в Фейке</a>' in page  # the backend's actions
    assert client.get(f"/chats/{chat_id}").status_code == 404
    post(client, "/admin/modules/main/settings", {"org_name": "Университет", "chat_type": "native"})
    assert "Группа ИВТ-21" in client.get("/chats").get_data(as_text=True)


def test_uninstalled_backend_falls_back_to_native_chats(client: FlaskClient, cabinet: Cabinet) -> None:
    _chat(cabinet, "Группа ИВТ-21", ["admin"])
    login(client, "admin")
    post(client, "/admin/modules/fake/install")
    post(client, "/admin/modules/main/settings", {"org_name": "Университет", "chat_type": "fakechat"})
    post(client, "/admin/modules/fake/uninstall", {"keep_data": "1"})
    assert "Группа ИВТ-21" in client.get("/chats").get_data(as_text=True)


def test_unknown_chat_type_is_refused_by_validation(client: FlaskClient, cabinet: Cabinet) -> None:
    login(client, "admin")
    response = post(client, "/admin/modules/main/settings", {"org_name": "Университет", "chat_type": "fakechat"})
    assert response.status_code == 422
    assert "Тип чатов: Выберите значение из списка." in response.get_data(as_text=True)
