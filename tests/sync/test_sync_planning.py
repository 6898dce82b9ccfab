"""The pure parts of the sync service: desired members, the diff, title rules, failure reasons."""

from __future__ import annotations

import pytest

from hookspecs.types import Person, PersonKind, PersonStatus
from sferum_plugin.gateway.errors import (
    ChatNotFoundError,
    ContactNotFoundError,
    QuotaExceededError,
    RetryableApiError,
)
from sferum_plugin.services.chats import ChatRefused, validate_title
from sferum_plugin.services.sync import ChatTarget, desired_members, membership_diff
from sferum_plugin.services.sync.reasons import Verdict, backoff, verdict_of
from tests.plugin.fakes import FakeDirectory

ORG = 1000


def _directory() -> FakeDirectory:
    directory = FakeDirectory(staff={17: [9]})
    directory.persons = [
        Person(id=1, kind=PersonKind.STUDENT, user_id=11, full_name="A", group_id=17),
        Person(id=2, kind=PersonKind.STUDENT, user_id=12, full_name="B", group_id=17, status=PersonStatus.EXPELLED),
        Person(id=3, kind=PersonKind.STUDENT, user_id=None, full_name="C", group_id=17),
        Person(id=4, kind=PersonKind.STUDENT, user_id=14, full_name="D", group_id=17),
        Person(id=9, kind=PersonKind.EMPLOYEE, user_id=19, full_name="T", unit_id=5),
        Person(id=8, kind=PersonKind.EMPLOYEE, user_id=18, full_name="U", unit_id=5, status=PersonStatus.DISMISSED),
    ]
    return directory


def test_group_chat_wants_active_linked_students_staff_and_owner_others_wait() -> None:
    directory = _directory()
    links = {11: 2011, 12: 2012, 19: 2019, 18: 2018}
    chats = [ChatTarget(1, "group", 17), ChatTarget(2, "unit", 5), ChatTarget(3, "custom", None)]
    desired = desired_members(directory, chats, links=links, listed={3: [11, 12, 77]}, org_user_id=ORG)
    assert desired[1].members == {2011, 2019, ORG}
    assert desired[1].waiting == {"student:3", "student:4"}  # no account; an account without a profile
    assert desired[2].members == {2019, ORG}  # the dismissed employee is not wanted
    assert desired[3].members == {2011, ORG}  # the expelled student's account and an unknown one are left out
    assert directory.calls.count("group_members") == 1
    assert directory.calls.count("people_by_user") == 1


def test_directory_is_queried_once_per_kind_whatever_the_number_of_chats() -> None:
    directory = _directory()
    chats = [ChatTarget(pk, "group", 17 + pk % 3) for pk in range(50)]
    desired_members(directory, chats, links={}, listed={}, org_user_id=None)
    assert sorted(directory.calls) == ["group_members", "group_staff"]


def test_diff_never_removes_unmanaged_or_protected_members_unless_strict() -> None:
    diff = membership_diff(1, {1, 2, ORG}, {2, 3, 4, ORG}, managed={1, 2, 3}, protected={ORG})
    assert (diff.add, diff.remove) == ({1}, {3})  # 4 is not linked to the LK: left alone
    strict = membership_diff(1, {1, 2}, {2, 3, 4, ORG}, managed={1, 2, 3}, protected={ORG}, strict=True)
    assert strict.remove == {3, 4}  # the owner stays even in strict mode
    assert membership_diff(1, {1}, {1}, managed={1}, protected=set()).empty


@pytest.mark.parametrize("title", ["", "   ", "x" * 101, "a\nb", "a\x07b", "a\u200bb"])
def test_bad_titles_are_refused(title: str) -> None:
    with pytest.raises(ChatRefused):
        validate_title(title)


def test_title_is_trimmed() -> None:
    assert validate_title("  ИВТ-21   чат ") == "ИВТ-21 чат"


def test_failures_are_classified() -> None:
    from datetime import UTC, datetime

    quota = QuotaExceededError(9, "flood", retry_after=600, resume_at=datetime.now(UTC))
    assert verdict_of(quota) is Verdict.PAUSE
    assert verdict_of(ChatNotFoundError(927, "gone")) is Verdict.VANISHED
    assert verdict_of(ContactNotFoundError(936, "no")) is Verdict.FAILED
    assert verdict_of(RetryableApiError(10, "server")) is Verdict.RETRY
    assert backoff(1).total_seconds() == 30
    assert backoff(20).total_seconds() == 3600


def test_every_chat_holds_its_owner_linked_or_waiting_whatever_their_records() -> None:
    directory = _directory()
    links = {11: 2011, 19: 2019, 42: 2042}
    chats = [ChatTarget(1, "group", 17, owner_user_id=42), ChatTarget(2, "unit", 5, owner_user_id=43)]
    desired = desired_members(directory, chats, links=links, listed={}, org_user_id=ORG)
    assert 2042 in desired[1].members  # an administrator with no student or employee record: still a member
    assert "user:43" in desired[2].waiting  # an owner without a profile waits like anyone else
