"""Asking for a chat on MAX: the bot sends the asker a chat button, the tap creates the chat, and the
``message_chat_created`` update ties it to the row — against the MAX sandbox over real HTTP."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from hookspecs.types import HttpResponse, Page
from sferum_plugin.gateway.max import MaxChat, MessageChatCreatedUpdate
from sferum_plugin.models import ProfileLink, SferumChatMember, SferumInbox, SferumSyncRequest
from sferum_plugin.services import inbox, max_chats
from sferum_plugin.services.chat_links import unseal
from sferum_plugin.services.events import EventContext
from sferum_plugin.services.max_updates import save_page
from sferum_plugin.views import chat_open
from sferum_plugin.views import chats as chat_views
from tests.chats_max.conftest import MANAGER, STUDENT, TEACHER, MaxWorld


def _ask_group_chat(world: MaxWorld, viewer=TEACHER) -> Page | HttpResponse:  # type: ignore[no-untyped-def]
    form = {"kind": "group", "group_id": "17", "title": "ИВТ-21"}
    return chat_views.new_chat(world.request(viewer, "POST", form=form), sferum=world.sferum)


def _view(world: MaxWorld, viewer, chat_pk: int, **args: str) -> Page:  # type: ignore[no-untyped-def]
    page = chat_views.chat_view(world.request(viewer, path_params={"chat_pk": str(chat_pk)}, args=args))
    assert isinstance(page, Page)
    return page


def _button(world: MaxWorld, user_id: int) -> tuple[str, int, str]:
    """The last message the bot sent the person: its id, its chat button's uuid and payload."""
    message = world.box.messages_to(world.max_ids[user_id])[-1]
    (button,) = [b for row in message["buttons"] for b in row if b["type"] == "chat"]
    return message["mid"], button["uuid"], button["start_payload"]


def _handle(world: MaxWorld, update: object) -> None:
    with world.host.db.session() as session:
        context = EventContext(host=world.host, session=session, account=world.settings.account,
                               now=world.host.clock.now())  # fmt: skip
        max_chats.on_chat_created(context, update)  # type: ignore[arg-type]


def test_a_teacher_asks_for_the_group_chat_taps_the_button_and_the_chat_becomes_active(world: MaxWorld) -> None:
    reply = _ask_group_chat(world)
    assert isinstance(reply, HttpResponse)
    (row,) = world.chats()
    assert reply.headers["Location"] == f"/m/sferum/chat_view/{row.id}"
    assert (row.platform, row.app_id, row.state, row.chat_id) == ("max", 0, "awaiting", None)
    assert len(row.marker) == 24
    assert row.error is None
    mid, uuid, payload = _button(world, 10)
    assert payload == row.marker
    message = world.box.messages_to(world.max_ids[10])[-1]
    assert "ИВТ-21" in message["text"]
    assert [[(b["text"], b["chat_title"]) for b in r] for r in message["buttons"]] == [
        [("Создать чат «ИВТ-21»", "ИВТ-21")]
    ]
    page = _view(world, TEACHER, row.id)
    assert "Ждём, когда вы нажмёте в MAX кнопку «Создать чат «ИВТ-21»»." in page.body_html
    assert "Отправить кнопку ещё раз" in page.body_html
    assert 'http-equiv="refresh"' in page.body_html
    assert "Ждём, когда автор запроса нажмёт в MAX кнопку" in _view(world, MANAGER, row.id).body_html

    chat_id = world.box.tap_chat_button(world.max_ids[10], mid, uuid)
    (update,) = world.updates("message_chat_created")
    assert isinstance(update, MessageChatCreatedUpdate)
    assert update.start_payload == payload
    _handle(world, update)

    (row,) = world.chats()
    assert (row.state, row.chat_id, row.needs_verify, row.error) == ("active", chat_id, True, None)
    with world.host.db.session() as session:
        assert session.scalars(select(SferumSyncRequest.scope)).all() == [f"chat:{row.id}"]
    link = world.box.state()["chats"][0]["link"]
    assert row.invite_link
    assert link not in row.invite_link
    assert unseal(row.invite_link, world.settings.bot_token) == link
    assert "Чат создан в Сферуме." in _view(world, TEACHER, row.id).body_html


def test_the_chat_opens_at_its_max_link_for_members_only(world: MaxWorld) -> None:
    _ask_group_chat(world)
    mid, uuid, _ = _button(world, 10)
    chat_id = world.box.tap_chat_button(world.max_ids[10], mid, uuid)
    (update,) = world.updates("message_chat_created")
    _handle(world, update)
    (row,) = world.chats()
    with world.host.db.session() as session:  # what the sync's verification records
        session.add(SferumChatMember(chat_pk=row.id, sferum_user_id=world.max_ids[10]))
    with world.host.db.session() as session:  # a stored link that no longer decrypts is asked of MAX again
        session.get(type(row), row.id).invite_link = "stale"  # type: ignore[union-attr]
    before = world.box.request_counts().get("GET /chats/{chatId}", 0)
    path = {"chat_pk": str(row.id)}
    reply = chat_open.open_chat(world.request(TEACHER, path_params=path), sferum=world.sferum)
    assert isinstance(reply, HttpResponse)
    assert reply.status == 302
    link = next(c["link"] for c in world.box.state()["chats"] if c["chat_id"] == chat_id)
    assert reply.headers["Location"] == link
    assert reply.headers["Cache-Control"] == "no-store"
    assert world.box.request_counts()["GET /chats/{chatId}"] == before + 1
    again = chat_open.open_chat(world.request(TEACHER, path_params=path), sferum=world.sferum)
    assert isinstance(again, HttpResponse)
    assert again.headers["Location"] == link
    assert world.box.request_counts()["GET /chats/{chatId}"] == before + 1  # stored, not asked again
    refused = chat_open.open_chat(world.request(STUDENT, path_params=path), sferum=world.sferum)
    assert isinstance(refused, Page)
    assert refused.status == 404


def test_the_chat_list_shows_max_chats(world: MaxWorld) -> None:
    _ask_group_chat(world)
    mid, uuid, _ = _button(world, 10)
    world.box.tap_chat_button(world.max_ids[10], mid, uuid)
    (update,) = world.updates("message_chat_created")
    _handle(world, update)
    (row,) = world.chats()
    with world.host.db.session() as session:
        session.add(SferumChatMember(chat_pk=row.id, sferum_user_id=world.max_ids[10]))
    listed = chat_views.chat_list(TEACHER, world.host)
    assert [(c.title, c.url) for c in listed] == [("ИВТ-21", f"/m/sferum/chat_open/{row.id}")]


def test_the_update_is_handled_through_the_inbox(world: MaxWorld) -> None:
    _ask_group_chat(world)
    mid, uuid, _ = _button(world, 10)
    chat_id = world.box.tap_chat_button(world.max_ids[10], mid, uuid)
    page = world.page()
    with world.host.db.session() as session:
        save_page(session, world.settings.account, None, page, world.host.clock.now())
    inbox.process_inbox(world.host, world.settings.account, world.host.clock.now())
    (row,) = world.chats()
    assert (row.state, row.chat_id) == ("active", chat_id)
    with world.host.db.session() as session:
        assert all(r.processed_at is not None and r.error is None for r in session.scalars(select(SferumInbox)))


def _created(chat_id: int, payload: str | None) -> MessageChatCreatedUpdate:
    chat = MaxChat(chat_id=chat_id, type="chat", status="active", title="Чужой", link="https://max.ru/join/x")
    return MessageChatCreatedUpdate(timestamp=1, chat=chat, message_id="mid.1", start_payload=payload)


@pytest.mark.parametrize("payload", [None, "", "g17", "an-unknown-payload-0123456"])
def test_an_unknown_payload_is_ignored_and_not_logged(
    world: MaxWorld, payload: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    _ask_group_chat(world)
    caplog.set_level(logging.INFO)
    _handle(world, _created(-5, payload))
    (row,) = world.chats()
    assert (row.state, row.chat_id) == ("awaiting", None)
    assert "matches no chat awaiting its button" in caplog.text
    if payload:
        assert payload not in caplog.text


def test_a_reused_payload_is_ignored(world: MaxWorld, caplog: pytest.LogCaptureFixture) -> None:
    _ask_group_chat(world)
    mid, uuid, payload = _button(world, 10)
    chat_id = world.box.tap_chat_button(world.max_ids[10], mid, uuid)
    (update,) = world.updates("message_chat_created")
    _handle(world, update)
    caplog.set_level(logging.INFO)
    _handle(world, _created(-99, payload))  # a second chat from the same button (say, a resent one)
    (row,) = world.chats()
    assert (row.state, row.chat_id) == ("active", chat_id)
    assert payload not in caplog.text


def test_a_requester_without_a_linked_max_profile_is_told_what_to_do(world: MaxWorld) -> None:
    form = {"kind": "custom", "title": "Проект", "members": "30"}
    reply = chat_views.new_chat(
        world.request(STUDENT, "POST", form=form, form_lists={"members": ("30",)}), sferum=world.sferum
    )
    assert isinstance(reply, Page)
    assert reply.status == 400
    assert "ваш профиль MAX ещё не связан" in reply.body_html
    assert "«Создать учебный профиль Сферум»" in reply.body_html
    assert world.chats() == []
    assert world.box.messages_to(world.max_ids[20]) == []


def test_a_group_chat_that_exists_is_returned_even_to_someone_not_linked(world: MaxWorld) -> None:
    _ask_group_chat(world)
    (row,) = world.chats()
    with world.host.db.session() as session:  # the manager has no MAX profile linked
        session.execute(ProfileLink.__table__.delete().where(ProfileLink.user_id == 40))
    reply = _ask_group_chat(world, MANAGER)
    assert isinstance(reply, HttpResponse)
    assert reply.headers["Location"] == f"/m/sferum/chat_view/{row.id}"
    assert len(world.chats()) == 1


def test_a_failed_send_is_explained_and_can_be_retried(world: MaxWorld) -> None:
    world.link(20)  # linked, but never pressed Start: MAX refuses the bot's message (403 chat.denied)
    form = {"kind": "custom", "title": "Проект"}
    reply = chat_views.new_chat(world.request(STUDENT, "POST", form=form), sferum=world.sferum)
    assert isinstance(reply, HttpResponse)
    (row,) = world.chats()
    assert row.state == "awaiting"
    assert row.error is not None
    page = _view(world, STUDENT, row.id)
    assert "Бот не смог прислать вам в MAX кнопку" in page.body_html
    assert "нажмите «Начать»" in page.body_html
    assert "Отправить кнопку ещё раз" in page.body_html
    path = {"chat_pk": str(row.id)}
    again = chat_views.resend_button(world.request(STUDENT, "POST", path_params=path), sferum=world.sferum)
    assert isinstance(again, HttpResponse)
    assert not again.headers["Location"].endswith("sent=1")
    world.box.press_start(world.max_ids[20])
    again = chat_views.resend_button(world.request(STUDENT, "POST", path_params=path), sferum=world.sferum)
    assert isinstance(again, HttpResponse)
    assert again.headers["Location"].endswith("?sent=1")
    (row,) = world.chats()
    assert (row.state, row.error) == ("awaiting", None)
    _, _, payload = _button(world, 20)
    assert payload == row.marker  # the same payload: whichever button is tapped first makes the chat
    assert "Кнопка отправлена ещё раз" in _view(world, STUDENT, row.id, sent="1").body_html


def test_only_the_asker_or_a_manager_may_resend(world: MaxWorld) -> None:
    _ask_group_chat(world)
    (row,) = world.chats()
    path = {"chat_pk": str(row.id)}
    refused = chat_views.resend_button(world.request(STUDENT, "POST", path_params=path), sferum=world.sferum)
    assert isinstance(refused, Page)
    assert refused.status == 404
    sent = len(world.box.messages_to(world.max_ids[40]))
    reply = chat_views.resend_button(world.request(MANAGER, "POST", path_params=path), sferum=world.sferum)
    assert isinstance(reply, HttpResponse)
    assert len(world.box.messages_to(world.max_ids[40])) == sent + 1  # to the manager who pressed it


def test_the_sync_never_claims_an_awaiting_chat(world: MaxWorld) -> None:
    from sferum_plugin.services.sync.queue import CLAIMABLE_STATES

    assert "awaiting" not in CLAIMABLE_STATES
