"""The rights this module declares; administrators grant them to roles on Права доступа → Роли."""

from __future__ import annotations

from hookspecs.types import Permission

__all__ = [
    "CHATS_CREATE_CUSTOM",
    "CHATS_CREATE_GROUP",
    "CHATS_CREATE_UNIT",
    "CHATS_MANAGE",
    "MAILING_SEND",
    "ONLINE_LESSONS_VIEW",
    "PERMISSIONS",
]

ONLINE_LESSONS_VIEW = "sferum.online_lessons.view"

# The seed: Администрирование → Права доступа → Роли → Обучающийся (Сотрудник) → Расписание →
# «Просмотр раздела онлайн-занятий (Сферум)». No default roles: the seed has the administrator grant it.
PERMISSIONS: tuple[Permission, ...] = (
    Permission(
        code=ONLINE_LESSONS_VIEW,
        section="Расписание",
        title="Просмотр раздела онлайн-занятий (Сферум)",
    ),
)

CHATS_CREATE_GROUP = "sferum.chats.create_group"
CHATS_CREATE_UNIT = "sferum.chats.create_unit"
CHATS_CREATE_CUSTOM = "sferum.chats.create_custom"
CHATS_MANAGE = "sferum.chats.manage"

# Issue 5: employees create chats of groups they teach or curate and of their own unit, students create custom
# chats, administrators any chat and the «Синхронизация чатов» page (no default role: the admin grants it).
PERMISSIONS += (
    Permission(
        code=CHATS_CREATE_GROUP,
        section="Чаты",
        title="Создание чатов своих учебных групп в Сферум",
        default_roles=("employee",),
    ),
    Permission(
        code=CHATS_CREATE_UNIT,
        section="Чаты",
        title="Создание чата своего структурного подразделения в Сферум",
        default_roles=("employee",),
    ),
    Permission(
        code=CHATS_CREATE_CUSTOM,
        section="Чаты",
        title="Создание чатов с выбранными пользователями в Сферум",
        default_roles=("student",),
    ),
    Permission(code=CHATS_MANAGE, section="Чаты", title="Управление чатами и синхронизацией Сферум"),
)

MAILING_SEND = "sferum.mailing.send"

# Issue 6: «Создать e-mail рассылку» in the Обучающиеся and Сотрудники lists and the list of mailings; listed with
# «Просмотр обучающихся» on the roles page (the mailing's main audience). No default role: the administrator grants
# it to the responsible employees.
PERMISSIONS += (
    Permission(
        code=MAILING_SEND,
        section="Обучающиеся",
        title="Создание e-mail рассылок обучающимся и сотрудникам (Сферум)",
    ),
)
