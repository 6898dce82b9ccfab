"""The platform port: what the module asks of Sferum, whichever messenger hosts it (PRODUCT.md §8).

Sferum lives in VK Messenger or in MAX, chosen in the module's settings («Платформа «Сферума»»).  Pages and
services ask :func:`platform_for` for the chosen platform's adapter — a dict lookup, never ``if platform == ...``
— and talk to it through :class:`Platform`.  Each adapter owns its wire format and its errors.  So far the port
has one operation, «Проверить подключение»; the rest of the module's flows move onto it in later work (issue 12).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo
from typing import TYPE_CHECKING, Protocol

import attrs

from sferum_plugin.gateway.errors import MalformedResponseError, SferumError, TransportError
from sferum_plugin.gateway.max import MaxTransientError, MaxUnauthorizedError
from sferum_plugin.i18n import N_, gettext
from sferum_plugin.services.explain import check_text
from sferum_plugin.settings import MAX, VK, MaxSettings, SferumSettings, platform_code

if TYPE_CHECKING:
    from sferum_plugin.services.connection import SferumAccess

__all__ = ["PLATFORMS", "ConnectionReport", "MaxPlatform", "Platform", "VerdictLine", "VkPlatform", "platform_for"]


@attrs.frozen
class VerdictLine:
    """One line of «Проверить подключение»: what was checked, whether it was accepted, and why, in words.

    :param key: a stable name of what was checked (``app_token``, ``max_bot_token``...), for pages and tests.
    :param label: what was checked, in the UI language.
    :param text: the verdict in the UI language: what the platform said and what to do.
    """

    key: str
    label: str
    ok: bool
    text: str


@attrs.frozen
class ConnectionReport:
    """The answer of «Проверить подключение».

    :param address: the API address that was asked (shown on the page).
    :param lines: one verdict per checked credential; empty when nothing could be checked.
    :param missing: set instead of ``lines`` when the platform's credentials are not filled in: what to fill in,
        a Russian source string (translated where it is shown).
    """

    address: str
    lines: tuple[VerdictLine, ...] = ()
    missing: str | None = None


class Platform(Protocol):
    """One platform hosting Sferum: an adapter behind the port."""

    @property
    def code(self) -> str:
        """The value of the «Платформа «Сферума»» setting that chooses it."""
        ...

    @property
    def title(self) -> str:
        """Its name as the settings show it (a Russian source string)."""
        ...

    def check_connection(
        self, stored: Mapping[str, str], sferum: SferumAccess, *, locale: str, timezone: tzinfo
    ) -> ConnectionReport:
        """Ask the platform whether the stored credentials are accepted; one attempt within the timeout."""
        ...


_VK_LABELS = {"app_id": "APP ID", "service_token": N_("Сервисный токен"), "app_token": N_("Токен приложения")}


class VkPlatform:
    """Sferum in VK Messenger: the credential check of :mod:`sferum_plugin.gateway.credentials`, unchanged."""

    code = VK
    title = "VK Мессенджер"

    def check_connection(
        self, stored: Mapping[str, str], sferum: SferumAccess, *, locale: str, timezone: tzinfo
    ) -> ConnectionReport:
        settings = SferumSettings.from_stored(stored)
        if settings is None:
            return ConnectionReport(address="", missing=N_("Сначала заполните APP ID и оба токена."))
        checks = sferum.check_credentials(settings)
        lines = tuple(
            VerdictLine(
                key=check.credential,
                label=gettext(locale, _VK_LABELS[check.credential]),
                ok=check.ok,
                text=check_text(check, locale, timezone),
            )
            for check in checks
        )
        return ConnectionReport(address=settings.api_base_url, lines=lines)


_MAX_BOT = N_("Токен бота")
_MAX_ACCEPTED = N_("Токен принят: бот «%(name)s» (@%(username)s).")
_MAX_ACCEPTED_NO_USERNAME = N_("Токен принят: бот «%(name)s».")
_MAX_REFUSALS: tuple[tuple[type[SferumError], str], ...] = (
    (
        MaxUnauthorizedError,
        N_(
            "MAX не принял токен бота: проверьте поле «Токен бота» (его выдаёт @MasterBot в MAX) и сохраните настройки."
        ),
    ),
    (
        TransportError,
        N_(
            "MAX не ответил за отведённое время: проверьте «Адрес API MAX» и связь сервера с MAX, "
            "затем попробуйте ещё раз."
        ),
    ),
    (
        MaxTransientError,
        N_("У MAX временный сбой или слишком много запросов подряд. Попробуйте ещё раз через минуту."),
    ),
    (
        MalformedResponseError,
        N_("По адресу API MAX ответил не MAX: проверьте поле «Адрес API MAX»."),
    ),
)
_MAX_FAILED = N_("MAX отказал в запросе сведений о боте: проверьте токен бота и адрес API MAX в настройках.")


def max_check_text(error: SferumError, locale: str) -> str:
    """Why MAX did not confirm the bot, in ``locale``: what happened and what to do."""
    for kind, message in _MAX_REFUSALS:
        if isinstance(error, kind):
            return gettext(locale, message)
    return gettext(locale, _MAX_FAILED)


class MaxPlatform:
    """Sferum in MAX: the bot's token, checked with ``GET /me``."""

    code = MAX
    title = "MAX"

    def check_connection(
        self, stored: Mapping[str, str], sferum: SferumAccess, *, locale: str, timezone: tzinfo
    ) -> ConnectionReport:
        settings = MaxSettings.from_stored(stored)
        if settings is None:
            return ConnectionReport(address="", missing=N_("Сначала укажите токен бота MAX."))
        label = gettext(locale, _MAX_BOT)
        try:
            bot = sferum.check_max_bot(settings)
        except SferumError as error:
            line = VerdictLine(key="max_bot_token", label=label, ok=False, text=max_check_text(error, locale))
        else:
            if bot.username:
                text = gettext(locale, _MAX_ACCEPTED) % {"name": bot.name, "username": bot.username}
            else:
                text = gettext(locale, _MAX_ACCEPTED_NO_USERNAME) % {"name": bot.name}
            line = VerdictLine(key="max_bot_token", label=label, ok=True, text=text)
        return ConnectionReport(address=settings.api_url, lines=(line,))


PLATFORMS: Mapping[str, Platform] = {VK: VkPlatform(), MAX: MaxPlatform()}
"""Every platform by its setting's value."""


def platform_for(stored: Mapping[str, str]) -> Platform:
    """The adapter of the platform chosen in the module's stored settings."""
    return PLATFORMS[platform_code(stored)]
