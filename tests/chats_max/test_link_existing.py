"""Linking a MAX chat that exists already (carried over from VK Messenger) to a group or a unit, and a chat whose
bot was removed — against the MAX sandbox over real HTTP."""

from __future__ import annotations

import pytest
from sferum_sandbox.max import BOT_USER_ID
from sqlalchemy import select

from hookspecs.types import HttpResponse, Page
from sferum_plugin.gateway.max import BotRemovedUpdate
from sferum_plugin.models import SferumChat, SferumSyncRequest
from sferum_plugin.services import max_chats
from sferum_plugin.services.chat_links import unseal
from sferum_plugin.services.events import EventContext
from sferum_plugin.views import chats as chat_views
from tests.chats_max.conftest import MANAGER, STUDENT, TEACHER, MaxWorld


def _link(world: MaxWorld, viewer, chat_id: object, kind: str = "group", target: str = "18") -> Page | HttpResponse:  # type: ignore[no-untyped-def]
    form = {"kind": kind, f"{kind}_id": target, "chat_id": str(chat_id)}
    return chat_views.link_chat(world.request(viewer, "POST", form=form), sferum=world.sferum)


def _old_chat(world: MaxWorld, **kwargs: object) -> int:
    """A chat carried over from VK Messenger: its owner, two members, and the bot (administrator by default)."""
    return world.box.seed_chat("ИВТ-22 (из VK)", owner_id=world.max_ids[40], member_ids=[world.max_ids[20]], **kwargs)  # type: ignore[arg-type]


def test_the_link_page_is_offered_to_managers_on_max(world: MaxWorld) -> None:
    page = chat_views.link_chat(world.request(MANAGER), sferum=world.sferum)
    assert isinstance(page, Page)
    assert page.status == 200
    assert 'name="csrf_token" value="tok"' in page.body_html
    assert "Номер чата в MAX" in page.body_html
    new = chat_views.new_chat(world.request(MANAGER), sferum=world.sferum)
    assert isinstance(new, Page)
    assert "/m/sferum/chat_link" in new.body_html
    new = chat_views.new_chat(world.request(TEACHER), sferum=world.sferum)
    assert isinstance(new, Page)
    assert "/m/sferum/chat_link" not in new.body_html


@pytest.mark.parametrize("written", ["{id}", " {id} ", "https://web.max.ru/{id}"])
def test_an_administered_chat_is_linked_and_synced(world: MaxWorld, written: str) -> None:
    chat_id = _old_chat(world)
    reply = _link(world, MANAGER, written.format(id=chat_id))
    assert isinstance(reply, HttpResponse)
    (row,) = world.chats()
    assert reply.headers["Location"] == f"/m/sferum/chat_view/{row.id}"
    assert (row.platform, row.kind, row.target_id, row.chat_id) == ("max", "group", 18, chat_id)
    assert (row.state, row.needs_verify, row.title) == ("active", True, "ИВТ-22 (из VK)")
    assert unseal(row.invite_link, world.settings.bot_token) == world.box.state()["chats"][0]["link"]
    with world.host.db.session() as session:
        assert session.scalars(select(SferumSyncRequest.scope)).all() == [f"chat:{row.id}"]
    again = _link(world, MANAGER, chat_id)  # linking it again changes nothing
    assert isinstance(again, HttpResponse)
    assert [r.id for r in world.chats()] == [row.id]


def test_a_chat_awaiting_its_button_is_replaced_by_the_linked_one(world: MaxWorld) -> None:
    form = {"kind": "group", "group_id": "17", "title": "ИВТ-21"}
    chat_views.new_chat(world.request(TEACHER, "POST", form=form), sferum=world.sferum)
    (awaiting,) = world.chats()
    chat_id = _old_chat(world)
    assert isinstance(_link(world, MANAGER, chat_id, target="17"), HttpResponse)
    (row,) = world.chats()
    assert (row.id, row.state, row.chat_id) == (awaiting.id, "active", chat_id)
    assert row.marker != awaiting.marker  # the button sent earlier no longer matches
    refused = _link(world, MANAGER, chat_id, target="18")
    assert isinstance(refused, Page)
    assert "уже связан" in refused.body_html


def _refusal(world: MaxWorld, chat_id: object, viewer=MANAGER) -> str:  # type: ignore[no-untyped-def]
    reply = _link(world, viewer, chat_id)
    assert isinstance(reply, Page)
    assert reply.status == 400
    assert world.chats() == []
    return reply.body_html


def test_refusals_say_what_is_wrong(world: MaxWorld) -> None:
    assert "MAX не нашёл чат с таким номером" in _refusal(world, -123456789)
    not_admin = _old_chat(world, bot_is_admin=False)
    assert "не администратор с правом добавлять и удалять участников" in _refusal(world, not_admin)
    no_rights = _old_chat(world)
    world.box.set_bot_admin(no_rights, permissions=["write"])
    assert "не администратор с правом добавлять и удалять участников" in _refusal(world, no_rights)
    removed = _old_chat(world)
    world.box.remove_bot(removed)
    assert "Бота модуля нет в этом чате MAX" in _refusal(world, removed)
    for bad in ("", "abc", "12.5", "--1", "https://evil.test/-1", "0"):
        assert "Укажите номер чата MAX" in _refusal(world, bad)


def test_a_group_with_a_working_chat_keeps_it(world: MaxWorld) -> None:
    first, second = _old_chat(world), _old_chat(world)
    assert isinstance(_link(world, MANAGER, first), HttpResponse)
    reply = _link(world, MANAGER, second)
    assert isinstance(reply, Page)
    assert "уже есть работающий чат" in reply.body_html
    assert [r.chat_id for r in world.chats()] == [first]


def test_only_chat_managers_may_link(world: MaxWorld) -> None:
    chat_id = _old_chat(world)
    before = world.box.request_counts()
    assert "Недостаточно прав" in _refusal(world, chat_id, viewer=STUDENT)
    assert "Недостаточно прав" in _refusal(world, chat_id, viewer=TEACHER)
    assert world.box.request_counts() == before  # refused before MAX is asked anything
    (route,) = [r for r in chat_views.ROUTES if r.endpoint == "chat_link"]
    assert route.permission == "sferum.chats.manage"  # the host refuses others before the view runs


def _linked(world: MaxWorld) -> tuple[int, SferumChat]:
    chat_id = _old_chat(world)
    assert isinstance(_link(world, MANAGER, chat_id), HttpResponse)
    (row,) = world.chats()
    return chat_id, row


def _bot_removed(world: MaxWorld, chat_id: int) -> None:
    world.box.remove_bot(chat_id)
    (update,) = world.updates("bot_removed")
    assert isinstance(update, BotRemovedUpdate)
    with world.host.db.session() as session:
        context = EventContext(host=world.host, session=session, account=world.settings.account,
                               now=world.host.clock.now())  # fmt: skip
        max_chats.on_bot_removed(context, update)


def test_a_chat_whose_bot_was_removed_says_so_and_what_to_do(world: MaxWorld) -> None:
    chat_id, row = _linked(world)
    _bot_removed(world, chat_id)
    (row,) = world.chats()
    assert row.state == "bot_removed"
    path = {"chat_pk": str(row.id)}
    page = chat_views.chat_view(world.request(MANAGER, path_params=path))
    assert isinstance(page, Page)
    assert "Бота модуля удалили из чата в MAX" in page.body_html
    assert "Проверить чат снова" in page.body_html
    reply = chat_views.recheck_chat(world.request(MANAGER, "POST", path_params=path), sferum=world.sferum)
    assert isinstance(reply, Page)
    assert reply.status == 409
    assert "Бота модуля нет в этом чате MAX" in reply.body_html
    assert world.chats()[0].state == "bot_removed"


def test_a_chat_whose_bot_is_back_as_administrator_works_again(world: MaxWorld) -> None:
    chat_id, row = _linked(world)
    world.box.set_bot_admin(chat_id, False)
    with world.host.db.session() as session:  # what the sync records on MAX's 403
        session.get(SferumChat, row.id).state = "bot_removed"  # type: ignore[union-attr]
    path = {"chat_pk": str(row.id)}
    reply = chat_views.recheck_chat(world.request(MANAGER, "POST", path_params=path), sferum=world.sferum)
    assert isinstance(reply, Page)
    assert "не администратор" in reply.body_html
    world.box.set_bot_admin(chat_id, True)
    assert BOT_USER_ID in world.box.chat_member_ids(chat_id)
    reply = chat_views.recheck_chat(world.request(MANAGER, "POST", path_params=path), sferum=world.sferum)
    assert isinstance(reply, HttpResponse)
    (row,) = world.chats()
    assert (row.state, row.needs_verify, row.error) == ("active", True, None)
    other = chat_views.recheck_chat(world.request(STUDENT, "POST", path_params=path), sferum=world.sferum)
    assert isinstance(other, Page)
    assert other.status == 404


def test_recreate_on_max_sends_the_manager_a_new_button(world: MaxWorld) -> None:
    chat_id, row = _linked(world)
    _bot_removed(world, chat_id)
    path = {"chat_pk": str(row.id)}
    reply = chat_views.recreate_chat(world.request(MANAGER, "POST", path_params=path), sferum=world.sferum)
    assert isinstance(reply, HttpResponse)
    (again,) = world.chats()
    assert (again.state, again.chat_id, again.error) == ("awaiting", None, None)
    assert again.marker != row.marker
    message = world.box.messages_to(world.max_ids[40])[-1]
    assert message["buttons"][0][0]["start_payload"] == again.marker
