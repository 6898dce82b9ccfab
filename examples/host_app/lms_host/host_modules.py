"""The host's own modules, «Главный модуль» (``main``) and «Расписание» (``schedule``), and their fields."""

from __future__ import annotations

from collections.abc import Sequence

from hookspecs.types import ChatBackendInfo, ModuleInfo, SettingsField

__all__ = ["HOST_MODULE_INFO", "NATIVE_CHATS", "SECTION_TITLES", "host_fields"]

NATIVE_CHATS = "native"

HOST_MODULE_INFO = {
    "main": ModuleInfo(
        name="main",
        title="Главный модуль",
        version="1.0",
        description="Общие настройки личного кабинета.",
    ),
    "schedule": ModuleInfo(
        name="schedule",
        title="Расписание",
        version="1.0",
        description="Расписание занятий обучающихся и сотрудников.",
    ),
}

SECTION_TITLES = {
    "general": "Основные настройки",
    "chats": "Настройки чатов",
    "schedule": "Карточка занятия",
    "connection": "Подключение",
    "lessons": "Онлайн-занятия",
    "sync": "Синхронизация",
    "mailing": "Рассылки",
    "advanced": "Дополнительно",
}
"""Titles of the field groups (``SettingsField.section``) the host knows; an unknown section shows its code."""


def host_fields(module: str, chat_backends: Sequence[ChatBackendInfo]) -> list[SettingsField]:
    """The host's own fields of ``module`` (empty for plugin modules)."""
    if module == "main":
        choices = ((NATIVE_CHATS, "Чаты ЛК"), *((backend.code, backend.title) for backend in chat_backends))
        return [
            SettingsField(
                name="org_name",
                label="Название организации",
                help="Показывается в заголовке личного кабинета.",
                default="Университет",
                required=True,
                max_length=200,
            ),
            SettingsField(
                name="chat_type",
                label="Тип чатов",
                type="choice",
                help="Где пользователи личного кабинета общаются в разделе «Чаты».",
                default=NATIVE_CHATS,
                required=True,
                choices=choices,
                section="chats",
            ),
        ]
    if module == "schedule":
        return [
            SettingsField(
                name="show_room",
                label="Показывать аудиторию в карточке занятия",
                type="boolean",
                default="1",
                section="schedule",
            ),
            SettingsField(
                name="empty_day_text",
                label="Текст для дня без занятий",
                default="Занятий нет",
                max_length=100,
                section="schedule",
            ),
        ]
    return []
