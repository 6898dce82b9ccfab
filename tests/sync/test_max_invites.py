"""«Отправить ссылку на чат»: a person MAX refused to add (their privacy settings) gets the chat's link from the bot,
against the MAX sandbox over real HTTP; anything else is refused with the reason, and nothing is sent."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hookspecs.types import PersonKind
from sferum_plugin.account import Account
from sferum_plugin.models import SferumChat, SferumSyncOperation
from sferum_plugin.services.chats import ChatRefused
from sferum_plugin.services.max_invites import INVITE_BUTTON, NOT_INVITABLE, invite_refused
from sferum_plugin.services.sync.overview import sync_overview
from tests.sync.max_world import MaxWorld

TOKEN = "bot-token-for-sealing-links-0000000000"


def _refused_add(world: MaxWorld) -> tuple[int, int, int]:
    """A group chat where MAX refused one person: (chat row, the failed add's row, the person's MAX id)."""
    world.group(1)
    world.students(2, group_id=1)
    private = world.person(PersonKind.STUDENT, group_id=1, refuses_adds=True)
    chat = world.chat("group", 1)
    assert world.sync().failed == 1
    person = world.sferum_of[private.id]
    with world.host.db.session() as session:
        op_id = session.scalar(select(SferumSyncOperation.id).where(SferumSyncOperation.sferum_user_id == person))
    assert op_id is not None
    return chat, op_id, person


def test_the_bot_sends_a_refused_person_the_chats_link(max_world: MaxWorld) -> None:
    world = max_world
    chat, op_id, person = _refused_add(world)
    [row] = sync_overview(world.host, account=world.account).chats
    assert [p.op_id for p in row.problems] == [op_id]  # the page's button names this operation
    world.box.press_start(person)  # they linked their profile through the bot, so it may write to them

    invite_refused(world.host, world.client, op_id, account=world.account, bot_token=TOKEN)  # type: ignore[arg-type]

    [message] = world.box.messages_to(person)
    assert "«Чат»" in message["text"]  # the chat's title
    [[button]] = message["buttons"]
    assert (button["type"], button["text"]) == ("link", INVITE_BUTTON)
    chat_id = world.row(chat).chat_id
    [chat_state] = [c for c in world.box.state()["chats"] if c["chat_id"] == chat_id]
    assert button["url"] == chat_state["link"]


def test_a_person_who_never_opened_the_bot_is_explained_and_nothing_is_stored(max_world: MaxWorld) -> None:
    world = max_world
    _, op_id, person = _refused_add(world)

    with pytest.raises(ChatRefused, match="не открывал бота"):
        invite_refused(world.host, world.client, op_id, account=world.account, bot_token=TOKEN)  # type: ignore[arg-type]
    assert world.box.messages_to(person) == []


def test_only_a_failed_add_of_a_working_chat_of_this_account_can_be_sent(max_world: MaxWorld) -> None:
    world = max_world
    chat, op_id, person = _refused_add(world)
    world.box.press_start(person)
    with world.host.db.session() as session:
        done = session.scalar(select(SferumSyncOperation.id).where(SferumSyncOperation.state == "done"))
    assert done is not None

    for other_op, account in ((done, world.account), (op_id, Account("vk", 51234567)), (10**9, world.account)):
        with pytest.raises(ChatRefused) as refused:
            invite_refused(world.host, world.client, other_op, account=account, bot_token=TOKEN)  # type: ignore[arg-type]
        assert refused.value.reason == NOT_INVITABLE
    with world.host.db.session() as session:
        session.get(SferumChat, chat).state = "bot_removed"  # type: ignore[union-attr]
    with pytest.raises(ChatRefused):
        invite_refused(world.host, world.client, op_id, account=world.account, bot_token=TOKEN)  # type: ignore[arg-type]
    assert world.box.messages_to(person) == []
