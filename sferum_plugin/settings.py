"""The module's settings: the form the host renders, validation, and the typed view services read.

The seed names three credentials (APP ID, «Сервисный токен», «Токен приложения»); their roles are described in
PRODUCT.md §4: APP ID is the VK ID OAuth ``client_id``, the application token acts for the organisation in Sferum
(chats, calls), the service token serves app-level checks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

import attrs

from hookspecs.types import FieldError, SettingsField
from sferum_plugin.numbers import parse_int

__all__ = [
    "DEFAULTS",
    "MODULE_FIELDS",
    "SCHEDULE_FIELDS",
    "ScheduleSettings",
    "SferumSettings",
    "validate",
    "validate_schedule",
]

DEFAULTS: Mapping[str, str] = {
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
        name="app_id",
        label="APP ID",
        type="integer",
        required=True,
        help="Идентификатор приложения организации в Сферуме (выдаётся поставщиком).",
        max_length=12,
    ),
    SettingsField(
        name="service_token",
        label="Сервисный токен",
        type="secret",
        required=True,
        help="Сервисный ключ доступа приложения (выдаётся поставщиком).",
        max_length=1024,
    ),
    SettingsField(
        name="app_token",
        label="Токен приложения",
        type="secret",
        required=True,
        help="Ключ доступа, от имени которого модуль создаёт чаты и звонки организации (выдаётся поставщиком).",
        max_length=1024,
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
    app_id = values.get("app_id", "")
    if app_id and parse_int(app_id, low=1) is None:
        errors.append(FieldError("app_id", "APP ID должен быть положительным целым числом."))
    for name, label in (("service_token", "Сервисный токен"), ("app_token", "Токен приложения")):
        token = values.get(name, "")
        if not token:
            errors.append(FieldError(name, f"Поле «{label}» обязательно."))
        elif any(ch.isspace() for ch in token):
            errors.append(FieldError(name, f"«{label}» не может содержать пробелы или переводы строк."))
        elif not token.isascii() or not token.isprintable():
            errors.append(FieldError(name, f"«{label}» содержит недопустимые символы."))
        elif not _TOKEN_MIN <= len(token) <= _TOKEN_MAX:
            errors.append(
                FieldError(name, f"Длина поля «{label}» должна быть от {_TOKEN_MIN} до {_TOKEN_MAX} символов.")
            )
    if (
        values.get("service_token")
        and values.get("service_token") == values.get("app_token")
        and not any(e.field == "app_token" for e in errors)
    ):
        errors.append(FieldError("app_token", "Токен приложения не должен совпадать с сервисным токеном."))
    for name in ("api_base_url", "id_base_url", "web_url"):
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

    @classmethod
    def from_stored(cls, stored: Mapping[str, str]) -> SferumSettings | None:
        """The settings, or ``None`` while the module is not configured (a credential is missing)."""
        values = {**DEFAULTS, **{k: v for k, v in stored.items() if v != ""}}
        app_id = parse_int(values.get("app_id"), low=1)
        if app_id is None or not values.get("service_token") or not values.get("app_token"):
            return None

        def number(name: str) -> int:
            # Stored values were validated when saved; one changed behind the form's back falls back to the default.
            low, high, _ = _NUMBERS[name]
            found = parse_int(values[name], low=low, high=high)
            return found if found is not None else int(DEFAULTS[name])

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
            sync_strict=values["sync_strict"].strip().lower() in ("1", "true", "on", "yes"),
        )


@attrs.frozen
class ScheduleSettings:
    """What this module stores in the Schedule module's settings."""

    online_lesson_hint: str = ""

    @classmethod
    def from_stored(cls, stored: Mapping[str, str]) -> ScheduleSettings:
        """Read the contributed fields from the Schedule module's stored settings."""
        return cls(online_lesson_hint=stored.get("sferum_online_lesson_hint", ""))
