"""What a failed Sferum operation means, in words an administrator understands, and whether to try again."""

from __future__ import annotations

import enum
from datetime import timedelta

from sferum_plugin.gateway.errors import (
    AccessDeniedError,
    AuthError,
    ChatAccessDeniedError,
    ChatNotFoundError,
    ContactNotFoundError,
    InvalidUserIdError,
    NotChatAdminError,
    PermanentApiError,
    QuotaExceededError,
    SferumError,
)
from sferum_plugin.i18n import N_

__all__ = ["MAX_ATTEMPTS", "Verdict", "backoff", "reason_of", "verdict_of"]

MAX_ATTEMPTS = 8
"""Transient failures of one operation before it is given up as failed (about two hours of backoff)."""


class Verdict(enum.Enum):
    """What to do with an operation after a failure."""

    RETRY = "retry"  # transient: try again after a backoff
    PAUSE = "pause"  # quota: the whole service waits until the resume time
    VANISHED = "vanished"  # the chat is gone (927)
    FAILED = "failed"  # permanent: stop retrying, show to admins


def verdict_of(error: SferumError) -> Verdict:
    """Classify ``error`` (see the gateway's error tree)."""
    if isinstance(error, QuotaExceededError):
        return Verdict.PAUSE
    if isinstance(error, ChatNotFoundError):
        return Verdict.VANISHED
    if isinstance(error, PermanentApiError):
        return Verdict.FAILED
    return Verdict.RETRY


def backoff(attempts: int) -> timedelta:
    """Wait before retry ``attempts`` of an operation: 30 s doubling, at most an hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def reason_of(error: SferumError) -> str:
    """The reason, as a Russian source string marked for translation (translated where it is shown)."""
    if isinstance(error, QuotaExceededError):
        return N_("Превышен лимит запросов Сферума: синхронизация приостановлена до указанного времени.")
    if isinstance(error, ChatNotFoundError):
        return N_("Чат удалён в Сферуме.")
    if isinstance(error, ContactNotFoundError | InvalidUserIdError):
        return N_("Пользователь не найден в Сферуме: профиль удалён или недоступен.")
    if isinstance(error, NotChatAdminError):
        return N_("Учётная запись организации не является администратором чата.")
    if isinstance(error, ChatAccessDeniedError):
        return N_("Учётная запись организации не состоит в чате.")
    if isinstance(error, AuthError):
        return N_("Сферум не принял токен приложения: проверьте настройки модуля.")
    if isinstance(error, AccessDeniedError):
        return N_("Сферум запретил действие: настройки приватности пользователя или недостаточно прав.")
    if isinstance(error, PermanentApiError):
        return N_("Сферум отказал в операции.")
    return N_("Временная ошибка связи со Сферумом: операция будет повторена.")
