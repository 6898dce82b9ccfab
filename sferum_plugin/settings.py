"""The module's settings: the form the host renders, validation, and the typed view services read.

The seed names three credentials (APP ID, «Сервисный токен», «Токен приложения»); their roles are described in
PRODUCT.md §4: APP ID is the VK ID OAuth ``client_id``, the application token acts for the organisation in Sferum
(chats, calls), the service token serves app-level checks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Protocol
from urllib.parse import urlsplit

import attrs

from hookspecs.types import FieldError, SettingsField
from sferum_plugin.account import MAX_SPACE, Account
from sferum_plugin.numbers import parse_int

__all__ = [
    "DEFAULTS",
    "MAX",
    "MODULE_FIELDS",
    "PLATFORM_CHOICES",
    "POLLING",
    "SCHEDULE_FIELDS",
    "VK",
    "WEBHOOK",
    "MaxSettings",
    "ModuleSettings",
    "ScheduleSettings",
    "SferumSettings",
    "configured",
    "configured_account",
    "platform_code",
    "validate",
    "validate_schedule",
]

VK = "vk"
"""Sferum in VK Messenger (VK API, VK ID): everything the module did before MAX."""
MAX = "max"
"""Sferum in MAX (MAX's Bot API); PRODUCT.md §8."""
PLATFORM_CHOICES: tuple[tuple[str, str], ...] = ((VK, "VK Мессенджер"), (MAX, "MAX"))

WEBHOOK, POLLING = "webhook", "polling"
"""How MAX's events reach the module: MAX posts them to a public address, or the module asks for them."""

DEFAULTS: Mapping[str, str] = {
    "platform": VK,
    "max_api_url": "https://platform-api2.max.ru",
    "max_updates": WEBHOOK,
    "api_base_url": "https://api.vk.me",
    "id_base_url": "https://id.vk.com",
    "web_url": "https://web.vk.me",
    "api_version": "5.199",
    "requests_per_second": "3",
    "timeout_seconds": "10",
    "auto_end_after_minutes": "30",
    "sync_interval_minutes": "60",
    "sync_strict": "0",
}

MODULE_FIELDS: tuple[SettingsField, ...] = (
    SettingsField(
        name="platform",
        label="Платформа «Сферума»",
        type="choice",
        default=DEFAULTS["platform"],
        choices=PLATFORM_CHOICES,
        help="Где работают чаты «Сферума» организации. Настройки другой платформы при переключении сохраняются.",
        max_length=10,
    ),
    SettingsField(
        name="app_id",
        label="APP ID",
        type="integer",
        help="Идентификатор приложения организации в Сферуме (выдаётся поставщиком).",
        max_length=12,
    ),
    SettingsField(
        name="service_token",
        label="Сервисный токен",
        type="secret",
        help="Сервисный ключ доступа приложения (выдаётся поставщиком).",
        max_length=1024,
    ),
    SettingsField(
        name="app_token",
        label="Токен приложения",
        type="secret",
        help="Ключ доступа, от имени которого модуль создаёт чаты и звонки организации (выдаётся поставщиком).",
        max_length=1024,
    ),
    SettingsField(
        name="max_bot_token",
        label="Токен бота",
        type="secret",
        help="Только для MAX: токен бота организации, который выдаёт @MasterBot в MAX при создании бота.",
        max_length=1024,
    ),
    SettingsField(
        name="max_api_url",
        label="Адрес API MAX",
        type="url",
        default=DEFAULTS["max_api_url"],
        help="Только для MAX. Для проверки без бота укажите адрес локальной песочницы MAX.",
        section="connection",
    ),
    SettingsField(
        name="max_updates",
        label="Как приходят события",
        type="choice",
        default=DEFAULTS["max_updates"],
        choices=((WEBHOOK, "Webhook (рекомендуется)"), (POLLING, "Long polling (опрос MAX)")),
        help="Только для MAX: события MAX присылает на публичный адрес модуля (webhook) или модуль сам "
        "запрашивает их (long polling, для проверки без публичного адреса).",
        max_length=10,
        section="connection",
    ),
    SettingsField(
        name="max_webhook_url",
        label="Публичный адрес для webhook",
        type="url",
        help="Только для MAX с webhook: адрес https://, по которому MAX сможет достучаться до ЛК.",
        section="connection",
    ),
    SettingsField(
        name="max_webhook_secret",
        label="Секрет webhook",
        type="secret",
        help="Только для MAX с webhook: MAX присылает его в каждом запросе, чужие запросы отклоняются. "
        "5–256 латинских букв, цифр, «-» и «_».",
        max_length=256,
        section="connection",
    ),
    SettingsField(
        name="api_base_url",
        label="Адрес API Сферума",
        type="url",
        required=True,
        default=DEFAULTS["api_base_url"],
        help="Для проверки без учётных данных укажите адрес локальной песочницы Сферума.",
        section="connection",
    ),
    SettingsField(
        name="id_base_url",
        label="Адрес VK ID",
        type="url",
        required=True,
        default=DEFAULTS["id_base_url"],
        help="Сервер авторизации для привязки учебных профилей.",
        section="connection",
    ),
    SettingsField(
        name="web_url",
        label="Веб-адрес «Сферума»",
        type="url",
        required=True,
        default=DEFAULTS["web_url"],
        help="Куда ведёт кнопка «Перейти в «Сферум»».",
        section="connection",
    ),
    SettingsField(
        name="api_version",
        label="Версия API",
        required=True,
        default=DEFAULTS["api_version"],
        max_length=10,
        section="connection",
    ),
    SettingsField(
        name="requests_per_second",
        label="Запросов в секунду",
        type="integer",
        required=True,
        default=DEFAULTS["requests_per_second"],
        help="Ограничение частоты запросов к Сферуму на один токен.",
        max_length=3,
        section="connection",
    ),
    SettingsField(
        name="timeout_seconds",
        label="Тайм-аут запроса, с",
        type="integer",
        required=True,
        default=DEFAULTS["timeout_seconds"],
        max_length=3,
        section="connection",
    ),
    SettingsField(
        name="auto_end_after_minutes",
        label="Автоматически завершать онлайн-занятие через, мин",
        type="integer",
        required=True,
        default=DEFAULTS["auto_end_after_minutes"],
        help="Сколько минут после окончания занятия по расписанию ждать, прежде чем завершить забытое онлайн-занятие.",
        max_length=4,
        section="lessons",
    ),
    SettingsField(
        name="sync_interval_minutes",
        label="Интервал полной синхронизации чатов, мин",
        type="integer",
        default=DEFAULTS["sync_interval_minutes"],
        help="Как часто сверять составы всех чатов со Сферумом. Изменения из ЛК применяются в течение секунд.",
        max_length=4,
        section="chats",
    ),
    SettingsField(
        name="sync_strict",
        label="Строгий режим синхронизации чатов",
        type="boolean",
        default=DEFAULTS["sync_strict"],
        help="Удалять из чатов всех, кого нет в списках ЛК, в том числе пользователей Сферума без связи с ЛК "
        "(владелец чата и учётная запись организации остаются всегда).",
        section="chats",
    ),
)

SCHEDULE_FIELDS: tuple[SettingsField, ...] = (
    SettingsField(
        name="sferum_online_lesson_hint",
        label="Подсказка для онлайн-занятий «Сферум»",
        type="textarea",
        help="Показывается в карточке занятия только во время активного онлайн-занятия. "
        "Переносы строк и ссылки сохраняются.",
        max_length=2000,
    ),
)

_TOKEN_MIN, _TOKEN_MAX = 16, 1024
_VERSION = re.compile(r"^5\.\d{1,3}$")
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{5,256}")
"""``SubscriptionRequestBody.secret`` in MAX's schema."""
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


_NUMBERS: dict[str, tuple[int, int, str]] = {
    "requests_per_second": (1, 100, "Укажите целое число от 1 до 100."),
    "auto_end_after_minutes": (0, 24 * 60, "Укажите целое число минут от 0 до 1440."),
    "sync_interval_minutes": (5, 7 * 24 * 60, "Укажите целое число минут от 5 до 10080."),
    "timeout_seconds": (1, 120, "Укажите целое число секунд от 1 до 120."),
}
"""The numeric settings: their bounds and the message naming what is expected."""


def validate(values: Mapping[str, str]) -> list[FieldError]:
    """Check a submitted settings form; returns one error per wrong field, naming it.

    The host has already trimmed the values and applied the generic checks (required, integer, URL, length);
    this adds what only this module knows.
    """
    errors: list[FieldError] = []
    # Forms that predate the platform setting submit no platform: they mean VK Messenger (as its default says).
    platform = values.get("platform") or VK
    if platform not in dict(PLATFORM_CHOICES):
        errors.append(FieldError("platform", "Выберите «VK Мессенджер» или «MAX»."))
    # The chosen platform's credentials are required; the other platform's are kept as stored (checked if given).
    on_vk, on_max = platform == VK, platform == MAX
    app_id = values.get("app_id", "")
    if not app_id and on_vk:
        errors.append(FieldError("app_id", "Поле «APP ID» обязательно для VK Мессенджера."))
    elif app_id and parse_int(app_id, low=1) is None:
        errors.append(FieldError("app_id", "APP ID должен быть положительным целым числом."))
    for name, label in (("service_token", "Сервисный токен"), ("app_token", "Токен приложения")):
        problem = _token_problem(values.get(name, ""), label, required=on_vk)
        if problem:
            errors.append(FieldError(name, problem))
    problem = _token_problem(values.get("max_bot_token", ""), "Токен бота", required=on_max)
    if problem:
        errors.append(FieldError("max_bot_token", problem))
    errors.extend(_validate_max_events(values, required=on_max))
    if (
        values.get("service_token")
        and values.get("service_token") == values.get("app_token")
        and not any(e.field == "app_token" for e in errors)
    ):
        errors.append(FieldError("app_token", "Токен приложения не должен совпадать с сервисным токеном."))
    for name in ("api_base_url", "id_base_url", "web_url", "max_api_url"):
        url = values.get(name, "")
        if url and not _is_base_url(url):
            errors.append(FieldError(name, "Укажите адрес вида https://host[:port][/path] без параметров."))
    version = values.get("api_version", "")
    if version and not _VERSION.match(version):
        errors.append(FieldError("api_version", "Версия API задаётся в виде 5.199."))
    for name, (low, high, message) in _NUMBERS.items():
        raw = values.get(name, "")
        if raw and parse_int(raw, low=low, high=high) is None:
            errors.append(FieldError(name, message))
    return errors


def _token_problem(token: str, label: str, *, required: bool) -> str | None:
    """What is wrong with a token field, or None."""
    if not token:
        return f"Поле «{label}» обязательно." if required else None
    if any(ch.isspace() for ch in token):
        return f"«{label}» не может содержать пробелы или переводы строк."
    if not token.isascii() or not token.isprintable():
        return f"«{label}» содержит недопустимые символы."
    if not _TOKEN_MIN <= len(token) <= _TOKEN_MAX:
        return f"Длина поля «{label}» должна быть от {_TOKEN_MIN} до {_TOKEN_MAX} символов."
    return None


def _validate_max_events(values: Mapping[str, str], *, required: bool) -> list[FieldError]:
    """How MAX's events arrive: webhook needs a public https address and a secret (only while MAX is chosen)."""
    errors: list[FieldError] = []
    updates = values.get("max_updates") or WEBHOOK
    if updates not in (WEBHOOK, POLLING):
        errors.append(FieldError("max_updates", "Выберите webhook или long polling."))
    webhook = required and updates == WEBHOOK
    url = values.get("max_webhook_url", "")
    if not url and webhook:
        errors.append(
            FieldError("max_webhook_url", "Укажите публичный адрес https://, на который MAX пришлёт события.")
        )
    elif url and not (_is_base_url(url) and urlsplit(url).scheme == "https"):
        errors.append(
            FieldError("max_webhook_url", "MAX присылает события только на адрес https://host[:port][/path].")
        )
    secret = values.get("max_webhook_secret", "")
    if not secret and webhook:
        # The host stores what was submitted and nothing else, so the module cannot fill the field in itself; nor
        # does it suggest a value: a secret is never shown on a page.
        errors.append(
            FieldError(
                "max_webhook_secret",
                "Укажите секрет webhook: от 5 до 256 случайных латинских букв, цифр, «-» и «_» (например, из "
                "генератора паролей). MAX присылает его с каждым событием, и модуль отвергает события без него.",
            )
        )
    elif secret and not _WEBHOOK_SECRET.fullmatch(secret):
        errors.append(FieldError("max_webhook_secret", "Секрет webhook — от 5 до 256 латинских букв, цифр, «-» и «_»."))
    return errors


def validate_schedule(values: Mapping[str, str]) -> list[FieldError]:
    """Check the fields this module contributes to the Schedule module's settings."""
    hint = values.get("sferum_online_lesson_hint", "")
    if _CONTROL.search(hint):
        return [FieldError("sferum_online_lesson_hint", "Подсказка содержит управляющие символы.")]
    return []


def _is_base_url(url: str) -> bool:
    parts = urlsplit(url)
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and not parts.query
        and not parts.fragment
        and parts.username is None
        and parts.password is None
    )


@attrs.frozen
class SferumSettings:
    """The module's stored settings, typed; tokens are hidden from ``repr``."""

    app_id: int
    service_token: str = attrs.field(repr=False)
    app_token: str = attrs.field(repr=False)
    api_base_url: str = DEFAULTS["api_base_url"]
    id_base_url: str = DEFAULTS["id_base_url"]
    web_url: str = DEFAULTS["web_url"]
    api_version: str = DEFAULTS["api_version"]
    requests_per_second: float = float(DEFAULTS["requests_per_second"])
    timeout_seconds: float = float(DEFAULTS["timeout_seconds"])
    auto_end_after_minutes: int = int(DEFAULTS["auto_end_after_minutes"])
    sync_interval_minutes: int = int(DEFAULTS["sync_interval_minutes"])
    sync_strict: bool = False

    @property
    def account(self) -> Account:
        """Whose rows the module's data are: the VK application's."""
        return Account(VK, self.app_id)

    @classmethod
    def from_stored(cls, stored: Mapping[str, str]) -> SferumSettings | None:
        """The settings, or ``None`` while the module is not configured for VK Messenger (a credential is missing,
        or another platform is chosen)."""
        values = _with_defaults(stored)
        app_id = parse_int(values.get("app_id"), low=1)
        if platform_code(stored) != VK:
            return None  # the VK flows are not configured while another platform is chosen
        if app_id is None or not values.get("service_token") or not values.get("app_token"):
            return None

        def number(name: str) -> int:
            return _number(values, name)

        return cls(
            app_id=app_id,
            service_token=values["service_token"],
            app_token=values["app_token"],
            api_base_url=values["api_base_url"].rstrip("/"),
            id_base_url=values["id_base_url"].rstrip("/"),
            web_url=values["web_url"],
            api_version=values["api_version"],
            requests_per_second=float(number("requests_per_second")),
            timeout_seconds=float(number("timeout_seconds")),
            auto_end_after_minutes=number("auto_end_after_minutes"),
            sync_interval_minutes=number("sync_interval_minutes"),
            sync_strict=_flag(values["sync_strict"]),
        )


def platform_code(stored: Mapping[str, str]) -> str:
    """The chosen platform (:data:`VK` or :data:`MAX`) of the stored settings; VK Messenger until one is chosen."""
    code = stored.get("platform") or VK
    return code if code in dict(PLATFORM_CHOICES) else VK


def _with_defaults(stored: Mapping[str, str]) -> dict[str, str]:
    return {**DEFAULTS, **{k: v for k, v in stored.items() if v != ""}}


def _flag(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "on", "yes")


def _number(values: Mapping[str, str], name: str) -> int:
    # Stored values were validated when saved; one changed behind the form's back falls back to the default.
    low, high, _ = _NUMBERS[name]
    found = parse_int(values[name], low=low, high=high)
    return found if found is not None else int(DEFAULTS[name])


@attrs.frozen
class MaxSettings:
    """The module's stored settings for Sferum in MAX, typed; the bot token and webhook secret are hidden from
    ``repr``.

    :param updates: how MAX's events arrive, :data:`WEBHOOK` or :data:`POLLING`.
    :param webhook_url: the public https address MAX posts events to (webhook only).
    """

    bot_token: str = attrs.field(repr=False)
    api_url: str = DEFAULTS["max_api_url"]
    updates: str = WEBHOOK
    webhook_url: str = ""
    webhook_secret: str = attrs.field(default="", repr=False)
    timeout_seconds: float = float(DEFAULTS["timeout_seconds"])
    auto_end_after_minutes: int = int(DEFAULTS["auto_end_after_minutes"])
    sync_interval_minutes: int = int(DEFAULTS["sync_interval_minutes"])
    sync_strict: bool = False

    @property
    def account(self) -> Account:
        """Whose rows the module's data are: MAX's one space (:data:`~sferum_plugin.account.MAX_SPACE`)."""
        return Account(MAX, MAX_SPACE)

    @classmethod
    def from_stored(cls, stored: Mapping[str, str]) -> MaxSettings | None:
        """The settings, or ``None`` while the module is not configured for MAX (another platform is chosen, or
        the bot token is missing)."""
        values = _with_defaults(stored)
        if platform_code(stored) != MAX or not values.get("max_bot_token"):
            return None
        return cls(
            bot_token=values["max_bot_token"],
            api_url=values["max_api_url"].rstrip("/"),
            updates=POLLING if values["max_updates"] == POLLING else WEBHOOK,
            webhook_url=values.get("max_webhook_url", ""),
            webhook_secret=values.get("max_webhook_secret", ""),
            timeout_seconds=float(_number(values, "timeout_seconds")),
            auto_end_after_minutes=_number(values, "auto_end_after_minutes"),
            sync_interval_minutes=_number(values, "sync_interval_minutes"),
            sync_strict=_flag(values["sync_strict"]),
        )


class ModuleSettings(Protocol):
    """What every platform's settings have: the account whose rows the module shows, and the general options."""

    @property
    def account(self) -> Account: ...

    @property
    def timeout_seconds(self) -> float: ...

    @property
    def auto_end_after_minutes(self) -> int: ...

    @property
    def sync_interval_minutes(self) -> int: ...

    @property
    def sync_strict(self) -> bool: ...


_BY_PLATFORM: Mapping[str, type[SferumSettings] | type[MaxSettings]] = {VK: SferumSettings, MAX: MaxSettings}


def configured(stored: Mapping[str, str]) -> ModuleSettings | None:
    """The chosen platform's settings, or ``None`` while that platform's credentials are not filled in."""
    return _BY_PLATFORM[platform_code(stored)].from_stored(stored)


def configured_account(stored: Mapping[str, str]) -> Account | None:
    """The account whose rows the module shows: the chosen platform's, or ``None`` while that platform's credentials
    are not filled in."""
    settings = configured(stored)
    return settings.account if settings is not None else None


@attrs.frozen
class ScheduleSettings:
    """What this module stores in the Schedule module's settings."""

    online_lesson_hint: str = ""

    @classmethod
    def from_stored(cls, stored: Mapping[str, str]) -> ScheduleSettings:
        """Read the contributed fields from the Schedule module's stored settings."""
        return cls(online_lesson_hint=stored.get("sferum_online_lesson_hint", ""))
