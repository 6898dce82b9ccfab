"""Chats for many groups at once on MAX: the administrator gets the groups' chat buttons, 30 a message."""

from __future__ import annotations

from sqlalchemy import select

from hookspecs.types import HttpResponse, Page
from sferum_plugin.models import SferumSyncRequest
from sferum_plugin.services import max_chats
from sferum_plugin.services.events import EventContext
from sferum_plugin.views import chats as chat_views
from tests.chats_max.conftest import MANAGER, STUDENT, MaxWorld


def _bulk(world: MaxWorld, viewer=MANAGER, **form: str) -> Page | HttpResponse:  # type: ignore[no-untyped-def]
    lists = {"group_ids": tuple(form.pop("group_ids").split(","))} if "group_ids" in form else {}
    request = world.request(viewer, "POST", form=form, form_lists=lists)
    return chat_views.bulk_create(request, sferum=world.sferum)


def test_the_administrator_gets_a_button_per_group_and_each_tap_makes_one_chat(world: MaxWorld) -> None:
    reply = _bulk(world, group_ids="17,18")
    assert isinstance(reply, HttpResponse)
    rows = world.chats()
    assert [(r.target_id, r.state, r.error) for r in rows] == [(17, "awaiting", None), (18, "awaiting", None)]
    with world.host.db.session() as session:  # nothing for the sync until the chats exist
        assert session.scalars(select(SferumSyncRequest.scope)).all() == []
    (message,) = world.box.messages_to(world.max_ids[40])[-1:]
    buttons = [b for row in message["buttons"] for b in row]
    assert [(b["text"], b["start_payload"]) for b in buttons] == [
        ("Создать чат «ИВТ-21»", rows[0].marker),
        ("Создать чат «ИВТ-22»", rows[1].marker),
    ]
    world.box.tap_chat_button(world.max_ids[40], message["mid"], buttons[1]["uuid"])
    (update,) = world.updates("message_chat_created")
    with world.host.db.session() as session:
        context = EventContext(host=world.host, session=session, account=world.settings.account,
                               now=world.host.clock.now())  # fmt: skip
        max_chats.on_chat_created(context, update)
    assert [r.state for r in world.chats()] == ["awaiting", "active"]
    progress = chat_views.bulk_create(world.request(MANAGER), sferum=world.sferum)
    assert isinstance(progress, Page)
    assert "ждут нажатия кнопки в MAX: 1" in progress.body_html
    assert 'http-equiv="refresh"' in progress.body_html
    assert isinstance(_bulk(world, group_ids="17,18"), HttpResponse)  # asking again sends nothing new
    assert len(world.box.messages_to(world.max_ids[40])) == 1


def test_many_groups_get_their_buttons_thirty_a_message(world: MaxWorld) -> None:
    world.host.directory.group_titles = {gid: f"Группа {gid:03d}" for gid in range(100, 131)}
    before = world.box.request_counts().get("POST /messages", 0)
    assert isinstance(_bulk(world, scope="filter"), HttpResponse)
    assert world.box.request_counts()["POST /messages"] == before + 2
    sent = world.box.messages_to(world.max_ids[40])
    assert [len(m["buttons"]) for m in sent] == [30, 1]
    assert all(len(row) == 1 for m in sent for row in m["buttons"])
    assert len({b["start_payload"] for m in sent for row in m["buttons"] for b in row}) == 31


def test_an_administrator_without_a_linked_profile_is_told(world: MaxWorld) -> None:
    admin = MANAGER.__class__(user_id=1, username="a", full_name="Админ", roles=frozenset({"admin"}))
    reply = _bulk(world, admin, group_ids="17")
    assert isinstance(reply, Page)
    assert reply.status == 400
    assert "ваш профиль MAX ещё не связан" in reply.body_html
    assert world.chats() == []


def test_a_student_cannot_ask_for_group_chats(world: MaxWorld) -> None:
    reply = _bulk(world, STUDENT, group_ids="17")
    assert isinstance(reply, Page)
    assert "Недостаточно прав" in reply.body_html
    assert world.chats() == []
