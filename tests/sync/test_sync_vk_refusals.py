"""What Sferum's refusals and half-answered requests mean to the sync, against the sandbox's real behaviour.

Codes beyond the schema's errors.json come from VK's method pages (dev.vk.com): 967 and 984 on
``messages.addChatUser``, 984 and 1017 on ``messages.removeChatUser``, 1019 on ``messages.getChatPreview``.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from hookspecs.types import PersonKind, PersonStatus
from sferum_plugin.i18n import gettext
from sferum_plugin.models import SferumChat, SferumSyncOperation, SferumSyncService
from sferum_plugin.services.sync.overview import sync_overview
from tests.sync.world import World

S, E = PersonKind.STUDENT, PersonKind.EMPLOYEE


def _group_chat(world: World, students: int = 3) -> tuple[int, list]:
    teacher = world.person(E, unit_id=5)
    world.group(17, "ИВТ-21", staff=(teacher.id,))
    people = [world.person(S, group_id=17) for _ in range(students)]
    pk = world.request("group", 17)
    world.sync()
    assert world.chat(pk).state == "active"
    return pk, people


def _ops(world: World, state: str) -> list[SferumSyncOperation]:
    with world.host.db.session() as session:
        ops = list(session.scalars(select(SferumSyncOperation).where(SferumSyncOperation.state == state)))
        for op in ops:
            session.expunge(op)
        return ops


def _sent(world: World, before: dict[str, int], method: str) -> int:
    return world.box.call_counts().get(method, 0) - before.get(method, 0)


# -- 1017: the chat was deleted -------------------------------------------------------------------------------------


def test_a_removal_from_a_chat_deleted_in_sferum_marks_the_chat_vanished(world: World) -> None:
    pk, (anna, *_) = _group_chat(world)
    world.box.delete_chat(world.chat(pk).chat_id or 0)  # someone deleted it in Sferum
    world.set_status(anna, PersonStatus.EXPELLED)
    world.notify(f"student:{anna.id}")

    report = world.sync()  # a queue pass: it removes anna without reading the list first, and meets 1017

    assert world.box.call_counts().get("messages.removeChatUser") == 1
    chat = world.chat(pk)
    assert chat.state == "vanished"
    assert chat.error == "Чат удалён в Сферуме."
    assert report.failed == 0  # not a refusal of the removal: there is no chat left to remove anyone from
    assert _ops(world, "failed") == []


# -- 967 and 1019: a person who is not of the organisation ----------------------------------------------------------


def test_a_person_outside_the_organisation_is_refused_alone_with_the_reason_on_the_sync_page(world: World) -> None:
    pk, _ = _group_chat(world)
    outsider, newcomer = world.person(S, group_id=17), world.person(S, group_id=17)
    world.box.set_in_organisation(world.sferum_of[outsider.user_id], False)
    world.notify("group:17")

    report = world.sync()

    assert report.failed == 1
    assert world.sferum_of[newcomer.user_id] in world.sferum_members(pk)  # everyone else is added
    assert world.sferum_of[outsider.user_id] not in world.sferum_members(pk)
    (problem,) = [p for chat in sync_overview(world.host, account=world.account).chats for p in chat.problems]
    assert (problem.sferum_user_id, problem.state, problem.attempts) == (world.sferum_of[outsider.user_id], "failed", 1)
    assert problem.reason is not None
    assert "не состоит в организации" in problem.reason
    assert "organisation" in gettext("en", problem.reason)  # the page shows it in the UI language
    before = world.box.call_counts()
    world.notify("group:17")
    world.sync()
    assert _sent(world, before, "messages.addChatUser") == 0  # a refusal is not retried by itself


def test_error_1019_is_the_same_refusal_of_one_person(world: World) -> None:
    pk, _ = _group_chat(world)
    stranger = world.person(S, group_id=17)
    world.box.faults.inject("messages.addChatUser", error_code=1019)
    world.notify("group:17")

    world.sync()

    (op,) = _ops(world, "failed")
    assert op.sferum_user_id == world.sferum_of[stranger.user_id]
    assert op.last_error is not None
    assert "не состоит в организации" in op.last_error
    assert world.chat(pk).state == "active"


# -- 984 and 14: the organisation account is restricted -------------------------------------------------------------


def test_a_spam_restriction_pauses_the_whole_service_with_its_own_reason_and_never_retries_at_once(
    world: World,
) -> None:
    pk, _ = _group_chat(world)
    world.person(S, group_id=17)
    world.box.faults.inject("messages.addChatUser", error_code=984)
    world.notify("group:17")
    started = world.host.clock.current

    report = world.sync()

    assert report.paused_until == started + timedelta(hours=6)
    with world.host.db.session() as session:
        service = session.get(SferumSyncService, ("vk", world.app_id))
        assert service.pause_reason is not None
        assert "спам" in service.pause_reason
        assert "%(until)s" in service.pause_reason  # the page names the end of the pause
    assert _ops(world, "failed") == []  # nobody is refused: the whole service waits
    before = world.box.call_counts()
    world.notify("group:17")
    assert world.sync().paused_until is not None
    assert world.box.call_counts() == before  # paused: not a single call, let alone a tight retry
    world.host.clock.current = started + timedelta(hours=6, minutes=1)
    world.sync()
    assert world.sferum_members(pk) == world.desired(pk)


def test_a_captcha_on_chat_creation_pauses_the_service_and_the_chat_is_created_afterwards(world: World) -> None:
    teacher = world.person(E, unit_id=5)
    world.group(17, "ИВТ-21", staff=(teacher.id,))
    world.person(S, group_id=17)
    pk = world.request("group", 17)
    world.box.faults.inject("messages.createChat", error_code=14)
    started = world.host.clock.current

    report = world.sync()

    assert report.paused_until == started + timedelta(hours=1)
    assert world.chat(pk).state in ("creating", "unknown")  # waiting, not refused
    with world.host.db.session() as session:
        reason = session.get(SferumSyncService, ("vk", world.app_id)).pause_reason
    assert reason is not None
    assert "капч" in reason
    world.host.clock.current = started + timedelta(hours=1, minutes=1)
    world.sync()
    assert world.chat(pk).state == "active"
    assert len(world.box.state()["chats"]) == 1
    assert world.sferum_members(pk) == world.desired(pk)


# -- error 15 on addChatUser: the person is already there -----------------------------------------------------------


def test_adding_someone_already_in_the_chat_is_reconciled_against_the_member_list_not_failed(world: World) -> None:
    pk, _ = _group_chat(world)
    late = world.person(S, group_id=17, linked=False)
    late_in_sferum = world.sferum_of[late.user_id]
    world.api.add_chat_member(world.chat(pk).chat_id or 0, late_in_sferum)  # joined by the invite link meanwhile
    world.link(late.user_id)
    before = world.box.call_counts()

    report = world.sync()  # Sferum answers the add with 15: already a member

    assert _sent(world, before, "messages.addChatUser") == 1
    assert _sent(world, before, "messages.getConversationMembers") == 1  # the list settles it
    assert (report.added, report.failed) == (1, 0)
    assert _ops(world, "failed") == []
    assert late_in_sferum in world.sferum_members(pk)
    with world.host.db.session() as session:
        done = session.scalars(
            select(SferumSyncOperation.state).where(SferumSyncOperation.sferum_user_id == late_in_sferum)
        ).all()
    assert done == ["done"]
    requests = world.box.request_counts()
    world.notify("group:17")
    world.sync()
    assert world.box.request_counts() == requests  # known as a member now: nothing more to send


def test_a_real_access_refusal_on_add_still_fails_with_its_reason(world: World) -> None:
    pk, _ = _group_chat(world)
    newcomer = world.person(S, group_id=17)
    world.box.faults.inject("messages.addChatUser", error_code=15)  # refused: Sferum did not add them
    world.notify("group:17")

    report = world.sync()

    assert report.failed == 1
    (op,) = _ops(world, "failed")
    assert op.sferum_user_id == world.sferum_of[newcomer.user_id]
    assert world.sferum_of[newcomer.user_id] not in world.sferum_members(pk)


# -- HTTP 5xx after Sferum applied the batch (docs/operations.md, «Faults») ----------------------------------------


def test_adds_sferum_applied_but_answered_500_are_read_back_and_not_sent_again(world: World) -> None:
    pk, _ = _group_chat(world)
    newcomers = {world.sferum_of[world.person(S, group_id=17).user_id] for _ in range(2)}
    # Sferum runs the execute of adds and answers 500, at each of the client's 3 attempts (make_client's policy).
    world.box.faults.inject("execute", http_status_after_apply=500, times=3)
    world.notify("group:17")
    world.sync()
    assert newcomers <= world.sferum_members(pk)  # applied, though the pass never heard so
    world.host.clock.current += timedelta(minutes=5)  # past every backoff: the operations are due again
    requests, calls = world.box.request_counts(), world.box.call_counts()

    report = world.sync()

    assert _sent(world, calls, "messages.getConversationMembers") == 1  # the real list first
    assert _sent(world, calls, "messages.addChatUser") == 0  # nothing re-sent on a guess
    assert world.box.request_counts()["execute"] - requests["execute"] == 1  # the read, and no batch of adds
    assert report.failed == 0
    assert world.sferum_members(pk) == world.desired(pk)
    with world.host.db.session() as session:
        assert session.scalar(select(func.count()).where(SferumSyncOperation.state == "failed")) == 0
        assert session.get(SferumChat, pk).needs_verify is False
