"""The rights this module declares; administrators grant them to roles on Права доступа → Роли."""

from __future__ import annotations

from hookspecs.types import Permission

__all__ = ["ONLINE_LESSONS_VIEW", "PERMISSIONS"]

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
