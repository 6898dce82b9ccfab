"""A Sferum failure in words a person reads: what happened and what to do, in the UI language.

Every page and every stored reason that tells a person about a gateway error goes through :func:`explain`, keyed by
the error classes of :mod:`sferum_plugin.gateway.errors` (VK's own ``error_msg`` is English and is never shown).
Messages are true to who repeats the action (:class:`Retry`): «…будет повторена» only where the sync worker will
repeat it; a page click says what the person can do instead.  A quota pause names its end (``%(until)s``), filled
in the organisation's time zone by :func:`reason_text` — from the error where it is at hand, from the sync service's
``paused_until`` where the reason was stored.

Messages are Russian source strings marked with ``N_`` (translated where they are shown), so they can be stored.
"""

from __future__ import annotations

import enum
from datetime import datetime, tzinfo

import attrs

from sferum_plugin.gateway.codes import VkErrorCode
from sferum_plugin.gateway.credentials import CheckVerdict, CredentialCheck
from sferum_plugin.gateway.errors import (
    AccessDeniedError,
    AuthError,
    CaptchaNeededError,
    ChatAccessDeniedError,
    ChatError,
    ChatNotFoundError,
    ContactNotFoundError,
    InvalidParameterError,
    InvalidUserIdError,
    MalformedResponseError,
    NotChatAdminError,
    NotOrganisationMemberError,
    OutcomeUnknownError,
    PermanentApiError,
    QuotaExceededError,
    RetryableApiError,
    ServerError,
    SferumError,
    SpamRestrictionError,
    TransportError,
    VkIdError,
)
from sferum_plugin.i18n import N_, gettext

__all__ = ["Explanation", "Retry", "check_text", "explain", "moment_text", "reason_text"]


class Retry(enum.Enum):
    """Who repeats the failed action."""

    BY_PERSON = "person"
    """A page: nothing repeats it by itself; the person may try again."""
    AUTOMATIC = "automatic"
    """The sync worker repeats a transient failure by itself (after a backoff, or after the quota pause)."""
    GIVEN_UP = "given_up"
    """The sync worker tried as often as it does and stopped."""


@attrs.frozen
class Explanation:
    """A gateway error for a person.

    :param message: a Russian source string; may hold ``%(until)s`` (the end of a quota pause).
    :param will_retry: something repeats the action by itself (only then does the message say so).
    :param until: when the quota pause ends, for ``%(until)s``.
    """

    message: str
    will_retry: bool
    until: datetime | None = None

    def text(self, locale: str, timezone: tzinfo) -> str:
        """The message in ``locale``, the pause's end in ``timezone`` (the organisation's)."""
        return reason_text(self.message, locale, until=self.until, timezone=timezone)


def moment_text(value: datetime | None, timezone: tzinfo) -> str:
    """A moment as the module's pages show it: ``29.11.2026 10:44`` in ``timezone``; ``—`` for none."""
    return value.astimezone(timezone).strftime("%d.%m.%Y %H:%M") if value is not None else "—"


def reason_text(message: str, locale: str, *, until: datetime | None, timezone: tzinfo) -> str:
    """A reason (explained now, or stored earlier) in ``locale``, with ``%(until)s`` filled in."""
    translated = gettext(locale, message)
    return translated % {"until": moment_text(until, timezone)} if "%(until)s" in translated else translated


# Failures that leave nothing to fix but time: the words, then what happens next for each kind of caller.
_TRANSIENT: dict[str, dict[Retry, str]] = {
    "rate": {
        Retry.BY_PERSON: N_(
            "Сферум получил слишком много запросов подряд и попросил подождать. Попробуйте ещё раз через минуту."
        ),
        Retry.AUTOMATIC: N_(
            "Сферум получил слишком много запросов подряд и попросил подождать: операция будет повторена автоматически."
        ),
    },
    "unreachable": {
        Retry.BY_PERSON: N_(
            "Сферум не отвечает. Попробуйте ещё раз через несколько минут; если ошибка повторяется, "
            "сообщите администратору."
        ),
        Retry.AUTOMATIC: N_("Сферум не отвечает: операция будет повторена автоматически."),
    },
    "server": {
        Retry.BY_PERSON: N_("У Сферума временный сбой. Попробуйте ещё раз через несколько минут."),
        Retry.AUTOMATIC: N_("У Сферума временный сбой: операция будет повторена автоматически."),
    },
    "unreadable": {
        Retry.BY_PERSON: N_(
            "Сферум прислал ответ, который не удалось разобрать. Попробуйте ещё раз через несколько "
            "минут; если ошибка повторяется, сообщите администратору."
        ),
        Retry.AUTOMATIC: N_(
            "Сферум прислал ответ, который не удалось разобрать: операция будет повторена автоматически."
        ),
    },
}
_GIVEN_UP = N_(
    "Сферум не выполнил операцию ни с одной из попыток (нет связи, сбой или ограничение частоты запросов): "
    "повторов не будет. Проверьте связь сервера со Сферумом (кнопка «Проверить подключение» в настройках модуля)."
)

# Refusals: repeating the same request cannot help, whoever repeats it.
_REFUSALS: tuple[tuple[type[SferumError], str], ...] = (
    (ChatNotFoundError, N_("Чат удалён в Сферуме.")),
    (
        NotOrganisationMemberError,
        N_(
            "Человек не состоит в организации в Сферуме, поэтому в её рабочий чат его добавить нельзя: добавьте его "
            "в организацию в Сферуме."
        ),
    ),
    (ContactNotFoundError, N_("Пользователь не найден в Сферуме: профиль удалён или недоступен.")),
    (InvalidUserIdError, N_("Пользователь не найден в Сферуме: профиль удалён или недоступен.")),
    (
        NotChatAdminError,
        N_("Учётная запись организации не является администратором чата: назначьте её администратором в Сферуме."),
    ),
    (ChatAccessDeniedError, N_("Учётная запись организации не состоит в чате: добавьте её в чат в Сферуме.")),
    (
        AuthError,
        N_(
            "Сферум не принял токен приложения: администратору нужно проверить токены в настройках модуля "
            "(кнопка «Проверить подключение»)."
        ),
    ),
    (
        AccessDeniedError,
        N_(
            "Сферум отказал: у учётной записи организации нет прав на это действие или его "
            "запрещают настройки приватности пользователя. Сообщите администратору."
        ),
    ),
    (InvalidParameterError, N_("Сферум отказал: он счёл запрос неверным. Сообщите администратору.")),
    (ChatError, N_("Сферум отказал в действии с чатом. Сообщите администратору.")),
    (PermanentApiError, N_("Сферум отказал в операции. Сообщите администратору.")),
    (
        VkIdError,
        N_("VK ID отказал во входе. Попробуйте войти ещё раз; если ошибка повторяется, сообщите администратору."),
    ),
)


def _transient_kind(error: SferumError) -> str | None:
    """Which failure that time may cure ``error`` is, or ``None`` when it is something else."""
    if isinstance(error, RetryableApiError):
        return "rate" if error.code == VkErrorCode.TOO_MANY else "server"
    if isinstance(error, ServerError):
        return "rate" if error.status_code == 429 else "server"
    if isinstance(error, TransportError):
        return "unreachable"
    if isinstance(error, MalformedResponseError):
        return "unreadable"
    return None


# The sync's own pause, by what paused it: each a state of the organisation account, with what to do about it.
_PAUSED: dict[type[QuotaExceededError], str] = {
    QuotaExceededError: N_(
        "Сферум временно ограничил число запросов организации: синхронизация приостановлена до %(until)s, "
        "затем продолжится сама."
    ),
    CaptchaNeededError: N_(
        "Сферум потребовал ввести капчу от имени учётной записи организации: синхронизация приостановлена до "
        "%(until)s, затем продолжится сама. Если пауза повторяется, войдите в Сферум под учётной записью "
        "организации и пройдите проверку."
    ),
    SpamRestrictionError: N_(
        "Сферум ограничил учётную запись организации за подозрение в спаме: синхронизация приостановлена до "
        "%(until)s, затем продолжится сама. Если ограничение не снимется, обратитесь в поддержку Сферума."
    ),
}


def _quota(error: QuotaExceededError, retry: Retry) -> Explanation:
    if retry is not Retry.BY_PERSON:
        return Explanation(
            _PAUSED.get(type(error), _PAUSED[QuotaExceededError]), will_retry=True, until=error.resume_at
        )
    if isinstance(error, CaptchaNeededError):
        text = N_(
            "Сферум потребовал ввести капчу от имени учётной записи организации. Попробуйте снова после %(until)s; "
            "если это повторяется, сообщите администратору: ему нужно войти в Сферум под этой учётной записью."
        )
    elif isinstance(error, SpamRestrictionError):
        text = N_(
            "Сферум ограничил учётную запись организации за подозрение в спаме. Попробуйте снова после %(until)s; "
            "если ограничение не снимется, сообщите администратору."
        )
    else:
        text = N_("Сферум временно ограничил число запросов организации. Попробуйте снова после %(until)s.")
    return Explanation(text, will_retry=False, until=error.resume_at)


def _outcome_unknown(retry: Retry) -> Explanation:
    if retry is Retry.BY_PERSON:
        text = N_("Сферум не подтвердил, выполнена ли операция. Проверьте результат в Сферуме, прежде чем повторять.")
        return Explanation(text, will_retry=False)
    text = N_(
        "Сферум не подтвердил, выполнена ли операция: синхронизация сверится со Сферумом и при необходимости "
        "повторит её."
    )
    return Explanation(text, will_retry=True)


def explain(error: SferumError, *, retry: Retry) -> Explanation:
    """``error`` in words a person understands, true to who repeats the action (``retry``)."""
    kind = _transient_kind(error)
    if retry is Retry.GIVEN_UP and (kind is not None or isinstance(error, QuotaExceededError | OutcomeUnknownError)):
        return Explanation(_GIVEN_UP, will_retry=False)
    if isinstance(error, QuotaExceededError):
        return _quota(error, retry)
    if isinstance(error, OutcomeUnknownError):
        return _outcome_unknown(retry)
    if kind is not None:
        return Explanation(_TRANSIENT[kind][retry], will_retry=retry is Retry.AUTOMATIC)
    for cls, text in _REFUSALS:
        if isinstance(error, cls):
            return Explanation(text, will_retry=False)
    return Explanation(N_("Сферум не выполнил операцию. Сообщите администратору."), will_retry=False)


# «Проверить подключение»: one sentence per verdict; ``%(name)s`` and ``%(number)s`` are what Sferum answered.
_CHECK_TEXTS: dict[tuple[CheckVerdict, str], str] = {
    (CheckVerdict.ACCEPTED, "app_id"): N_("APP ID %(number)s — приложение «%(name)s»."),
    (CheckVerdict.ACCEPTED, "service_token"): N_("Токен выдан приложению «%(name)s» (APP ID %(number)s)."),
    (CheckVerdict.ACCEPTED, "app_token"): N_("Токен действует от имени пользователя «%(name)s» (id %(number)s)."),
    (CheckVerdict.EMPTY, "app_id"): N_("APP ID должен быть положительным числом: исправьте его в настройках."),
    (CheckVerdict.EMPTY, "service_token"): N_("Сервисный токен не указан: впишите его в настройках."),
    (CheckVerdict.EMPTY, "app_token"): N_("Токен приложения не указан: впишите его в настройках."),
    (CheckVerdict.REJECTED, "app_id"): N_("Сферум не принял сервисный токен, поэтому APP ID не проверен."),
    (CheckVerdict.REJECTED, "service_token"): N_(
        "Сферум не принял сервисный токен: проверьте, что он скопирован полностью и не отозван."
    ),
    (CheckVerdict.REJECTED, "app_token"): N_(
        "Сферум не принял токен приложения: проверьте, что он скопирован полностью, не отозван и не истёк."
    ),
    (CheckVerdict.NO_APPLICATION, "service_token"): N_(
        "Это не сервисный токен приложения: Сферум не называет по нему ни одного приложения."
    ),
    (CheckVerdict.UNKNOWN_APP, "app_id"): N_("Сферум не знает приложения с APP ID %(number)s: проверьте число."),
    (CheckVerdict.OTHER_APP, "app_id"): N_(
        "Это приложение «%(name)s», но сервисный токен выдан другому приложению (APP ID %(number)s): "
        "неверно одно из двух."
    ),
    (CheckVerdict.NOT_CHECKED, "app_id"): N_(
        "APP ID не проверен: для этого нужен сервисный токен, который примет Сферум."
    ),
    (CheckVerdict.NO_OWNER, "app_token"): N_(
        "Токен не принадлежит ни одному пользователю, а чатам и звонкам нужен токен пользователя (учётной записи "
        "организации)."
    ),
}
_NO_CONNECTION = N_(
    "Сферум не отвечает по адресу API из настроек: проверьте адрес и доступ сервера к Сферуму, затем повторите "
    "проверку."
)
_CHECK_FAILED = N_("Проверить не удалось: %(reason)s")


def check_text(check: CredentialCheck, locale: str, timezone: tzinfo) -> str:
    """The «Проверить подключение» verdict on one credential in ``locale``: what Sferum said and what to do."""
    error = check.error
    if check.verdict in (CheckVerdict.REFUSED, CheckVerdict.NO_ANSWER) and error is not None:
        if isinstance(error, TransportError):
            return gettext(locale, _NO_CONNECTION)
        reason = explain(error, retry=Retry.BY_PERSON).text(locale, timezone)
        return gettext(locale, _CHECK_FAILED) % {"reason": reason}
    text = _CHECK_TEXTS.get((check.verdict, check.credential))
    if text is None:
        return gettext(locale, _CHECK_FAILED) % {"reason": gettext(locale, N_("Сферум не выполнил операцию."))}
    return gettext(locale, text) % {"name": check.name or "—", "number": check.number}
