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
from sferum_plugin.gateway.max.errors import (
    MaxForbiddenError,
    MaxNotFoundError,
    MaxTooManyRequestsError,
    MaxTransientError,
    MaxUnauthorizedError,
)
from sferum_plugin.i18n import N_, gettext

__all__ = [
    "MAX_CHAT_PROBLEMS",
    "Explanation",
    "Retry",
    "chat_button_failure",
    "chat_invite_failure",
    "check_text",
    "explain",
    "explain_max",
    "max_events_text",
    "moment_text",
    "reason_text",
]


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


# Chats on MAX (issue 12 item 4): the chat button the bot sends, and the state of a chat the bot should administer.
_MAX_BUTTON_REFUSALS: tuple[tuple[type[SferumError], str], ...] = (
    (
        MaxForbiddenError,
        N_(
            "MAX не разрешил боту написать вам: бот может писать только тем, кто открыл его в MAX и нажал «Начать». "
            "Откройте бота в MAX, нажмите «Начать», затем нажмите «Отправить кнопку ещё раз»."
        ),
    ),
    (
        MaxNotFoundError,
        N_(
            "MAX не нашёл связанный профиль: возможно, он удалён. Свяжите профиль MAX заново на странице "
            "«Создать учебный профиль Сферум», затем нажмите «Отправить кнопку ещё раз»."
        ),
    ),
    (
        MaxUnauthorizedError,
        N_("MAX не принял токен бота: сообщите администратору, ему нужно проверить «Токен бота» в настройках модуля."),
    ),
)
_MAX_BUTTON_UNKNOWN = N_(
    "MAX не подтвердил, отправлено ли сообщение с кнопкой. Проверьте сообщения от бота в MAX; если кнопки нет, "
    "нажмите «Отправить кнопку ещё раз»."
)


def chat_button_failure(error: SferumError) -> Explanation:
    """Why the bot could not send the person the button that creates their chat in MAX, and what to do."""
    if isinstance(error, OutcomeUnknownError):
        return Explanation(_MAX_BUTTON_UNKNOWN, will_retry=False)
    for cls, text in _MAX_BUTTON_REFUSALS:
        if isinstance(error, cls):
            return Explanation(text, will_retry=False)
    return explain(error, retry=Retry.BY_PERSON)


_MAX_INVITE_REFUSALS: tuple[tuple[type[SferumError], str], ...] = (
    (
        MaxForbiddenError,
        N_(
            "MAX не разрешил боту написать этому человеку: он не открывал бота или заблокировал его. Передайте ему "
            "ссылку на чат другим способом."
        ),
    ),
    (
        MaxNotFoundError,
        N_("MAX не нашёл этого человека: возможно, его профиль MAX удалён. Попросите его связать профиль заново."),
    ),
    (
        MaxUnauthorizedError,
        N_("MAX не принял токен бота: проверьте «Токен бота» в настройках модуля."),
    ),
)
_MAX_INVITE_UNKNOWN = N_(
    "MAX не подтвердил, что сообщение со ссылкой доставлено: оно могло дойти. Спросите человека, прежде чем "
    "отправлять ссылку ещё раз."
)


def chat_invite_failure(error: SferumError) -> str:
    """Why the bot could not send a person the chat's link (a Russian source string), and what to do."""
    if isinstance(error, OutcomeUnknownError):
        return _MAX_INVITE_UNKNOWN
    for cls, text in _MAX_INVITE_REFUSALS:
        if isinstance(error, cls):
            return text
    return explain(error, retry=Retry.BY_PERSON).message


MAX_CHAT_PROBLEMS: dict[str, str] = {
    "not_found": N_(
        "MAX не нашёл чат с таким номером. Проверьте номер: он виден в адресе чата в веб-версии MAX "
        "(https://web.max.ru/-…)."
    ),
    "bot_not_member": N_(
        "Бота модуля нет в этом чате MAX. Добавьте бота в чат, назначьте его администратором с правом добавлять и "
        "удалять участников и повторите."
    ),
    "bot_not_admin": N_(
        "Бот модуля состоит в чате MAX, но не администратор с правом добавлять и удалять участников. Назначьте его "
        "таким администратором в настройках чата в MAX и повторите."
    ),
    "channel": N_("Это канал MAX, а не групповой чат: модуль управляет участниками только групповых чатов."),
    "bot_removed": N_(
        "Бота модуля удалили из чата в MAX, поэтому модуль больше не управляет его участниками. Верните бота в чат, "
        "назначьте его администратором с правом добавлять и удалять участников и нажмите «Проверить чат снова»."
    ),
}
"""What is wrong with a MAX chat the module's bot should administer (linking one, or one it lost), and what to do."""


# MAX for a person who clicked (online lessons on MAX, issue 12 item 7): nothing repeats the action by itself.
_MAX_FOR_PERSON: tuple[tuple[type[SferumError], str], ...] = (
    (
        OutcomeUnknownError,
        N_("MAX не подтвердил, выполнена ли операция. Проверьте результат в MAX, прежде чем повторять."),
    ),
    (
        TransportError,
        N_(
            "MAX не отвечает. Попробуйте ещё раз через несколько минут; если ошибка повторяется, сообщите "
            "администратору."
        ),
    ),
    (
        MaxTooManyRequestsError,
        N_("MAX получил слишком много запросов подряд и попросил подождать. Попробуйте ещё раз через минуту."),
    ),
    (MaxTransientError, N_("У MAX временный сбой. Попробуйте ещё раз через несколько минут.")),
    (
        MalformedResponseError,
        N_(
            "MAX прислал ответ, который не удалось разобрать. Попробуйте ещё раз через несколько минут; если ошибка "
            "повторяется, сообщите администратору."
        ),
    ),
    (
        MaxUnauthorizedError,
        N_(
            "MAX не принял токен бота. Сообщите администратору: ему нужно проверить «Токен бота» в настройках модуля "
            "(кнопка «Проверить подключение»)."
        ),
    ),
    (
        MaxForbiddenError,
        N_(
            "MAX не разрешил боту модуля это действие: бот должен состоять в чате и быть его администратором. "
            "Сообщите администратору."
        ),
    ),
    (MaxNotFoundError, N_("MAX не нашёл чат: он удалён или бота модуля в нём больше нет. Сообщите администратору.")),
)


def explain_max(error: SferumError) -> Explanation:
    """A MAX failure in words for a person who clicked a button (nothing repeats it by itself): a failing MAX
    (429, 503, no answer), an ambiguous send, a refused token or chat."""
    for cls, text in _MAX_FOR_PERSON:
        if isinstance(error, cls):
            return Explanation(text, will_retry=False)
    return Explanation(N_("MAX не выполнил операцию. Сообщите администратору."), will_retry=False)


# MAX's events (issue 12 item 6): the webhook subscription, as «Проверить подключение» reports it.
_MAX_EVENTS_WEBHOOK = N_("MAX присылает события бота на %(url)s: подписка действует.")
_MAX_EVENTS_POLLING = N_("События бота модуль забирает сам (long polling): подписок на webhook у бота нет.")
_MAX_EVENTS_INCOMPLETE = N_(
    "Для webhook укажите в настройках «Публичный адрес для webhook» и «Секрет webhook», затем сохраните их."
)
_MAX_EVENTS_REFUSALS: tuple[tuple[type[SferumError], str], ...] = (
    (
        MaxUnauthorizedError,
        N_("MAX не принял токен бота, поэтому подписка на события не проверена: исправьте поле «Токен бота»."),
    ),
    (
        TransportError,
        N_(
            "MAX не ответил на запрос о подписке на события. Модуль повторяет его каждые пять минут; проверьте связь "
            "сервера с MAX, если сообщение не исчезает."
        ),
    ),
    (
        MaxTransientError,
        N_(
            "У MAX временный сбой, подписка на события не проверена. Модуль повторяет проверку каждые пять минут "
            "и подпишется сам."
        ),
    ),
)
_MAX_EVENTS_REFUSED = N_(
    "MAX не принял подписку на события по адресу %(url)s: проверьте «Публичный адрес для webhook» (адрес "
    "https://, открытый из интернета, с путём /m/sferum/max/updates) и «Секрет webhook», сохраните настройки и "
    "повторите проверку. Пока подписки нет, события не приходят (составы чатов сверяет только полная синхронизация)."
)


def max_events_text(locale: str, *, url: str, error: SferumError | None = None, incomplete: bool = False) -> str:
    """How MAX's events reach the module, or why the subscription failed, in ``locale`` (webhook ``url``, or
    ``""`` with long polling)."""
    if incomplete:
        return gettext(locale, _MAX_EVENTS_INCOMPLETE)
    if error is None:
        return gettext(locale, _MAX_EVENTS_WEBHOOK) % {"url": url} if url else gettext(locale, _MAX_EVENTS_POLLING)
    for kind, message in _MAX_EVENTS_REFUSALS:
        if isinstance(error, kind):
            return gettext(locale, message)
    return gettext(locale, _MAX_EVENTS_REFUSED) % {"url": url or "—"}


# The membership sync on MAX (issue 12 item 5): a refused bot token, a chat the bot cannot manage, a person MAX did
# not add or remove.  Stored by the sync (an operation's ``last_error``, a chat's ``error``, the pause's reason).
MAX_SYNC_TOKEN_REFUSED = N_(
    "MAX не принял токен бота, поэтому синхронизация чатов остановлена: модуль не отправляет в MAX ни одного запроса. "
    "Проверьте «Токен бота» в настройках модуля (его выдаёт @MasterBot в MAX) и сохраните настройки — синхронизация "
    "продолжится сама. Если токен не менялся и верен, нажмите «Синхронизировать сейчас»; иначе следующая попытка "
    "будет %(until)s."
)
MAX_SYNC_CHAT_DENIED = N_(
    "MAX не даёт боту модуля управлять участниками этого чата: бота удалили из чата или он больше не администратор "
    "с правом добавлять и удалять участников. Синхронизация чата остановлена. Назначьте бота администратором чата с "
    "этим правом и нажмите «Проверить чат снова» или свяжите с группой другой чат."
)
MAX_SYNC_CHAT_GONE = N_(
    "MAX не нашёл этот чат: его удалили или бота модуля в нём больше нет. Синхронизация чата остановлена. Если чат "
    "есть, добавьте в него бота администратором с правом добавлять и удалять участников и свяжите чат снова; иначе "
    "попросите новый чат или свяжите с группой другой."
)
MAX_SYNC_ADD_REFUSED: dict[str, str] = {
    "add.participant.privacy": N_(
        "MAX не дал добавить человека в чат: его настройки приватности запрещают добавлять его в чаты. Повторов не "
        "будет: попросите человека разрешить это в настройках приватности MAX и добавьте его в чат в MAX (модуль "
        "увидит это при следующей полной сверке)."
    ),
    "add.participant.not.found": N_(
        "MAX не нашёл этого пользователя: профиль MAX удалён или недоступен. Повторов не будет: человеку нужно "
        "заново связать профиль MAX."
    ),
    "": N_("MAX не добавил человека в чат и не назвал причину. Повторов не будет; сообщите администратору."),
}
"""Why MAX did not add a person (``failed_user_details``), by MAX's ``error_code``; ``""``: any other code."""
MAX_SYNC_REMOVE_REFUSED = N_(
    "MAX не дал удалить человека из чата (например, это владелец чата): повторов не будет. Если человек должен "
    "покинуть чат, удалите его в MAX."
)
