"""The chat backend hooks, notifications, jobs, pages and the ``sferum sync`` command, against a served sandbox."""

from __future__ import annotations

from collections.abc import Iterator

import attrs
import pytest
from sferum_sandbox import (
    DEFAULT_APP_ID,
    DEFAULT_APP_TOKEN,
    DEFAULT_SERVICE_TOKEN,
    RunningSandbox,
    Sandbox,
    serve,
)
from sqlalchemy import delete, select

from hookspecs.types import (
    HttpRequest,
    HttpResponse,
    JobContext,
    MembershipChange,
    Page,
    Person,
    PersonKind,
    PersonStatus,
    PersonStatusChange,
    Viewer,
)
from sferum_plugin.models import ProfileLink, SferumChat, SferumSyncRequest
from sferum_plugin.permissions import CHATS_CREATE_CUSTOM, CHATS_CREATE_GROUP, CHATS_MANAGE
from sferum_plugin.services.sync.cli import run_sync_command
from sferum_plugin.views import chat_open, sync_admin
from sferum_plugin.views import chats as chat_views
from tests._sferum import no_wait_module
from tests.plugin.fakes import FakeHost

TEACHER = Viewer(user_id=10, username="t", full_name="Преподаватель", roles=frozenset({"employee"}),
                 permissions=frozenset({CHATS_CREATE_GROUP}), employee_id=1)  # fmt: skip
STUDENT = Viewer(user_id=20, username="s", full_name="Студент", roles=frozenset({"student"}),
                 permissions=frozenset({CHATS_CREATE_CUSTOM}), student_id=2)  # fmt: skip
ADMIN = Viewer(user_id=1, username="a", full_name="Админ", roles=frozenset({"admin"}))

plugin = no_wait_module()  # the module as the host registers it, without real backoff between retries
SFERUM = plugin.sferum


def new_chat(request: HttpRequest) -> Page | HttpResponse:
    return chat_views.new_chat(request, sferum=SFERUM)


@pytest.fixture
def running(sandbox: Sandbox) -> Iterator[RunningSandbox]:
    with serve(sandbox) as server:
        yield server


@pytest.fixture
def configured(host: FakeHost, sandbox: Sandbox, running: RunningSandbox) -> FakeHost:
    host.settings.installed.add("sferum")
    host.settings.stored["sferum"] = {
        "app_id": str(DEFAULT_APP_ID), "service_token": DEFAULT_SERVICE_TOKEN, "app_token": DEFAULT_APP_TOKEN,
        "api_base_url": running.url, "id_base_url": running.url, "web_url": "https://web.sferum.test",
        "requests_per_second": "100",
    }  # fmt: skip
    directory = host.directory
    directory.group_titles = {17: "ИВТ-21", 18: "ИВТ-22"}
    directory.unit_titles = {5: "Кафедра ИВТ"}
    directory.staff = {17: [1]}
    directory.persons = [
        Person(id=1, kind=PersonKind.EMPLOYEE, user_id=10, full_name="Иван Петров", unit_id=5),
        Person(id=2, kind=PersonKind.STUDENT, user_id=20, full_name="Анна Смирнова", group_id=17),
        Person(id=3, kind=PersonKind.STUDENT, user_id=30, full_name="Борис Орлов", group_id=17),
    ]
    with host.db.session() as session:
        for user_id in (10, 20, 30):
            sferum_id = sandbox.add_user("U", str(user_id))
            session.add(ProfileLink(platform="vk", app_id=DEFAULT_APP_ID, user_id=user_id, sferum_user_id=sferum_id,
                                    display_name=f"U {user_id}", linked_at=host.clock.now()))  # fmt: skip
    return host


def _request(host: FakeHost, viewer: Viewer, method: str = "GET", **kwargs: object) -> HttpRequest:
    return HttpRequest(method=method, path="/", viewer=viewer, host=host, csrf_token="tok", **kwargs)  # type: ignore[arg-type]


def test_backend_is_offered_and_lists_the_viewers_chats_with_open_in_sferum(configured: FakeHost) -> None:
    assert [b.title for b in plugin.lms_chat_backends()] == ["Внешняя система «Сферум»"]
    reply = new_chat(_request(configured, TEACHER, "POST", form={"kind": "group", "group_id": "17",
                                                                           "title": "ИВТ-21"}))  # fmt: skip
    assert isinstance(reply, HttpResponse)
    assert reply.status == 303
    listed = plugin.lms_chat_list(backend="sferum", viewer=STUDENT, host=configured)
    assert listed is not None
    assert [(c.title, c.kind, c.open_label) for c in listed] == [("ИВТ-21", "group", "Открыть в Сферум")]
    assert listed[0].members == 4  # the two students, their teacher and the organisation account
    (chat_pk,) = [row.id for row in _chat_rows(configured)]
    assert listed[0].url == f"/m/sferum/chat_open/{chat_pk}"  # the module's own address, not the invite link
    assert plugin.lms_chat_list(backend="native", viewer=STUDENT, host=configured) is None


def _chat_rows(host: FakeHost) -> list[SferumChat]:
    with host.db.session() as session:
        rows = list(session.scalars(select(SferumChat).order_by(SferumChat.id)))
        session.expunge_all()
        return rows


def _group_chat(host: FakeHost) -> int:
    reply = new_chat(_request(host, TEACHER, "POST", form={"kind": "group", "group_id": "17",
                                                                     "title": "ИВТ-21"}))  # fmt: skip
    assert isinstance(reply, HttpResponse)
    (row,) = _chat_rows(host)
    assert row.state == "active"
    return row.id


def _open(host: FakeHost, viewer: Viewer, chat_pk: object) -> Page | HttpResponse:
    return chat_open.open_chat(_request(host, viewer, path_params={"chat_pk": str(chat_pk)}), sferum=SFERUM)


def test_open_in_sferum_redirects_a_member_to_the_invite_link_asked_of_sferum_once(
    configured: FakeHost, sandbox: Sandbox
) -> None:
    pk = _group_chat(configured)
    first = _open(configured, STUDENT, pk)
    assert isinstance(first, HttpResponse)
    assert first.status == 302
    link = first.headers["Location"]
    assert "/join/" in link
    assert first.headers["Cache-Control"] == "no-store"
    assert sandbox.request_counts()["messages.getInviteLink"] == 1
    again = _open(configured, TEACHER, pk)
    assert isinstance(again, HttpResponse)
    assert again.headers["Location"] == link
    assert sandbox.request_counts()["messages.getInviteLink"] == 1  # the stored link served the second click
    (row,) = _chat_rows(configured)
    assert row.invite_link is not None
    assert "join" not in row.invite_link  # stored encrypted
    assert link not in row.invite_link


def test_open_in_sferum_is_refused_to_people_outside_the_chat_without_asking_sferum(
    configured: FakeHost, sandbox: Sandbox
) -> None:
    pk = _group_chat(configured)
    outsider = Viewer(user_id=99, username="x", full_name="Посторонний", roles=frozenset({"student"}))
    hostile = ((STUDENT, "1 OR 1=1"), (STUDENT, ""), (STUDENT, "²"), (STUDENT, "9" * 40))
    for viewer, chat_pk in ((outsider, pk), (STUDENT, pk + 1), *hostile):
        page = _open(configured, viewer, chat_pk)
        assert isinstance(page, Page)
        assert page.status == 404
        assert "Чат не найден" in page.body_html
    assert sandbox.request_counts().get("messages.getInviteLink", 0) == 0
    # A chat manager who is not in the chat may see its state page but not join it through the invite link.
    manager = Viewer(user_id=98, username="m", full_name="Менеджер", roles=frozenset({"employee"}),
                     permissions=frozenset({CHATS_MANAGE}))  # fmt: skip
    assert isinstance(_open(configured, manager, pk), Page)
    assert isinstance(_open(configured, TEACHER, pk), HttpResponse)  # staff of the group: a member


def test_a_changed_application_token_makes_the_stored_link_be_asked_for_again(
    configured: FakeHost, sandbox: Sandbox
) -> None:
    pk = _group_chat(configured)
    assert isinstance(_open(configured, STUDENT, pk), HttpResponse)  # stored, encrypted with the old token
    from sferum_plugin.services import chat_links

    class Counting:
        calls = 0

        def get_invite_link(self, chat_id: int, *, reset: bool = False) -> str:
            Counting.calls += 1
            return "https://sferum.test/join/new"

    for _ in range(2):
        link = chat_links.invite_link(configured.db, Counting(), pk, app_token="a different token")
        assert link == "https://sferum.test/join/new"
    assert Counting.calls == 1  # asked once, then read back with the new token's key


def test_a_chat_deleted_in_sferum_is_marked_when_someone_opens_it(configured: FakeHost, sandbox: Sandbox) -> None:
    pk = _group_chat(configured)
    sandbox.delete_all_chats()
    page = _open(configured, STUDENT, pk)
    assert isinstance(page, Page)
    assert page.status == 410
    (row,) = _chat_rows(configured)
    assert (row.state, row.invite_link) == ("vanished", None)


def test_open_in_sferum_says_when_sferum_cannot_be_asked(configured: FakeHost, sandbox: Sandbox) -> None:
    pk = _group_chat(configured)
    sandbox.faults.inject("messages.getInviteLink", times=10, error_code=10)
    page = _open(configured, STUDENT, pk)
    assert isinstance(page, Page)
    assert page.status == 502
    assert "Не удалось получить ссылку на чат" in page.body_html
    (row,) = _chat_rows(configured)
    assert row.invite_link is None


@pytest.mark.parametrize(
    ("code", "advice", "english"),
    [
        (10, "Попробуйте ещё раз через несколько минут", "try again in a few minutes"),
        (6, "Попробуйте ещё раз через минуту", "try again in a minute"),
    ],
)
def test_open_in_sferum_tells_the_reader_what_to_do_and_promises_no_retry(
    configured: FakeHost, sandbox: Sandbox, code: int, advice: str, english: str
) -> None:
    pk = _group_chat(configured)
    sandbox.faults.inject("messages.getInviteLink", times=20, error_code=code)
    page = _open(configured, STUDENT, pk)
    assert isinstance(page, Page)
    assert advice in page.body_html
    assert "будет повторена" not in page.body_html  # a click is not repeated by anything
    in_english = _open(configured, attrs.evolve(STUDENT, locale="en"), pk)
    assert isinstance(in_english, Page)
    assert english in in_english.body_html
    assert "will be retried" not in in_english.body_html


def test_teacher_cannot_create_a_chat_for_a_group_they_do_not_teach(configured: FakeHost, sandbox: Sandbox) -> None:
    page = new_chat(_request(configured, TEACHER, "POST", form={"kind": "group", "group_id": "18",
                                                                          "title": "Чужая"}))  # fmt: skip
    assert isinstance(page, Page)
    assert page.status == 400
    assert "Недостаточно прав" in page.body_html
    assert sandbox.state()["chats"] == []


def test_title_with_control_characters_is_refused(configured: FakeHost) -> None:
    page = new_chat(_request(configured, STUDENT, "POST", form={"kind": "custom", "title": "a\x07b"}))
    assert isinstance(page, Page)
    assert "управляющих символов" in page.body_html


def test_student_creates_a_custom_chat_with_people_found_by_search(configured: FakeHost, sandbox: Sandbox) -> None:
    form = _request(configured, STUDENT, args={"q": "Борис"})
    page = new_chat(form)
    assert isinstance(page, Page)
    assert 'value="30"' in page.body_html
    assert "tok" in page.body_html
    reply = new_chat(_request(configured, STUDENT, "POST", form={"kind": "custom", "title": "Проект"},
                                         form_lists={"members": ("30",)}))  # fmt: skip
    assert isinstance(reply, HttpResponse)
    (chat,) = sandbox.state()["chats"]
    assert chat["title"].startswith("Проект [c")
    assert len(chat["members"]) == 3


def test_notifications_only_queue_requests(configured: FakeHost, sandbox: Sandbox) -> None:
    plugin.lms_people_status_changed(changes=[PersonStatusChange(2, PersonKind.STUDENT, PersonStatus.ACTIVE,
                                                                 PersonStatus.EXPELLED)], host=configured)  # fmt: skip
    plugin.lms_memberships_changed(changes=[MembershipChange(3, PersonKind.STUDENT, 17, 18)], host=configured)
    with configured.db.session() as session:
        scopes = set(session.scalars(select(SferumSyncRequest.scope)))
    assert scopes == {"student:2", "group:17", "group:18", "student:3"}
    assert sandbox.request_counts() == {}


def test_queue_job_creates_bulk_requested_chats_and_admin_page_shows_them(
    configured: FakeHost, sandbox: Sandbox
) -> None:
    reply = chat_views.bulk_create(_request(configured, ADMIN, "POST", form={"prefix": "ивт"}), sferum=SFERUM)
    assert isinstance(reply, HttpResponse)
    jobs = {job.name: job for job in plugin.lms_background_jobs()}
    jobs["sferum.sync_queue"].run(JobContext(host=configured, now=configured.clock.now()))
    assert sorted(c["title"] for c in sandbox.state()["chats"]) == ["ИВТ-21 [g17]", "ИВТ-22 [g18]"]
    jobs["sferum.sync_full"].run(JobContext(host=configured, now=configured.clock.now()))
    page = sync_admin.sync_page(_request(configured, ADMIN, args={"preview": "1"}))
    assert "ИВТ-21" in page.body_html
    assert "Изменений нет." in page.body_html
    assert "полная сверка" in page.body_html
    assert "Синхронизировать сейчас" in page.body_html
    local = configured.clock.now().astimezone(configured.clock.timezone).strftime("%d.%m.%Y %H:%M")
    assert local in page.body_html  # last sync and history in the organisation's time, as people read it
    assert "+00:00" not in page.body_html
    progress = chat_views.bulk_create(_request(configured, ADMIN), sferum=SFERUM)
    assert isinstance(progress, Page)
    assert "2 / 2" in progress.body_html


def test_section_action_is_offered_to_those_who_may_create_chats(configured: FakeHost) -> None:
    actions = plugin.lms_section_actions(section="chats", viewer=TEACHER, host=configured)
    assert actions is not None
    assert actions[0].label == "Создать чат в Сферум"
    nobody = Viewer(user_id=99, username="n", full_name="N")
    assert plugin.lms_section_actions(section="chats", viewer=nobody, host=configured) is None
    assert any(p.code == CHATS_MANAGE for p in plugin.lms_permissions())


HOST: FakeHost | None = None


def make_host() -> FakeHost:
    assert HOST is not None
    return HOST


def test_sync_command_finds_the_host_and_runs_a_dry_run_then_a_pass(
    configured: FakeHost, sandbox: Sandbox, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    global HOST
    HOST = configured
    chat_views.bulk_create(_request(configured, ADMIN, "POST", form={"group_ids": "17"},
                                    form_lists={"group_ids": ("17",)}), sferum=SFERUM)  # fmt: skip
    monkeypatch.setenv("SFERUM_HOST", f"{__name__}:make_host")
    assert run_sync_command(sferum=SFERUM, host_spec=None, loop=False, full=False, dry_run=True, chat_ids=()) == 0
    assert sandbox.state()["chats"] == []
    assert run_sync_command(sferum=SFERUM, host_spec=None, loop=True, full=False, dry_run=False, chat_ids=(),
                            sleep=lambda _: None, max_rounds=2) == 0  # fmt: skip
    assert "created=1" in capsys.readouterr().out
    with configured.db.session() as session:
        assert session.scalar(select(SferumChat.state)) == "active"


def test_on_sqlite_the_job_skips_its_pass_while_another_worker_runs_one(
    configured: FakeHost, sandbox: Sandbox, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    from sferum_plugin.models import SferumSyncWorker
    from sferum_plugin.services.sync.jobs import BUSY_NOTE, run_for_host

    global HOST
    HOST = configured
    chat_views.bulk_create(_request(configured, ADMIN, "POST", form_lists={"group_ids": ("17",)}), sferum=SFERUM)
    now = configured.clock.now()
    with configured.db.session() as session:
        session.add(SferumSyncWorker(holder="cron:42", platform="vk", app_id=DEFAULT_APP_ID, started_at=now,
                                     until=now + timedelta(minutes=10)))  # fmt: skip
    report = run_for_host(configured, SFERUM)
    assert report is not None
    assert report.note == BUSY_NOTE
    assert sandbox.request_counts() == {}  # not a single Sferum request
    monkeypatch.setenv("SFERUM_HOST", f"{__name__}:make_host")
    assert run_sync_command(sferum=SFERUM, host_spec=None, loop=False, full=False, dry_run=False, chat_ids=()) == 0
    assert "note=" in capsys.readouterr().out
    with configured.db.session() as session:
        assert session.scalar(select(SferumChat.state)) == "creating"  # left for the next run
        session.execute(delete(SferumSyncWorker))
    report = run_for_host(configured, SFERUM)
    assert report is not None
    assert (report.note, report.created) == (None, 1)
    with configured.db.session() as session:
        assert session.scalars(select(SferumSyncWorker)).all() == []  # the worker left when its pass ended


def test_hostile_numbers_in_the_chat_form_get_a_page_not_an_error(configured: FakeHost, sandbox: Sandbox) -> None:
    for raw in ("²", "١٧", "9" * 40):
        page = new_chat(_request(configured, TEACHER, "POST", form={"kind": "group", "group_id": raw,
                                                                              "title": "Чат"},
                                            form_lists={"members": (raw,)}))  # fmt: skip
        assert isinstance(page, Page)
        assert page.status == 400
        view = chat_views.chat_view(_request(configured, TEACHER, path_params={"chat_pk": raw}))
        assert view.status == 404
    assert sandbox.state()["chats"] == []


def test_a_custom_chat_takes_only_people_with_an_active_record(configured: FakeHost, sandbox: Sandbox) -> None:
    configured.directory.persons.append(Person(id=4, kind=PersonKind.STUDENT, user_id=40, full_name="Отчисленный",
                                               group_id=17, status=PersonStatus.EXPELLED))  # fmt: skip
    for crafted in (("40",), ("777",), tuple(str(n) for n in range(1000, 1501))):
        page = new_chat(_request(configured, STUDENT, "POST", form={"kind": "custom", "title": "Проект"},
                                            form_lists={"members": crafted}))  # fmt: skip
        assert isinstance(page, Page)
        assert page.status == 400
    assert sandbox.state()["chats"] == []
    with configured.db.session() as session:
        assert session.scalars(select(SferumChat)).all() == []


def test_the_bulk_progress_and_a_chat_being_created_refresh_themselves_until_done(
    configured: FakeHost, sandbox: Sandbox
) -> None:
    chat_views.bulk_create(_request(configured, ADMIN, "POST", form_lists={"group_ids": ("17",)}), sferum=SFERUM)
    progress = chat_views.bulk_create(_request(configured, ADMIN), sferum=SFERUM)
    (row,) = _chat_rows(configured)
    view = chat_views.chat_view(_request(configured, ADMIN, path_params={"chat_pk": str(row.id)}))
    assert isinstance(progress, Page)
    assert 'http-equiv="refresh"' in progress.body_html
    assert 'http-equiv="refresh"' in view.body_html
    from sferum_plugin.services.sync.jobs import run_for_host

    run_for_host(configured, SFERUM)
    progress = chat_views.bulk_create(_request(configured, ADMIN), sferum=SFERUM)
    view = chat_views.chat_view(_request(configured, ADMIN, path_params={"chat_pk": str(row.id)}))
    assert isinstance(progress, Page)
    assert 'http-equiv="refresh"' not in progress.body_html
    assert 'http-equiv="refresh"' not in view.body_html


def test_default_chat_rights_follow_teaching_curating_and_ones_own_unit(configured: FakeHost) -> None:
    from sferum_plugin.permissions import CHATS_CREATE_UNIT
    from sferum_plugin.services.chats import can_create

    head = Viewer(user_id=10, username="t", full_name="Преподаватель", roles=frozenset({"employee"}),
                  permissions=frozenset({CHATS_CREATE_GROUP, CHATS_CREATE_UNIT}), employee_id=1)  # fmt: skip
    cases = [
        (TEACHER, "group", 17, True),  # staff of ИВТ-21
        (TEACHER, "group", 18, False),  # not a group of theirs
        (TEACHER, "unit", 5, False),  # their unit, but no unit right
        (TEACHER, "custom", None, False),  # no custom right
        (head, "unit", 5, True),  # their own unit
        (head, "unit", 6, False),  # another unit
        (STUDENT, "custom", None, True),
        (STUDENT, "group", 17, False),  # not an employee
        (ADMIN, "unit", 6, True),
        (ADMIN, "group", 18, True),
    ]
    assert [can_create(configured, v, kind, target) for v, kind, target, _ in cases] == [c[3] for c in cases]
    configured.directory.persons[0] = attrs.evolve(configured.directory.persons[0], status=PersonStatus.DISMISSED)
    assert not can_create(configured, head, "unit", 5)  # a dismissed employee has no unit of their own
