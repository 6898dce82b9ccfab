"""One contract test per hook: how the Sferum module answers it, or (for hooks a later version of the module will
implement) that the spec dispatches as documented."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pluggy
import pytest
from sqlalchemy import Engine, inspect

from hookspecs import get_plugin_manager, hookimpl
from hookspecs.types import (
    Action,
    ChatBackendInfo,
    ChatSummary,
    HttpRequest,
    JobContext,
    LessonCard,
    LessonRef,
    MembershipChange,
    ModuleInfo,
    Page,
    PersonKind,
    PersonStatus,
    PersonStatusChange,
    Viewer,
)
from sferum_plugin import plugin as sferum
from sferum_plugin.permissions import ONLINE_LESSONS_VIEW
from tests.plugin.fakes import FakeDatabase, FakeHost

TZ = ZoneInfo("Europe/Moscow")
STUDENT = Viewer(user_id=7, username="student", full_name="Студент", roles=frozenset({"student"}))


@pytest.fixture
def pm() -> pluggy.PluginManager:
    return get_plugin_manager(load_entrypoints=False, plugins=[sferum])


@pytest.fixture
def host(tmp_path) -> FakeHost:
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{tmp_path / 'lms.sqlite3'}")
    yield FakeHost(db=FakeDatabase(engine))
    engine.dispose()


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


class Recorder:
    """A second plugin that records what the host passed to it."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, object]]] = []


# --- lifecycle ---------------------------------------------------------------------------------------------------


def test_hook_lms_module_info(pm: pluggy.PluginManager) -> None:
    (info,) = pm.hook.lms_module_info()
    assert info == ModuleInfo(
        name="sferum",
        title="Модуль интеграции Сферум-Тандем",
        version=info.version,
        description=info.description,
    )
    assert info.version


def test_hook_lms_module_install(pm: pluggy.PluginManager, host: FakeHost) -> None:
    pm.hook.lms_module_install(module="another", host=host)
    assert not _tables(host.db.engine)
    pm.hook.lms_module_install(module="sferum", host=host)
    assert "sferum_profile_links" in _tables(host.db.engine)


def test_hook_lms_module_uninstall(pm: pluggy.PluginManager, host: FakeHost) -> None:
    pm.hook.lms_module_install(module="sferum", host=host)
    pm.hook.lms_module_uninstall(module="sferum", host=host, keep_data=True)
    assert "sferum_profile_links" in _tables(host.db.engine)
    pm.hook.lms_module_uninstall(module="sferum", host=host, keep_data=False)
    assert not {t for t in _tables(host.db.engine) if t.startswith("sferum_")}


def test_hook_lms_module_upgrade(pm: pluggy.PluginManager, host: FakeHost) -> None:
    from sferum_plugin.services import install

    pm.hook.lms_module_install(module="sferum", host=host)
    install.downgrade(host.db.engine, "base")
    pm.hook.lms_module_upgrade(module="sferum", host=host, from_version="0.0.1")
    assert install.current_revision(host.db.engine) == install.head_revision()


# --- settings ----------------------------------------------------------------------------------------------------


def test_hook_lms_settings_fields(pm: pluggy.PluginManager) -> None:
    (own,) = pm.hook.lms_settings_fields(module="sferum")
    labels = [field.label for field in own]
    assert labels[:3] == ["APP ID", "Сервисный токен", "Токен приложения"]
    assert [f.name for f in own if f.secret] == ["service_token", "app_token"]
    (schedule,) = pm.hook.lms_settings_fields(module="schedule")
    assert [f.label for f in schedule] == ["Подсказка для онлайн-занятий «Сферум»"]
    assert pm.hook.lms_settings_fields(module="main") == []


def test_hook_lms_settings_validate(pm: pluggy.PluginManager, host: FakeHost) -> None:
    (errors,) = pm.hook.lms_settings_validate(
        module="sferum", values={"app_id": "-1", "service_token": "s" * 20, "app_token": "a" * 20}, host=host
    )
    assert [e.field for e in errors] == ["app_id"]
    assert pm.hook.lms_settings_validate(module="main", values={"chat_type": "x"}, host=host) == []


# --- permissions and UI ------------------------------------------------------------------------------------------


def test_hook_lms_permissions(pm: pluggy.PluginManager) -> None:
    (permissions,) = pm.hook.lms_permissions()
    view = next(p for p in permissions if p.code == ONLINE_LESSONS_VIEW)
    assert (view.section, view.title) == ("Расписание", "Просмотр раздела онлайн-занятий (Сферум)")


def test_hook_lms_menu_items(pm: pluggy.PluginManager, host: FakeHost) -> None:
    assert pm.hook.lms_menu_items(viewer=STUDENT, host=host) == []
    granted = Viewer(user_id=7, username="student", full_name="С", permissions=frozenset({ONLINE_LESSONS_VIEW}))
    ((item,),) = pm.hook.lms_menu_items(viewer=granted, host=host)
    assert (item.title, item.url) == ("Онлайн-занятия", "/m/sferum/online_lessons")


def test_hook_lms_schedule_cards(pm: pluggy.PluginManager, host: FakeHost) -> None:
    starts = datetime(2026, 11, 30, 9, 0, tzinfo=TZ)
    lessons = [
        LessonRef(
            id=i,
            subject="Физика",
            starts_at=starts,
            ends_at=starts + timedelta(hours=1),
            group_id=1,
            teacher_id=2,
        )
        for i in range(3)
    ]
    calls: list[int] = []

    class Cards:
        @hookimpl
        def lms_schedule_cards(self, viewer: Viewer, lessons: list[LessonRef], host: object) -> dict[int, LessonCard]:
            calls.append(len(lessons))
            return {lessons[0].id: LessonCard(status="Идёт", actions=(Action(label="Войти", url="/x"),))}

    pm.register(Cards())
    results = pm.hook.lms_schedule_cards(viewer=STUDENT, lessons=lessons, host=host)
    assert calls == [3]  # one call for every lesson of the page
    assert {0: LessonCard(status="Идёт", actions=(Action(label="Войти", url="/x"),))} in results


def test_hook_lms_section_actions(pm: pluggy.PluginManager, host: FakeHost) -> None:
    class Mailing:
        @hookimpl
        def lms_section_actions(self, section: str) -> list[Action] | None:
            if section != "students":
                return None
            return [Action(label="Создать e-mail рассылку", url="/m/x/mail", method="POST", takes_selection=True)]

    pm.register(Mailing())
    assert pm.hook.lms_section_actions(section="employees", viewer=STUDENT, host=host) == []
    ((action,),) = pm.hook.lms_section_actions(section="students", viewer=STUDENT, host=host)
    assert action.takes_selection
    assert action.method == "POST"


def test_hook_lms_routes(pm: pluggy.PluginManager, host: FakeHost) -> None:
    (routes,) = pm.hook.lms_routes()
    page_route = next(r for r in routes if r.endpoint == "online_lessons")
    assert page_route.permission == ONLINE_LESSONS_VIEW
    page = page_route.handler(HttpRequest(method="GET", path="/m/sferum/online-lessons", viewer=STUDENT, host=host))
    assert isinstance(page, Page)
    assert page.title == "Онлайн-занятия"
    assert "не настроен" in page.body_html


# --- chats and jobs ----------------------------------------------------------------------------------------------


def test_hook_lms_chat_backends(pm: pluggy.PluginManager) -> None:
    class Backend:
        @hookimpl
        def lms_chat_backends(self) -> list[ChatBackendInfo]:
            return [ChatBackendInfo(code="ext", title="Внешняя система")]

    pm.register(Backend())
    assert [ChatBackendInfo(code="ext", title="Внешняя система")] in pm.hook.lms_chat_backends()


def test_hook_lms_chat_list(pm: pluggy.PluginManager, host: FakeHost) -> None:
    chat = ChatSummary(id="1", title="ИВТ-21", kind="group", url="https://x", open_label="Открыть")

    class Other:
        @hookimpl
        def lms_chat_list(self, backend: str) -> list[ChatSummary] | None:
            return None

    class Ext:
        @hookimpl
        def lms_chat_list(self, backend: str, viewer: Viewer) -> list[ChatSummary] | None:
            return [chat] if backend == "ext" else None

    pm.register(Ext())
    pm.register(Other())
    assert pm.hook.lms_chat_list(backend="ext", viewer=STUDENT, host=host) == [chat]  # first non-None result
    assert pm.hook.lms_chat_list(backend="native", viewer=STUDENT, host=host) is None


def test_hook_lms_background_jobs(pm: pluggy.PluginManager, host: FakeHost) -> None:
    pm.hook.lms_module_install(module="sferum", host=host)  # the host runs the jobs of installed modules only
    (jobs,) = pm.hook.lms_background_jobs()
    by_name = {job.name: job for job in jobs}
    assert {"sferum.end_overdue_lessons", "sferum.sync_queue", "sferum.sync_full"} <= set(by_name)
    assert by_name["sferum.sync_queue"].interval <= timedelta(seconds=30)  # notifications reach Sferum in seconds
    for job in jobs:
        assert job.description
        job.run(JobContext(host=host, now=host.clock.now()))  # an unconfigured module has nothing to do


# --- directory notifications -------------------------------------------------------------------------------------


def test_hook_lms_people_status_changed(pm: pluggy.PluginManager, host: FakeHost) -> None:
    seen: list[PersonStatusChange] = []

    class Listener:
        @hookimpl
        def lms_people_status_changed(self, changes: list[PersonStatusChange]) -> None:
            seen.extend(changes)

    pm.register(Listener())
    change = PersonStatusChange(
        person_id=5, kind=PersonKind.STUDENT, old_status=PersonStatus.ACTIVE, new_status=PersonStatus.EXPELLED
    )
    pm.hook.lms_people_status_changed(changes=[change], host=host)
    assert seen == [change]


def test_hook_lms_memberships_changed(pm: pluggy.PluginManager, host: FakeHost) -> None:
    seen: list[MembershipChange] = []

    class Listener:
        @hookimpl
        def lms_memberships_changed(self, changes: list[MembershipChange]) -> None:
            seen.extend(changes)

    pm.register(Listener())
    change = MembershipChange(person_id=5, kind=PersonKind.EMPLOYEE, old_container_id=1, new_container_id=2)
    pm.hook.lms_memberships_changed(changes=[change], host=host)
    assert seen == [change]


def test_hooks_must_be_called_with_keyword_arguments(pm: pluggy.PluginManager) -> None:
    with pytest.raises(TypeError):
        pm.hook.lms_settings_fields("sferum")


def test_a_misspelt_hook_fails_when_the_manager_is_built() -> None:
    class Typo:
        @hookimpl
        def lms_menu_item(self) -> None:  # not a hook of the contract
            return None

    with pytest.raises(pluggy.PluginValidationError):
        get_plugin_manager(load_entrypoints=False, plugins=[Typo()])


def test_a_blocked_plugin_is_not_loaded_from_its_entry_point() -> None:
    pm = get_plugin_manager(blocked=["sferum"])
    assert pm.get_plugin("sferum") is None
    assert pm.is_blocked("sferum")


def test_hook_lms_directory_filters(pm: pluggy.PluginManager, host: FakeHost) -> None:
    from hookspecs.types import DirectoryFilter

    answers = pm.hook.lms_directory_filters(section="students", viewer=STUDENT, host=host)
    assert answers == [
        [
            DirectoryFilter(
                name="sferum_profile",
                label="Учебный профиль Сферум",
                choices=(("none", "Без учебного профиля Сферум"), ("linked", "С профилем")),
            )
        ]
    ]
    assert pm.hook.lms_directory_filters(section="chats", viewer=STUDENT, host=host) == []


def test_hook_lms_filter_people(pm: pluggy.PluginManager, host: FakeHost) -> None:
    from datetime import UTC

    from hookspecs.types import Person
    from sferum_plugin.models import ProfileLink
    from sferum_plugin.services import install

    install.install(host.db.engine)
    host.settings.stored["sferum"] = {"app_id": "51234567"}
    with host.db.session() as session:
        session.add(ProfileLink(app_id=51234567, user_id=7, sferum_user_id=70, linked_at=datetime.now(UTC)))
    people = [
        Person(id=1, kind=PersonKind.STUDENT, user_id=7, full_name="С профилем"),
        Person(id=2, kind=PersonKind.STUDENT, user_id=8, full_name="Без профиля"),
        Person(id=3, kind=PersonKind.STUDENT, user_id=None, full_name="Без аккаунта"),
    ]
    call = pm.hook.lms_filter_people
    assert call(section="students", name="sferum_profile", value="none", people=people, host=host) == [2, 3]
    assert call(section="employees", name="sferum_profile", value="linked", people=people, host=host) == [1]
    assert call(section="students", name="other_filter", value="none", people=people, host=host) is None
