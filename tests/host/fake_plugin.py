"""A small plugin that implements most hooks and records how the host calls it."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from hookspecs import hookimpl
from hookspecs.types import (
    Action,
    BackgroundJob,
    ChatBackendInfo,
    ChatSummary,
    FieldError,
    HttpRequest,
    HttpResponse,
    JobContext,
    LessonCard,
    MenuItem,
    ModuleInfo,
    Page,
    Permission,
    Route,
    SettingsField,
)

FAKE_PERMISSION = "fake.view"
REJECTED_TOKEN = "rejected-token-0000"


class FakePlugin:
    """Module ``fake``: settings with a secret, a permission, a menu item, routes, cards, actions, chats, a job."""

    def __init__(self, version: str = "1.0") -> None:
        self.version = version
        self.calls: dict[str, list[Any]] = defaultdict(list)
        self.hint = "Подключайтесь: https://fake.example/join?a=1&b=2\n<b>не жирный</b>"
        self.fail_install = False
        self.fail_notifications = False
        self.fail_pages = False  # the menu, card, action and chat-list hooks raise

    def _maybe_fail(self, hook: str) -> None:
        if self.fail_pages:
            raise RuntimeError(f"{hook} failed: secret-should-not-leak")

    # -- lifecycle -------------------------------------------------------------------------------------------
    @hookimpl
    def lms_module_info(self) -> ModuleInfo:
        return ModuleInfo(name="fake", title="Фейковый модуль", version=self.version, description="Для тестов.")

    @hookimpl
    def lms_module_install(self, module: str, host: Any) -> None:
        if module != "fake":
            return
        if self.fail_install:
            raise RuntimeError("install failed: secret-should-not-leak")
        self.calls["install"].append(module)

    @hookimpl
    def lms_module_uninstall(self, module: str, host: Any, keep_data: bool) -> None:
        if module == "fake":
            self.calls["uninstall"].append(keep_data)

    @hookimpl
    def lms_module_upgrade(self, module: str, host: Any, from_version: str) -> None:
        if module == "fake":
            self.calls["upgrade"].append(from_version)

    # -- settings --------------------------------------------------------------------------------------------
    @hookimpl
    def lms_settings_fields(self, module: str) -> list[SettingsField] | None:
        if module == "fake":
            return [
                SettingsField(name="api_url", label="Адрес API", type="url", required=True),
                SettingsField(name="api_token", label="Токен API", type="secret", required=True),
                SettingsField(name="retries", label="Повторы", type="integer", default="3"),
                SettingsField(
                    name="mode",
                    label="Режим",
                    type="choice",
                    default="fast",
                    choices=(("fast", "Быстро"), ("safe", "Надёжно")),
                ),
                SettingsField(name="note", label="Заметка", max_length=10),
            ]
        if module == "schedule":
            return [SettingsField(name="fake_hint", label="Подсказка фейка", type="textarea")]
        return None

    @hookimpl
    def lms_settings_validate(self, module: str, values: Any, host: Any) -> list[FieldError] | None:
        self.calls["validate"].append((module, dict(values)))
        if module == "fake" and values.get("api_token") == REJECTED_TOKEN:
            return [FieldError("api_token", "Токен отклонён сервером")]
        return None

    @hookimpl
    def lms_permissions(self) -> list[Permission]:
        return [Permission(FAKE_PERMISSION, "Расписание", "Просмотр фейкового раздела", ("student",))]

    # -- UI --------------------------------------------------------------------------------------------------
    @hookimpl
    def lms_menu_items(self, viewer: Any, host: Any) -> list[MenuItem] | None:
        self._maybe_fail("menu")
        self.calls["menu_locales"].append((viewer.locale, host.i18n.locale))
        if viewer.can(FAKE_PERMISSION):
            return [MenuItem("fake", "Фейковый раздел", host.urls.for_route("fake", "page"), 50)]
        return None

    @hookimpl
    def lms_schedule_cards(self, viewer: Any, lessons: Any, host: Any) -> dict[int, LessonCard]:
        self._maybe_fail("cards")
        self.calls["cards"].append([lesson.id for lesson in lessons])
        actions = (
            Action("Открыть фейк", "/m/fake/page"),
            Action("Начать фейк", "/m/fake/echo", method="POST", style="primary", confirm="Точно начать?"),
        )
        return {lesson.id: LessonCard(status="Фейк идёт", hint=self.hint, actions=actions) for lesson in lessons}

    @hookimpl
    def lms_section_actions(self, section: str, viewer: Any, host: Any) -> list[Action] | None:
        self._maybe_fail("actions")
        if section in ("students", "employees"):
            return [Action("Создать e-mail рассылку", "/m/fake/echo", method="POST", takes_selection=True)]
        if section == "settings:fake":
            return [Action("Проверить подключение", "/m/fake/echo", method="POST")]
        if section == "chats":
            return [Action("Создать чат в Фейке", "/m/fake/page")]
        return None

    @hookimpl
    def lms_routes(self) -> list[Route]:
        return [
            Route("page", "page", self.page, permission=FAKE_PERMISSION),
            Route("items/<item_id>", "item", self.item, login_required=False),
            Route("echo", "echo", self.echo, methods=("POST",), max_body_bytes=4096),
            Route("hook", "hook", self.hook, methods=("POST",), login_required=False, webhook=True, max_body_bytes=64),
        ]

    def page(self, request: HttpRequest) -> Page:
        count = int(request.session.get("visits", 0)) + 1  # type: ignore[call-overload]
        request.session["visits"] = count
        return Page(title="Фейковый раздел", body_html=f"<p class='fake-body'>Визит {count}</p>", menu_key="fake")

    def item(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse(
            status=201,
            body=f"item={request.path_params['item_id']}",
            content_type="text/plain",
            headers={"X-Fake": "1"},
        )

    def echo(self, request: HttpRequest) -> HttpResponse:
        self.calls["echo"].append((dict(request.form), dict(request.form_lists)))
        return HttpResponse.redirect("/")

    def hook(self, request: HttpRequest) -> HttpResponse:
        """A webhook: it authenticates the caller itself, from a header."""
        self.calls["hook"].append((request.viewer, dict(request.headers), request.body, request.csrf_token))
        if request.headers.get("x-fake-secret") != "letmein":
            return HttpResponse(status=401, body="", content_type="text/plain")
        return HttpResponse(status=200, body=b"ok", content_type="text/plain")

    # -- chats, jobs, notifications ------------------------------------------------------------------------------
    @hookimpl
    def lms_chat_backends(self) -> list[ChatBackendInfo]:
        return [ChatBackendInfo("fakechat", "Внешняя система «Фейк»")]

    @hookimpl
    def lms_chat_list(self, backend: str, viewer: Any, host: Any) -> list[ChatSummary] | None:
        if backend != "fakechat":
            return None
        self._maybe_fail("chat list")
        return [ChatSummary("c1", "Чат группы ФЕЙК-1", "group", "https://fake.example/c1", "Открыть в Фейке", 21)]

    @hookimpl
    def lms_background_jobs(self) -> list[BackgroundJob]:
        return [BackgroundJob("fake.tick", timedelta(minutes=5), self.tick, "Тикает")]

    def tick(self, context: JobContext) -> None:
        self.calls["tick"].append(context.now)

    @hookimpl
    def lms_people_status_changed(self, changes: Any, host: Any) -> None:
        self.calls["status"].append(list(changes))
        if self.fail_notifications:
            raise RuntimeError("plugin is broken")

    @hookimpl
    def lms_memberships_changed(self, changes: Any, host: Any) -> None:
        self.calls["memberships"].append(list(changes))
