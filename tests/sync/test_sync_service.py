"""The sync service against the in-process Sferum sandbox: creation, triggers, diffs, faults, drift."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from hookspecs.types import PersonKind, PersonStatus
from sferum_plugin.models import ProfileEvent, SferumSyncOperation
from tests.sync.world import World

S, E = PersonKind.STUDENT, PersonKind.EMPLOYEE


def _group_with_students(world: World, n: int = 3, group_id: int = 17) -> list:
    teacher = world.person(E, unit_id=5)
    world.group(group_id, "ИВТ-21", staff=(teacher.id,))
    return [teacher, *(world.person(S, group_id=group_id) for _ in range(n))]


def test_group_chat_is_created_with_students_staff_and_owner(world: World) -> None:
    people = _group_with_students(world)
    pk = world.request("group", 17, "ИВТ-21")
    report = world.sync()
    assert report.created == 1
    chat = world.chat(pk)
    assert chat.state == "active"
    assert world.box.state()["chats"][0]["title"] == "ИВТ-21 [g17]"
    expected = {world.sferum_of[p.user_id] for p in people} | {world.box.org_user_id}
    assert world.sferum_members(pk) == expected == world.desired(pk)


def test_asking_twice_for_a_group_chat_returns_the_existing_one(world: World) -> None:
    _group_with_students(world)
    first = world.request("group", 17)
    assert world.request("group", 17) == first
    world.sync()
    assert len(world.box.state()["chats"]) == 1


def test_expelled_student_is_removed_and_enrolled_one_added_within_one_queue_pass(world: World) -> None:
    _teacher, anna, _boris, _ = _group_with_students(world)
    pk = world.request("group", 17)
    world.sync()
    world.set_status(anna, PersonStatus.EXPELLED)
    newcomer = world.person(S, group_id=17)
    before = world.box.request_counts().get("execute", 0)
    world.notify(f"student:{anna.id}", f"student:{newcomer.id}")
    report = world.sync()
    assert (report.added, report.removed) == (1, 1)
    assert world.box.request_counts()["execute"] - before == 1  # both changes in one execute request
    assert world.sferum_members(pk) == world.desired(pk)
    assert world.sferum_of[anna.user_id] not in world.sferum_members(pk)


def test_a_pass_with_no_changes_makes_no_request(world: World) -> None:
    _group_with_students(world)
    world.request("group", 17)
    world.sync()
    counts = world.box.request_counts()
    world.notify("all")
    report = world.sync()
    assert (report.added, report.removed, report.requests) == (0, 0, 0)
    assert world.box.request_counts() == counts


def test_person_linking_after_enrolment_is_added_and_the_event_consumed(world: World) -> None:
    _group_with_students(world)
    late = world.person(S, group_id=17, linked=False)
    pk = world.request("group", 17)
    world.sync()
    assert world.sferum_of[late.user_id] not in world.sferum_members(pk)
    world.link(late.user_id)
    world.sync()
    assert world.sferum_of[late.user_id] in world.sferum_members(pk)
    with world.host.db.session() as session:
        assert session.scalar(select(func.count()).where(ProfileEvent.processed_at.is_(None))) == 0


def test_unmanaged_members_and_unlinked_people_are_never_removed(world: World) -> None:
    _, anna, *_ = _group_with_students(world)
    pk = world.request("group", 17)
    world.sync()
    stranger = world.box.add_user("Чужой", "Человек")
    world.api.add_chat_member(world.chat(pk).chat_id or 0, stranger)
    world.unlink(anna.user_id)
    world.set_status(anna, PersonStatus.EXPELLED)
    world.sync(full=True)
    members = world.sferum_members(pk)
    assert stranger in members
    assert world.sferum_of[anna.user_id] in members
    world.sync(full=True, strict=True)
    assert stranger not in world.sferum_members(pk)
    assert world.box.org_user_id in world.sferum_members(pk)


def test_full_pass_repairs_drift(world: World) -> None:
    _, anna, *_ = _group_with_students(world)
    pk = world.request("group", 17)
    world.sync()
    world.api.remove_chat_member(world.chat(pk).chat_id or 0, world.sferum_of[anna.user_id])
    world.sync()  # the known state still says anna is there: a queue pass sees nothing to do
    assert world.sferum_of[anna.user_id] not in world.sferum_members(pk)
    report = world.sync(full=True)
    assert report.added == 1
    assert world.sferum_members(pk) == world.desired(pk)


def test_dropped_create_chat_does_not_duplicate_the_chat(world: World) -> None:
    _group_with_students(world)
    pk = world.request("group", 17)
    world.box.faults.inject("messages.createChat", drop_after_apply=True)
    world.sync()
    assert world.chat(pk).state == "unknown"
    world.sync()
    assert world.chat(pk).state == "active"
    assert len(world.box.state()["chats"]) == 1
    assert world.sferum_members(pk) == world.desired(pk)


def test_create_chat_dropped_before_apply_is_created_once_later(world: World) -> None:
    _group_with_students(world)
    pk = world.request("group", 17)
    world.box.faults.inject("messages.createChat", drop=True)
    world.sync()
    world.sync()
    assert len(world.box.state()["chats"]) == 1
    assert world.chat(pk).state == "active"


def test_quota_error_pauses_the_whole_service_until_resume_time(world: World) -> None:
    _, anna, *_ = _group_with_students(world)
    pk = world.request("group", 17)
    world.sync()
    world.set_status(anna, PersonStatus.EXPELLED)
    world.box.faults.inject("execute", error_code=9)
    world.notify("group:17")
    report = world.sync()
    assert report.paused_until is not None
    world.notify("group:17")
    assert world.sync().requests == 0  # paused
    world.host.clock.current += timedelta(hours=2)
    world.sync()
    assert world.sferum_members(pk) == world.desired(pk)


def test_permanent_failure_stops_retrying_and_is_recorded(world: World) -> None:
    _group_with_students(world)
    pk = world.request("group", 17)
    world.sync()
    newcomer = world.person(S, group_id=17)
    world.box.faults.inject("messages.addChatUser", error_code=15)
    world.notify("group:17")
    world.sync()
    world.notify("group:17")
    world.sync(full=True)
    with world.host.db.session() as session:
        op = session.scalars(select(SferumSyncOperation).where(SferumSyncOperation.state == "failed")).one()
        assert op.sferum_user_id == world.sferum_of[newcomer.user_id]
        assert op.attempts == 1
        assert op.last_error
        assert "приватности" in op.last_error
    assert world.sferum_of[newcomer.user_id] not in world.sferum_members(pk)


def test_vanished_chat_is_marked_and_can_be_recreated(world: World) -> None:
    from sferum_plugin.services import chats

    _group_with_students(world)
    pk = world.request("group", 17)
    world.sync()
    world.box.delete_all_chats()  # someone deleted the chat in Sferum
    world.sync(full=True)
    assert world.chat(pk).state == "vanished"
    assert chats.recreate(world.host, pk, world.host.clock.now())
    world.sync()
    assert world.chat(pk).state == "active"
    assert world.sferum_members(pk) == world.desired(pk)


def test_crash_between_sending_and_commit_is_reconciled_against_the_real_list(world: World) -> None:
    from sqlalchemy import update

    from sferum_plugin.models import SferumChatMember

    _, anna, *_ = _group_with_students(world)
    pk = world.request("group", 17)
    world.sync()
    world.set_status(anna, PersonStatus.EXPELLED)
    world.notify("group:17")
    world.sync()
    # Pretend the worker died after Sferum removed anna but before recording it.
    with world.host.db.session() as session:
        session.execute(
            update(SferumSyncOperation).where(SferumSyncOperation.action == "remove").values(state="sending")
        )
        session.add(SferumChatMember(chat_pk=pk, sferum_user_id=world.sferum_of[anna.user_id]))
    before = world.box.request_counts().get("execute", 0)
    world.sync()
    with world.host.db.session() as session:
        op = session.scalars(select(SferumSyncOperation).where(SferumSyncOperation.action == "remove")).one()
        assert op.state == "done"
    assert world.box.request_counts()["execute"] - before == 1  # one read of the member list, no re-removal
    assert world.sferum_members(pk) == world.desired(pk)


def test_an_idle_queue_pass_leaves_no_history_row_but_a_full_pass_does(world: World) -> None:
    from sqlalchemy import func

    from sferum_plugin.models import SferumSyncPass

    _group_with_students(world)
    world.request("group", 17)
    world.sync()

    def passes() -> int:
        with world.host.db.session() as session:
            return session.scalar(select(func.count()).select_from(SferumSyncPass)) or 0

    before = passes()
    world.sync()
    world.sync()
    assert passes() == before  # nothing queued, nothing done: the 10-second job does not fill the history
    world.sync(full=True)
    assert passes() == before + 1


def test_the_owner_of_a_chat_stays_in_it_even_in_strict_mode(world: World) -> None:
    from sferum_plugin.services import chats
    from tests.sync.world import ADMIN

    teacher, *_ = _group_with_students(world)
    made = chats.request_chat(world.host, ADMIN, account=world.account, kind="group", target_id=17, title="ИВТ-21")
    world.sferum_of[ADMIN.user_id] = world.box.add_user("Админ", "ЛК")
    world.link(ADMIN.user_id)
    world.sync()
    admin_in_sferum = world.sferum_of[ADMIN.user_id]
    assert admin_in_sferum in world.sferum_members(made.chat_pk)  # the owner, though neither student nor staff
    world.group(17, "ИВТ-21", staff=())  # the teacher no longer teaches the group
    world.notify("group:17")
    world.sync(strict=True)
    members = world.sferum_members(made.chat_pk)
    assert world.sferum_of[teacher.user_id] not in members
    assert admin_in_sferum in members


def test_an_owner_removed_behind_our_back_is_put_back_by_the_full_pass(world: World) -> None:
    from sferum_plugin.services import chats
    from tests.sync.world import ADMIN

    _group_with_students(world)
    made = chats.request_chat(world.host, ADMIN, account=world.account, kind="group", target_id=17, title="ИВТ-21")
    world.sferum_of[ADMIN.user_id] = world.box.add_user("Админ", "ЛК")
    world.link(ADMIN.user_id)
    world.sync()
    chat_id = world.chat(made.chat_pk).chat_id
    world.box.remove_chat_member(chat_id, world.sferum_of[ADMIN.user_id])
    world.sync(full=True)
    assert world.sferum_of[ADMIN.user_id] in world.sferum_members(made.chat_pk)
