"""One contract test per hook: what the Sferum module itself answers when the host calls it.

Every ``test_hook_<name>`` calls the hook through a plugin manager that holds only the module (or the module and a
plugin of another module, to show that the module leaves other modules' calls alone), so deleting or breaking an
implementation fails its test.  Host-side behaviour (a failing plugin costs its contribution, not the page) is
tested against the example host in ``tests/host``.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pluggy
import pytest
from sqlalchemy import Engine, create_engine, inspect, select

from hookspecs import _specs, get_plugin_manager, hookimpl
from hookspecs.types import (
    Action,
    BackgroundJob,
    ChatBackendInfo,
    ChatSummary,
    DirectoryFilter,
    HttpRequest,
    HttpResponse,
    JobContext,
    LessonCard,
    LessonRef,
    MembershipChange,
    MenuItem,
    ModuleInfo,
    Page,
    Person,
    PersonKind,
    PersonStatus,
    PersonStatusChange,
    Viewer,
)
from sferum_plugin import __version__
from sferum_plugin import plugin as plugin_module
from sferum_plugin.gateway import RetryPolicy
from sferum_plugin.gateway.connector import SferumConnector
from sferum_plugin.models import OnlineLesson, ProfileLink, SferumChat, SferumChatMember, SferumSyncRequest
from sferum_plugin.permissions import (
    CHATS_CREATE_CUSTOM,
    CHATS_CREATE_GROUP,
    CHATS_CREATE_UNIT,
    CHATS_MANAGE,
    MAILING_SEND,
    ONLINE_LESSONS_VIEW,
)
from sferum_plugin.plugin import SferumModule
from sferum_plugin.services import install
from sferum_plugin.services.connection import SferumAccess
from tests.plugin.fakes import ORG_TZ, FakeDatabase, FakeDirectory, FakeHost

ROOT = Path(__file__).resolve().parents[2]
SPECS = sorted(name for name in vars(_specs) if name.startswith("lms_"))
APP_ID = 51234567
API = "api.sferum.test"
CONFIGURED = {
    "app_id": str(APP_ID),
    "service_token": "s" * 20,
    "app_token": "a" * 20,
    "api_base_url": f"https://{API}",
    "id_base_url": "https://id.sferum.test",
}
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=ORG_TZ)


def viewer(*permissions: str, roles: tuple[str, ...] = (), locale: str = "ru", **ids: int) -> Viewer:
    return Viewer(
        user_id=ids.pop("user_id", 7),
        username="user",
        full_name="Пользователь",
        roles=frozenset(roles),
        permissions=frozenset(permissions),
        locale=locale,
        **ids,  # type: ignore[arg-type]
    )


NOBODY = viewer()
ADMIN = viewer(roles=("admin",))
TEACHER = viewer(ONLINE_LESSONS_VIEW, user_id=1, employee_id=10)
STUDENT = viewer(ONLINE_LESSONS_VIEW, user_id=3, student_id=20)


# --- the module under test, its host and its Sferum -----------------------------------------------------------


class FakeSferum:
    """Sferum's API behind an ``httpx.MockTransport``: records each call and answers ``answers[method]``."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, str]]] = []
        self.answers: dict[str, object] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        method = request.url.path.rsplit("/", 1)[-1]
        params = dict(httpx.QueryParams(request.content.decode())) if request.content else dict(request.url.params)
        self.calls.append((request.url.host, method, params))
        if method not in self.answers:
            return httpx.Response(200, json={"error": {"error_code": 5, "error_msg": f"no answer for {method}"}})
        return httpx.Response(200, json={"response": self.answers[method]})


class ContractDirectory(FakeDirectory):
    def list_people(self, kind: PersonKind, filters: Mapping[str, str]) -> list[Person]:
        return [person for person in self.persons if person.kind == kind]


@pytest.fixture
def sferum() -> FakeSferum:
    return FakeSferum()


@pytest.fixture
def module(sferum: FakeSferum) -> SferumModule:
    """A fresh module whose way in to Sferum is ``sferum`` (one attempt per call: nothing waits)."""
    connector = SferumConnector(transport=httpx.MockTransport(sferum), retry=RetryPolicy(max_attempts=1))
    return SferumModule(SferumAccess(connector))


@pytest.fixture
def pm(module: SferumModule) -> pluggy.PluginManager:
    return get_plugin_manager(load_entrypoints=False, plugins=[module])


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'lms.sqlite3'}")
    yield engine
    engine.dispose()


@pytest.fixture
def host(engine: Engine) -> FakeHost:
    """A host on which the module is not installed yet."""
    return FakeHost(db=FakeDatabase(engine), directory=ContractDirectory())


@pytest.fixture(scope="module")
def installed_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file with the module's tables, migrated once and copied for each test that needs one."""
    path = tmp_path_factory.mktemp("installed") / "lms.sqlite3"
    engine = create_engine(f"sqlite:///{path}")
    install.install(engine)
    engine.dispose()
    return path


@pytest.fixture
def installed(host: FakeHost, installed_database: Path) -> FakeHost:
    """A host on which the module is installed but not configured."""
    database = host.db.engine.url.database
    assert database is not None
    shutil.copyfile(installed_database, database)  # before the engine's first connection
    host.settings.installed.add("sferum")
    return host


@pytest.fixture
def configured(installed: FakeHost) -> FakeHost:
    """An installed module with its credentials, a study group with a teacher and a student, and their profiles."""
    installed.settings.stored["sferum"] = dict(CONFIGURED)
    installed.clock.current = NOW
    directory = installed.directory
    directory.group_titles = {100: "ИВТ-21"}
    directory.persons = [
        Person(id=10, kind=PersonKind.EMPLOYEE, user_id=1, full_name="Преподаватель", unit_id=5),
        Person(id=20, kind=PersonKind.STUDENT, user_id=3, full_name="Студент", group_id=100),
    ]
    directory.lesson_list = [_lesson(1)]
    with installed.db.session() as session:
        for user_id in (1, 3):
            session.add(
                ProfileLink(platform="vk", app_id=APP_ID, user_id=user_id, sferum_user_id=1000 + user_id, linked_at=NOW)
            )
    return installed


def _lesson(lesson_id: int, *, day: datetime = NOW) -> LessonRef:
    starts = day.replace(hour=9, minute=0)
    return LessonRef(
        id=lesson_id, subject="Физика", starts_at=starts, ends_at=starts + timedelta(minutes=90), group_id=100,
        teacher_id=10,
    )  # fmt: skip


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def _endpoint(url: str) -> str:
    """The endpoint of a URL the fake host built (``/m/sferum/<endpoint>/<params>...``)."""
    match = re.match(r"^/m/sferum/(\w+)", url)
    assert match, f"{url} is not a URL of the module's routes"
    return match.group(1)


# --- the plugin object the host loads --------------------------------------------------------------------------


def test_the_entry_point_object_is_the_module() -> None:
    assert isinstance(plugin_module.plugin, SferumModule)
    pm = get_plugin_manager(load_entrypoints=False, plugins=[plugin_module.plugin])  # check_pending passes
    (info,) = pm.hook.lms_module_info()
    assert info.name == "sferum"


@pytest.mark.parametrize("name", SPECS)
def test_the_module_implements_every_hook_of_the_contract(
    pm: pluggy.PluginManager, module: SferumModule, name: str
) -> None:
    assert module in [impl.plugin for impl in getattr(pm.hook, name).get_hookimpls()], f"SferumModule lacks {name}"


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


# --- lifecycle -------------------------------------------------------------------------------------------------


def test_hook_lms_module_info(pm: pluggy.PluginManager) -> None:
    (info,) = pm.hook.lms_module_info()
    assert info == ModuleInfo(
        name="sferum",
        title="Модуль интеграции Сферум-Тандем",
        version=__version__,
        description="Онлайн-занятия и чаты в ИКОП «Сферум» для обучающихся и сотрудников.",
    )
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", info.version), info.version


def test_hook_lms_module_install(pm: pluggy.PluginManager, host: FakeHost) -> None:
    pm.hook.lms_module_install(module="another", host=host)
    assert not _tables(host.db.engine)
    pm.hook.lms_module_install(module="sferum", host=host)
    assert {"sferum_profile_links", "sferum_online_lessons", "sferum_chats", "sferum_sync_requests"} <= _tables(
        host.db.engine
    )
    assert install.current_revision(host.db.engine) == install.head_revision()


def test_hook_lms_module_uninstall(pm: pluggy.PluginManager, host: FakeHost) -> None:
    pm.hook.lms_module_install(module="sferum", host=host)
    pm.hook.lms_module_uninstall(module="another", host=host, keep_data=False)
    assert "sferum_profile_links" in _tables(host.db.engine)
    pm.hook.lms_module_uninstall(module="sferum", host=host, keep_data=True)
    assert "sferum_profile_links" in _tables(host.db.engine)
    pm.hook.lms_module_uninstall(module="sferum", host=host, keep_data=False)
    assert not {t for t in _tables(host.db.engine) if t.startswith("sferum_")}


def test_hook_lms_module_upgrade(pm: pluggy.PluginManager, host: FakeHost) -> None:
    pm.hook.lms_module_install(module="sferum", host=host)
    install.downgrade(host.db.engine, "base")
    pm.hook.lms_module_upgrade(module="another", host=host, from_version="0.0.1")
    assert install.current_revision(host.db.engine) != install.head_revision()
    pm.hook.lms_module_upgrade(module="sferum", host=host, from_version="0.0.1")
    assert install.current_revision(host.db.engine) == install.head_revision()


# --- settings --------------------------------------------------------------------------------------------------

MODULE_FORM = [
    # name, label, type, required, secret, section, default
    # blank (a form that predates the setting) means the default, VK Messenger; the same for MAX's two choices
    ("platform", "Платформа «Сферума»", "choice", False, False, "general", "vk"),
    # VK Messenger's credentials: required by the module's validation only while «VK Мессенджер» is chosen
    ("app_id", "APP ID", "integer", False, False, "general", ""),
    ("service_token", "Сервисный токен", "secret", False, True, "general", ""),
    ("app_token", "Токен приложения", "secret", False, True, "general", ""),
    # MAX's: the bot token is required by the module's validation only while «MAX» is chosen
    ("max_bot_token", "Токен бота", "secret", False, True, "general", ""),
    ("max_api_url", "Адрес API MAX", "url", False, False, "connection", "https://platform-api2.max.ru"),
    ("max_updates", "Как приходят события", "choice", False, False, "connection", "webhook"),
    ("max_webhook_url", "Публичный адрес для webhook", "url", False, False, "connection", ""),
    ("max_webhook_secret", "Секрет webhook", "secret", False, True, "connection", ""),
    ("api_base_url", "Адрес API Сферума", "url", True, False, "connection", "https://api.vk.me"),
    ("id_base_url", "Адрес VK ID", "url", True, False, "connection", "https://id.vk.com"),
    ("web_url", "Веб-адрес «Сферума»", "url", True, False, "connection", "https://web.vk.me"),
    ("api_version", "Версия API", "text", True, False, "connection", "5.199"),
    ("requests_per_second", "Запросов в секунду", "integer", True, False, "connection", "3"),
    ("timeout_seconds", "Тайм-аут запроса, с", "integer", True, False, "connection", "10"),
    ("auto_end_after_minutes", "Автоматически завершать онлайн-занятие через, мин", "integer", True, False,
     "lessons", "30"),
    ("sync_interval_minutes", "Интервал полной синхронизации чатов, мин", "integer", False, False, "chats", "60"),
    ("sync_strict", "Строгий режим синхронизации чатов", "boolean", False, False, "chats", "0"),
]  # fmt: skip


def test_hook_lms_settings_fields(pm: pluggy.PluginManager) -> None:
    (own,) = pm.hook.lms_settings_fields(module="sferum")
    assert [(f.name, f.label, f.type, f.required, f.secret, f.section, f.default) for f in own] == MODULE_FORM
    assert all(f.help for f in own if f.name not in ("api_version", "timeout_seconds"))
    choices = {f.name: f.choices for f in own if f.type == "choice"}
    assert choices == {
        "platform": (("vk", "VK Мессенджер"), ("max", "MAX")),
        "max_updates": (("webhook", "Webhook (рекомендуется)"), ("polling", "Long polling (опрос MAX)")),
    }
    ((hint,),) = pm.hook.lms_settings_fields(module="schedule")
    assert (hint.name, hint.label, hint.type, hint.secret) == (
        "sferum_online_lesson_hint", "Подсказка для онлайн-занятий «Сферум»", "textarea", False,
    )  # fmt: skip
    assert pm.hook.lms_settings_fields(module="main") == []


GOOD_VALUES = {
    **CONFIGURED,
    "web_url": "https://web.vk.me",
    "api_version": "5.199",
    "requests_per_second": "3",
    "timeout_seconds": "10",
    "auto_end_after_minutes": "30",
    "sync_interval_minutes": "60",
    "sync_strict": "0",
}


def test_hook_lms_settings_validate(pm: pluggy.PluginManager, host: FakeHost) -> None:
    validate = pm.hook.lms_settings_validate
    assert validate(module="sferum", values=GOOD_VALUES, host=host) == [[]]
    bad = {
        "app_id": "-1",
        "service_token": "with a space in it!",
        "app_token": "ё" * 20,
        "api_base_url": "ftp://api.vk.me",
        "id_base_url": "https://id.vk.com/?x=1",
        "web_url": "https://web.vk.me",
        "api_version": "6",
        "requests_per_second": "0",
        "timeout_seconds": "500",
        "auto_end_after_minutes": "-5",
        "sync_interval_minutes": "1",
        "sync_strict": "0",
    }
    (errors,) = validate(module="sferum", values=bad, host=host)
    assert sorted(e.field for e in errors) == sorted(set(bad) - {"web_url", "sync_strict"})
    by_field = {e.field: e.message for e in errors}
    assert by_field["app_id"] == "APP ID должен быть положительным целым числом."
    assert by_field["service_token"] == "«Сервисный токен» не может содержать пробелы или переводы строк."
    assert by_field["api_version"] == "Версия API задаётся в виде 5.199."
    (same,) = validate(module="sferum", values={**GOOD_VALUES, "app_token": "s" * 20}, host=host)
    assert [(e.field, e.message) for e in same] == [
        ("app_token", "Токен приложения не должен совпадать с сервисным токеном.")
    ]
    (blank,) = validate(module="sferum", values={**GOOD_VALUES, "service_token": ""}, host=host)
    assert [e.field for e in blank] == ["service_token"]

    # MAX chosen: the bot token is required, VK's credentials are not (they are kept for switching back).
    on_max = {**GOOD_VALUES, "platform": "max", "app_id": "", "service_token": "", "app_token": "",
              "max_api_url": "https://platform-api2.max.ru", "max_updates": "polling"}  # fmt: skip
    (no_bot,) = validate(module="sferum", values=on_max, host=host)
    assert [(e.field, e.message) for e in no_bot] == [("max_bot_token", "Поле «Токен бота» обязательно.")]
    assert validate(module="sferum", values={**on_max, "max_bot_token": "b" * 30}, host=host) == [[]]

    assert validate(module="schedule", values={"sferum_online_lesson_hint": "Камера\nhttps://x.test"}, host=host) == [
        []
    ]
    ((control,),) = validate(module="schedule", values={"sferum_online_lesson_hint": "bell\x07"}, host=host)
    assert control.field == "sferum_online_lesson_hint"
    assert validate(module="main", values={"chat_type": "x"}, host=host) == []


# --- permissions and UI ----------------------------------------------------------------------------------------


def test_hook_lms_permissions(pm: pluggy.PluginManager) -> None:
    (permissions,) = pm.hook.lms_permissions()
    assert [(p.code, p.section, p.title, p.default_roles) for p in permissions] == [
        (ONLINE_LESSONS_VIEW, "Расписание", "Просмотр раздела онлайн-занятий (Сферум)", ()),
        (CHATS_CREATE_GROUP, "Чаты", "Создание чатов своих учебных групп в Сферум", ("employee",)),
        (CHATS_CREATE_UNIT, "Чаты", "Создание чата своего структурного подразделения в Сферум", ("employee",)),
        (CHATS_CREATE_CUSTOM, "Чаты", "Создание чатов с выбранными пользователями в Сферум", ("student",)),
        (CHATS_MANAGE, "Чаты", "Управление чатами и синхронизацией Сферум", ()),
        (MAILING_SEND, "Обучающиеся", "Создание e-mail рассылок обучающимся и сотрудникам (Сферум)", ()),
    ]
    assert all(p.code.startswith("sferum.") for p in permissions)


ONLINE_ITEM = MenuItem(key="sferum.online_lessons", title="Онлайн-занятия", url="/m/sferum/online_lessons", order=40)
SYNC_ITEM = MenuItem(key="sferum.sync", title="Синхронизация чатов", url="/m/sferum/sync_admin", order=90)
MAILING_ITEM = MenuItem(key="sferum.mailings", title="E-mail рассылки", url="/m/sferum/mailings", order=92)


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        (NOBODY, []),
        (viewer(CHATS_CREATE_GROUP, CHATS_CREATE_CUSTOM), []),
        (viewer(ONLINE_LESSONS_VIEW), [ONLINE_ITEM]),
        (viewer(CHATS_MANAGE), [SYNC_ITEM]),
        (viewer(MAILING_SEND), [MAILING_ITEM]),
        (ADMIN, [ONLINE_ITEM, SYNC_ITEM, MAILING_ITEM]),
    ],
    ids=["no rights", "chat creation only", "online lessons", "chat sync", "mailing", "administrator"],
)
def test_hook_lms_menu_items(pm: pluggy.PluginManager, host: FakeHost, who: Viewer, expected: list[MenuItem]) -> None:
    answers = pm.hook.lms_menu_items(viewer=who, host=host)
    assert answers == ([expected] if expected else [])  # nothing to show is no answer at all


def test_menu_items_speak_the_viewers_language(pm: pluggy.PluginManager, host: FakeHost) -> None:
    (items,) = pm.hook.lms_menu_items(viewer=viewer(roles=("admin",), locale="en"), host=host)
    assert [item.title for item in items] == ["Online lessons", "Chat sync", "E-mail mailings"]


def test_hook_lms_schedule_cards(pm: pluggy.PluginManager, configured: FakeHost) -> None:
    lessons = [_lesson(1), _lesson(2, day=NOW + timedelta(days=1))]
    teacher_without_the_right = viewer(user_id=1, employee_id=10)
    assert pm.hook.lms_schedule_cards(viewer=teacher_without_the_right, lessons=lessons, host=configured) == [{}]

    (teacher,) = pm.hook.lms_schedule_cards(viewer=TEACHER, lessons=lessons, host=configured)
    start = Action(label="Начать онлайн-занятие в Сферум", url="/m/sferum/lesson_start/1", method="POST",
                   style="primary")  # fmt: skip
    assert teacher == {1: LessonCard(actions=(start,))}  # today's lesson only
    assert pm.hook.lms_schedule_cards(viewer=STUDENT, lessons=lessons, host=configured) == [{}]

    configured.settings.stored["schedule"] = {"sferum_online_lesson_hint": "Включите камеру"}
    with configured.db.session() as session:
        session.add(OnlineLesson(lesson_id=1, platform="vk", app_id=APP_ID, state="active", call_id="call-1",
                                 join_link="https://call.test/1", started_by=1, started_at=NOW))  # fmt: skip
    (teacher,) = pm.hook.lms_schedule_cards(viewer=TEACHER, lessons=lessons, host=configured)
    assert teacher[1].status == "Онлайн-занятие идёт"
    assert teacher[1].hint == "Включите камеру"
    assert [(a.label, _endpoint(a.url), a.method) for a in teacher[1].actions] == [
        ("Войти в звонок", "lesson_join", "POST"),
        ("Завершить онлайн-занятие в Сферум", "lesson_end", "POST"),
    ]
    (student,) = pm.hook.lms_schedule_cards(viewer=STUDENT, lessons=lessons, host=configured)
    assert [(a.label, a.url) for a in student[1].actions] == [
        ("Перейти в онлайн-занятие Сферум", "/m/sferum/lesson_join/1")
    ]
    assert set(student) == {1}


def test_hook_lms_section_actions(pm: pluggy.PluginManager, host: FakeHost) -> None:
    def actions(section: str, who: Viewer) -> list[Action] | None:
        answers = pm.hook.lms_section_actions(section=section, viewer=who, host=host)
        assert len(answers) <= 1
        return answers[0] if answers else None

    assert actions("settings:sferum", ADMIN) == [
        Action(label="Проверить подключение", url="/m/sferum/check_connection", method="POST", style="primary"),
        Action(label="Учебные профили Сферум", url="/m/sferum/profiles"),
    ]
    assert actions("settings:sferum", viewer(CHATS_MANAGE, MAILING_SEND, ONLINE_LESSONS_VIEW)) is None
    assert actions("chats", viewer(CHATS_CREATE_CUSTOM)) == [
        Action(label="Создать чат в Сферум", url="/m/sferum/chat_new", style="primary")
    ]
    assert actions("chats", viewer(ONLINE_LESSONS_VIEW, MAILING_SEND)) is None
    for section in ("students", "employees"):
        assert actions(section, viewer(MAILING_SEND)) == [
            Action(label="Создать e-mail рассылку", url=f"/m/sferum/mailing_new/{section}", method="POST",
                   takes_selection=True)
        ]  # fmt: skip
        assert actions(section, viewer(CHATS_MANAGE, ONLINE_LESSONS_VIEW)) is None
    for other in ("settings:main", "settings:schedule", "schedule", "groups"):
        assert actions(other, ADMIN) is None
    assert [a.label for a in actions("chats", viewer(CHATS_MANAGE, locale="en")) or []] == ["Create a chat in Sferum"]


def test_section_actions_lead_to_routes_that_accept_their_method(pm: pluggy.PluginManager, host: FakeHost) -> None:
    (routes,) = pm.hook.lms_routes()
    methods = {route.endpoint: route.methods for route in routes}
    for section in ("settings:sferum", "chats", "students", "employees"):
        for action in pm.hook.lms_section_actions(section=section, viewer=ADMIN, host=host)[0]:
            assert action.method in methods[_endpoint(action.url)], action


def test_hook_lms_directory_filters(pm: pluggy.PluginManager, host: FakeHost) -> None:
    expected = DirectoryFilter(
        name="sferum_profile",
        label="Учебный профиль Сферум",
        choices=(("none", "Без учебного профиля Сферум"), ("linked", "С профилем")),
    )
    for section in ("students", "employees"):
        assert pm.hook.lms_directory_filters(section=section, viewer=STUDENT, host=host) == [[expected]]
    for other in ("chats", "groups", "settings:sferum"):
        assert pm.hook.lms_directory_filters(section=other, viewer=ADMIN, host=host) == []
    ((english,),) = pm.hook.lms_directory_filters(section="students", viewer=viewer(locale="en"), host=host)
    assert english.label == "Sferum educational profile"


def test_hook_lms_filter_people(pm: pluggy.PluginManager, installed: FakeHost) -> None:
    installed.settings.stored["sferum"] = {"app_id": str(APP_ID), "service_token": "s" * 20, "app_token": "a" * 20}
    with installed.db.session() as session:
        session.add(
            ProfileLink(platform="vk", app_id=APP_ID, user_id=7, sferum_user_id=70, linked_at=datetime.now(UTC))
        )
        session.add(
            ProfileLink(platform="vk", app_id=APP_ID + 1, user_id=8, sferum_user_id=80, linked_at=datetime.now(UTC))
        )
    people = [
        Person(id=1, kind=PersonKind.STUDENT, user_id=7, full_name="С профилем"),
        Person(id=2, kind=PersonKind.STUDENT, user_id=8, full_name="С профилем другой организации"),
        Person(id=3, kind=PersonKind.STUDENT, user_id=None, full_name="Без аккаунта"),
    ]
    call = pm.hook.lms_filter_people
    assert call(section="students", name="sferum_profile", value="none", people=people, host=installed) == [2, 3]
    assert call(section="employees", name="sferum_profile", value="linked", people=people, host=installed) == [1]
    assert call(section="students", name="sferum_profile", value="linked", people=[], host=installed) == []
    assert call(section="students", name="sferum_profile", value="maybe", people=people, host=installed) is None
    assert call(section="students", name="other_filter", value="none", people=people, host=installed) is None
    assert call(section="chats", name="sferum_profile", value="none", people=people, host=installed) is None


# --- routes ----------------------------------------------------------------------------------------------------

ROUTES = [
    # rule, endpoint, methods, permission (the host checks it; the view checks the rest)
    ("online-lessons", "online_lessons", ("GET",), ONLINE_LESSONS_VIEW),
    ("profile/link", "profile_link", ("POST",), None),
    ("profile/callback", "profile_callback", ("GET",), None),
    ("profiles", "profiles", ("GET",), None),
    ("profiles/<user_id>/unlink", "profile_unlink", ("POST",), None),
    ("profile/link/<request_id>/status", "profile_link_status", ("GET",), None),
    ("profile/link.js", "profile_link_script", ("GET",), None),
    ("settings/check", "check_connection", ("POST",), None),
    ("lessons/<lesson_id>/start", "lesson_start", ("POST",), ONLINE_LESSONS_VIEW),
    ("lessons/<lesson_id>/join", "lesson_join", ("POST",), ONLINE_LESSONS_VIEW),
    ("lessons/<lesson_id>/end", "lesson_end", ("POST",), ONLINE_LESSONS_VIEW),
    ("chats/new", "chat_new", ("GET", "POST"), None),
    ("chats/<chat_pk>", "chat_view", ("GET",), None),
    ("chats/<chat_pk>/recreate", "chat_recreate", ("POST",), CHATS_MANAGE),
    ("chats/link", "chat_link", ("GET", "POST"), CHATS_MANAGE),
    ("chats/<chat_pk>/resend", "chat_resend", ("POST",), None),
    ("chats/<chat_pk>/recheck", "chat_recheck", ("POST",), None),
    ("chats-bulk", "chats_bulk", ("GET", "POST"), CHATS_MANAGE),
    ("chats/<chat_pk>/open", "chat_open", ("GET",), None),
    ("sync", "sync_admin", ("GET",), CHATS_MANAGE),
    ("sync/now", "sync_now", ("POST",), CHATS_MANAGE),
    ("sync/invite/<op_id>", "sync_invite", ("POST",), CHATS_MANAGE),
    ("mailings", "mailings", ("GET",), MAILING_SEND),
    ("mailings/new/<section>", "mailing_new", ("POST",), MAILING_SEND),
    ("mailings/<mailing_id>", "mailing_view", ("GET",), MAILING_SEND),
    ("mailings/<mailing_id>/<action>", "mailing_control", ("POST",), MAILING_SEND),
    ("max/updates", "max_updates", ("POST",), None),  # MAX's webhook: the only route a service calls
]
WEBHOOKS = {"max_updates"}
PATH_PARAMS = {"lesson_id": "1", "chat_pk": "1", "user_id": "3", "section": "students", "mailing_id": "1",
               "action": "pause", "request_id": "1", "op_id": "1"}  # fmt: skip


def test_hook_lms_routes(pm: pluggy.PluginManager) -> None:
    (routes,) = pm.hook.lms_routes()
    assert sorted((r.rule, r.endpoint, r.methods, r.permission) for r in routes) == sorted(ROUTES)
    assert len({r.rule for r in routes}) == len({r.endpoint for r in routes}) == len(routes)
    assert {r.endpoint for r in routes if r.webhook} == WEBHOOKS
    # Every other route is for a signed-in person: login (and CSRF on POST) checked by the host.
    assert all(r.login_required != r.webhook for r in routes)
    assert all(r.max_body_bytes is not None for r in routes if r.webhook)
    (permissions,) = pm.hook.lms_permissions()
    assert {r.permission for r in routes} - {None} <= {p.code for p in permissions}


def test_every_address_the_module_builds_is_a_route_it_declares(pm: pluggy.PluginManager) -> None:
    (routes,) = pm.hook.lms_routes()
    declared = {r.endpoint for r in routes}
    built: set[str] = set()
    for path in (ROOT / "sferum_plugin").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        built |= set(re.findall(r"for_route\(\s*MODULE_NAME,\s*\"(\w+)\"", text))
        built |= set(re.findall(r"\burl\(\"(\w+)\"", text))  # the cards' url("lesson_join")
    assert {"online_lessons", "lesson_start", "chat_open", "mailing_control"} <= built  # the scan finds them
    assert built <= declared, f"addresses of undeclared routes: {sorted(built - declared)}"


@pytest.mark.parametrize(("rule", "endpoint", "methods", "permission"), ROUTES, ids=[r[1] for r in ROUTES])
def test_every_route_answers_an_unconfigured_module_with_a_page(
    pm: pluggy.PluginManager, installed: FakeHost, sferum: FakeSferum, rule: str, endpoint: str,
    methods: tuple[str, ...], permission: str | None,
) -> None:  # fmt: skip
    (route,) = [r for r in pm.hook.lms_routes()[0] if r.endpoint == endpoint]
    path_params = {name: PATH_PARAMS[name] for name in re.findall(r"<(\w+)>", rule)}
    for method in methods:
        request = HttpRequest(method=method, path=f"/m/sferum/{rule}", viewer=ADMIN, host=installed,
                              path_params=path_params, csrf_token="tok")  # fmt: skip
        answer = route.handler(request)  # one positional argument: the module bound everything else
        assert isinstance(answer, Page | HttpResponse)
        assert answer.status < 500, (method, answer)
    assert sferum.calls == []  # nothing to reach while the module is not configured


def test_pages_reach_sferum_through_the_modules_own_access(
    pm: pluggy.PluginManager, configured: FakeHost, sferum: FakeSferum
) -> None:
    (route,) = [r for r in pm.hook.lms_routes()[0] if r.endpoint == "check_connection"]
    page = route.handler(HttpRequest(method="POST", path="/m/sferum/settings/check", viewer=ADMIN, host=configured))
    assert isinstance(page, Page)
    assert page.title == "Проверить подключение"
    assert sferum.calls, "«Проверить подключение» did not use the module's SferumAccess"
    assert {host for host, _, _ in sferum.calls} == {API}


def test_the_online_lessons_page_says_the_module_is_not_configured(
    pm: pluggy.PluginManager, installed: FakeHost
) -> None:
    (route,) = [r for r in pm.hook.lms_routes()[0] if r.endpoint == "online_lessons"]
    page = route.handler(HttpRequest(method="GET", path="/m/sferum/online-lessons", viewer=STUDENT, host=installed))
    assert isinstance(page, Page)
    assert page.title == "Онлайн-занятия"
    assert "не настроен" in page.body_html


# --- chats -----------------------------------------------------------------------------------------------------


def test_hook_lms_chat_backends(pm: pluggy.PluginManager) -> None:
    assert pm.hook.lms_chat_backends() == [[ChatBackendInfo(code="sferum", title="Внешняя система «Сферум»")]]


def _add_chat(host: FakeHost, group_id: int, title: str, member_ids: list[int]) -> int:
    with host.db.session() as session:
        chat = SferumChat(platform="vk", app_id=APP_ID, kind="group", target_id=group_id, title=title,
                          marker=f"m{group_id}", state="active", chat_id=2000000000 + group_id, created_by=1,
                          created_at=NOW)  # fmt: skip
        session.add(chat)
        session.flush()
        session.add_all(SferumChatMember(chat_pk=chat.id, sferum_user_id=member) for member in member_ids)
        return chat.id


def test_hook_lms_chat_list(pm: pluggy.PluginManager, installed: FakeHost, sferum: FakeSferum) -> None:
    list_chats = pm.hook.lms_chat_list
    assert list_chats(backend="native", viewer=STUDENT, host=installed) is None
    assert list_chats(backend="sferum", viewer=STUDENT, host=installed) == []  # not configured

    installed.settings.stored["sferum"] = dict(CONFIGURED)
    with installed.db.session() as session:
        session.add(
            ProfileLink(platform="vk", app_id=APP_ID, user_id=STUDENT.user_id, sferum_user_id=1003, linked_at=NOW)
        )
    chat_pk = _add_chat(installed, 100, "ИВТ-21", [1003, 1001, 1])
    _add_chat(installed, 200, "ИВТ-22", [1001])  # the student is not a member
    assert list_chats(backend="sferum", viewer=STUDENT, host=installed) == [
        ChatSummary(id="2000000100", title="ИВТ-21", kind="group", url=f"/m/sferum/chat_open/{chat_pk}",
                    open_label="Открыть в Сферум", members=3)
    ]  # fmt: skip
    assert list_chats(backend="sferum", viewer=viewer(user_id=99), host=installed) == []  # no profile, no chats
    english = list_chats(backend="sferum", viewer=viewer(user_id=STUDENT.user_id, locale="en"), host=installed)
    assert [chat.open_label for chat in english] == ["Open in Sferum"]
    assert sferum.calls == []  # the list is what the module knows; the page does not wait for Sferum


def test_chat_list_leaves_other_backends_to_their_plugins(pm: pluggy.PluginManager, installed: FakeHost) -> None:
    chat = ChatSummary(id="1", title="Внешний", kind="group", url="https://x", open_label="Открыть")

    class OtherBackend:
        @hookimpl
        def lms_chat_list(self, backend: str) -> list[ChatSummary] | None:
            return [chat] if backend == "ext" else None

    pm.register(OtherBackend())
    assert pm.hook.lms_chat_list(backend="ext", viewer=STUDENT, host=installed) == [chat]
    assert pm.hook.lms_chat_list(backend="sferum", viewer=STUDENT, host=installed) == []


# --- background jobs -------------------------------------------------------------------------------------------

JOBS = [
    ("sferum.end_overdue_lessons", timedelta(minutes=5)),
    ("sferum.sync_queue", timedelta(seconds=10)),
    ("sferum.sync_full", timedelta(minutes=5)),
    ("sferum.max_poll", timedelta(seconds=5)),
    ("sferum.max_inbox", timedelta(seconds=5)),
    ("sferum.max_subscription", timedelta(minutes=5)),
    ("sferum.mailing", timedelta(seconds=5)),
]


def _jobs(pm: pluggy.PluginManager) -> dict[str, BackgroundJob]:
    (jobs,) = pm.hook.lms_background_jobs()
    return {job.name: job for job in jobs}


def test_hook_lms_background_jobs(pm: pluggy.PluginManager, installed: FakeHost, sferum: FakeSferum) -> None:
    (jobs,) = pm.hook.lms_background_jobs()
    assert [(job.name, job.interval) for job in jobs] == JOBS
    assert all(job.description for job in jobs)
    for job in jobs:  # the host runs the jobs of installed modules; an unconfigured one has nothing to do
        job.run(JobContext(host=installed, now=installed.clock.now()))
    assert sferum.calls == []
    with installed.db.session() as session:
        assert session.scalars(select(SferumSyncRequest)).all() == []


def test_jobs_reach_sferum_through_the_modules_own_access(
    pm: pluggy.PluginManager, configured: FakeHost, sferum: FakeSferum
) -> None:
    sferum.answers["calls.forceFinish"] = 1
    with configured.db.session() as session:
        session.add(OnlineLesson(lesson_id=1, platform="vk", app_id=APP_ID, state="active", call_id="call-1",
                                 join_link="https://call.test/1", started_by=1, started_at=NOW))  # fmt: skip
    configured.clock.current = _lesson(1).ends_at + timedelta(minutes=31)  # the default delay is 30 minutes
    _jobs(pm)["sferum.end_overdue_lessons"].run(JobContext(host=configured, now=configured.clock.now()))
    assert [(host, method, params.get("call_id")) for host, method, params in sferum.calls] == [
        (API, "calls.forceFinish", "call-1")
    ]
    with configured.db.session() as session:
        (lesson,) = session.scalars(select(OnlineLesson)).all()
        assert (lesson.state, lesson.end_reason) == ("ended", "auto")


# --- directory notifications -----------------------------------------------------------------------------------


def _queued(host: FakeHost) -> set[str]:
    with host.db.session() as session:
        return set(session.scalars(select(SferumSyncRequest.scope)))


def test_hook_lms_people_status_changed(pm: pluggy.PluginManager, installed: FakeHost, sferum: FakeSferum) -> None:
    changes = [
        PersonStatusChange(person_id=5, kind=PersonKind.STUDENT, old_status=PersonStatus.ACTIVE,
                           new_status=PersonStatus.EXPELLED),
        PersonStatusChange(person_id=6, kind=PersonKind.EMPLOYEE, old_status=None, new_status=PersonStatus.ACTIVE),
    ]  # fmt: skip
    assert pm.hook.lms_people_status_changed(changes=changes, host=installed) == []
    assert _queued(installed) == {"student:5", "employee:6"}
    pm.hook.lms_people_status_changed(changes=changes[:1], host=installed)
    assert _queued(installed) == {"student:5", "employee:6"}  # coalesced
    assert sferum.calls == []  # quick: queued for the sync worker, not sent inline


def test_notifications_are_ignored_while_the_module_is_not_installed(pm: pluggy.PluginManager, host: FakeHost) -> None:
    change = PersonStatusChange(person_id=5, kind=PersonKind.STUDENT, old_status=None, new_status=PersonStatus.ACTIVE)
    pm.hook.lms_people_status_changed(changes=[change], host=host)  # no tables: must not raise
    pm.hook.lms_memberships_changed(
        changes=[MembershipChange(person_id=5, kind=PersonKind.STUDENT, old_container_id=1, new_container_id=2)],
        host=host,
    )
    assert not _tables(host.db.engine)


def test_hook_lms_memberships_changed(pm: pluggy.PluginManager, installed: FakeHost, sferum: FakeSferum) -> None:
    changes = [
        MembershipChange(person_id=5, kind=PersonKind.STUDENT, old_container_id=1, new_container_id=2),
        MembershipChange(person_id=6, kind=PersonKind.EMPLOYEE, old_container_id=None, new_container_id=9),
    ]
    assert pm.hook.lms_memberships_changed(changes=changes, host=installed) == []
    assert _queued(installed) == {"group:1", "group:2", "student:5", "unit:9", "employee:6"}
    assert sferum.calls == []
