"""The platform port: what the module asks of Sferum, whichever messenger hosts it (PRODUCT.md §8).

Sferum lives in VK Messenger or in MAX, chosen in the module's settings («Платформа «Сферума»»).  Pages and
services ask :func:`platform_for` for the chosen platform's adapter — a dict lookup, never ``if platform == ...``
— and talk to it through :class:`Platform`.  Each adapter owns its wire format and its errors.  So far the port
has one operation, «Проверить подключение»; the rest of the module's flows move onto it in later work (issue 12).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from datetime import tzinfo
from typing import TYPE_CHECKING, Protocol

import attrs

from sferum_plugin.gateway.errors import MalformedResponseError, SferumError, TransportError
from sferum_plugin.gateway.max import MaxTransientError, MaxUnauthorizedError
from sferum_plugin.i18n import N_, gettext
from sferum_plugin.services import max_profiles, profiles
from sferum_plugin.services.explain import check_text, explain_max
from sferum_plugin.services.lessons import LessonPlatform, VkLessons
from sferum_plugin.services.max_lessons import MaxLessons
from sferum_plugin.services.max_profiles import DeepLinkStart
from sferum_plugin.services.max_updates import check_events
from sferum_plugin.services.profiles import LinkStart
from sferum_plugin.services.sync.api import SyncConnection
from sferum_plugin.services.sync.max_membership import MaxMembership
from sferum_plugin.services.sync.vk_membership import VkMembership
from sferum_plugin.settings import DEFAULTS, MAX, VK, MaxSettings, SferumSettings, platform_code

if TYPE_CHECKING:
    from collections.abc import Sequence

    from hookspecs.services import Host
    from hookspecs.types import Viewer
    from sferum_plugin.services.chats import ChatAsk, ChatRequest
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

    def membership(
        self, stored: Mapping[str, str], sferum: SferumAccess, *, share: int = 1
    ) -> AbstractContextManager[SyncConnection | None]:
        """The membership sync's side of the platform over an open connection (``None`` while not configured):
        the account, the adapter (:class:`~sferum_plugin.services.sync.api.ChatMembership`) and the sync's options.

        :param share: how many sync workers divide the platform's request rate.
        """
        ...

    @property
    def lessons(self) -> LessonPlatform:
        """Online lessons: a VK call, or an announcement in the group's MAX chat (issue 12 item 7)."""
        ...

    def start_linking(
        self, stored: Mapping[str, str], sferum: SferumAccess, *, host: Host, user_id: int, redirect_uri: str
    ) -> LinkStart | DeepLinkStart | None:
        """«Создать учебный профиль Сферум»: start linking ``user_id``'s profile; ``None`` while not configured.

        VK Messenger: a :class:`~sferum_plugin.services.profiles.LinkStart` (send the browser to VK ID, keep the
        state in its session, VK ID comes back to ``redirect_uri``).  MAX: a
        :class:`~sferum_plugin.services.max_profiles.DeepLinkStart` (show the bot's deep link and its QR code).

        :raises LinkFailed: linking cannot start (said in words); :raises SferumError: the platform did not answer.
        """
        ...

    def web_url(self, stored: Mapping[str, str]) -> str:
        """Where «Перейти в «Сферум»» leads: the messenger's web version."""
        ...

    # -- chats (issue 12 item 4) ------------------------------------------------------------------------------

    @property
    def links_existing_chats(self) -> bool:
        """Whether an administrator may link a chat that exists already (MAX: chats carried over from VK)."""
        ...

    @property
    def invites_refused_people(self) -> bool:
        """Whether the bot can send the chat's link to a person the platform refused to add (MAX: privacy)."""
        ...

    def invite_refused(self, host: Host, sferum: SferumAccess, op_id: int) -> None:
        """«Отправить ссылку на чат» for the failed add ``op_id``.  :raises ChatRefused, ChatUnavailable."""
        ...

    def request_chat_created(self, host: Host, sferum: SferumAccess, viewer: Viewer, ask: ChatAsk) -> ChatRequest:
        """Record the chat asked for and start creating it: VK Messenger creates it now (or the sync does); MAX
        has the bot send ``viewer`` a chat button, the chat is created by the tap.

        :raises ChatRefused: the chat may not be created (said in words).
        """
        ...

    def request_group_chats(
        self, host: Host, sferum: SferumAccess, viewer: Viewer, group_ids: Sequence[int]
    ) -> list[ChatRequest]:
        """Chats for many groups at once (administrators): VK Messenger's worker creates them; on MAX the bot sends
        ``viewer`` their chat buttons.  :raises ChatRefused: the chats may not be created (said in words)."""
        ...

    def resend_chat_button(self, host: Host, sferum: SferumAccess, viewer: Viewer, chat_pk: int) -> bool:
        """«Отправить кнопку ещё раз» (MAX); whether the platform took it.  :raises ChatRefused: not possible."""
        ...

    def recreate_chat(self, host: Host, sferum: SferumAccess, viewer: Viewer, chat_pk: int) -> bool:
        """«Создать заново» for a chat that is gone; whether it was in such a state.  :raises ChatRefused."""
        ...

    def chat_link(self, host: Host, sferum: SferumAccess, chat_pk: int) -> str:
        """Where «Открыть в Сферум» redirects a member (the caller checked they may open it).

        :raises ChatUnavailable: the chat is gone, or the module no longer manages it.
        :raises SferumError: the platform did not answer.
        """
        ...

    def link_existing_chat(
        self, host: Host, sferum: SferumAccess, viewer: Viewer, *, kind: str, target_id: int | None, chat_id: str
    ) -> int:
        """Link an existing chat to a group or unit; its row id.  :raises ChatRefused: what is wrong."""
        ...

    def recheck_chat(self, host: Host, sferum: SferumAccess, chat_pk: int) -> None:
        """«Проверить чат снова» for a chat whose bot was removed.  :raises ChatRefused: what is still wrong."""
        ...


_VK_LABELS = {"app_id": "APP ID", "service_token": N_("Сервисный токен"), "app_token": N_("Токен приложения")}


class VkPlatform:
    """Sferum in VK Messenger: the credential check of :mod:`sferum_plugin.gateway.credentials`, unchanged."""

    code = VK
    title = "VK Мессенджер"
    lessons = VkLessons()

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

    @contextmanager
    def membership(
        self, stored: Mapping[str, str], sferum: SferumAccess, *, share: int = 1
    ) -> Iterator[SyncConnection | None]:
        settings = SferumSettings.from_stored(stored)
        if settings is None:
            yield None
            return
        with sferum.organisation(settings, share=share) as client:
            adapter = VkMembership.for_token(client, settings.app_token)
            yield SyncConnection(account=settings.account, membership=adapter, strict=settings.sync_strict)

    # -- chats: created through the sync pass (createChat), as before issue 12 --------------------------------

    links_existing_chats = False
    invites_refused_people = False

    def invite_refused(self, host: Host, sferum: SferumAccess, op_id: int) -> None:
        from sferum_plugin.services.chats import ChatRefused

        raise ChatRefused(N_("В VK Мессенджере модуль не отправляет ссылки на чаты."))

    def request_chat_created(self, host: Host, sferum: SferumAccess, viewer: Viewer, ask: ChatAsk) -> ChatRequest:
        from sferum_plugin.services.chats import vk_request_chat

        return vk_request_chat(host, sferum, viewer, ask)

    def request_group_chats(
        self, host: Host, sferum: SferumAccess, viewer: Viewer, group_ids: Sequence[int]
    ) -> list[ChatRequest]:
        from sferum_plugin.services.chats import vk_request_group_chats

        return vk_request_group_chats(host, viewer, group_ids)

    def resend_chat_button(self, host: Host, sferum: SferumAccess, viewer: Viewer, chat_pk: int) -> bool:
        from sferum_plugin.services.chats import ChatRefused

        raise ChatRefused(N_("В VK Мессенджере модуль создаёт чаты сам: кнопка не нужна."))

    def recreate_chat(self, host: Host, sferum: SferumAccess, viewer: Viewer, chat_pk: int) -> bool:
        from sferum_plugin.services.chats import recreate

        return recreate(host, chat_pk, host.clock.now())

    def chat_link(self, host: Host, sferum: SferumAccess, chat_pk: int) -> str:
        from sferum_plugin.services.chats import vk_chat_link

        return vk_chat_link(host, sferum, chat_pk)

    def link_existing_chat(
        self, host: Host, sferum: SferumAccess, viewer: Viewer, *, kind: str, target_id: int | None, chat_id: str
    ) -> int:
        from sferum_plugin.services.chats import ChatRefused

        raise ChatRefused(N_("Связать существующий чат можно только в MAX: в VK Мессенджере модуль создаёт чаты сам."))

    def recheck_chat(self, host: Host, sferum: SferumAccess, chat_pk: int) -> None:
        from sferum_plugin.services.chats import ChatRefused

        raise ChatRefused(N_("Этот чат не нужно проверять снова."))

    def start_linking(
        self, stored: Mapping[str, str], sferum: SferumAccess, *, host: Host, user_id: int, redirect_uri: str
    ) -> LinkStart | DeepLinkStart | None:
        settings = SferumSettings.from_stored(stored)
        if settings is None:
            return None
        with sferum.profiles(settings) as api:
            return profiles.start_linking(
                host.db, api, user_id=user_id, account=settings.account, redirect_uri=redirect_uri, now=host.clock.now()
            )

    def web_url(self, stored: Mapping[str, str]) -> str:
        settings = SferumSettings.from_stored(stored)
        return settings.web_url if settings is not None else DEFAULTS["web_url"]


MAX_WEB_URL = "https://web.max.ru/"
"""MAX's web version: «Перейти в «Сферум»» on MAX (MAX's apps open their chats from there too)."""

_MAX_BOT = N_("Токен бота")
_MAX_EVENTS = N_("События бота")
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
    lessons = MaxLessons()

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
        if not line.ok:
            return ConnectionReport(address=settings.api_url, lines=(line,))
        events_ok, events_text = check_events(settings, sferum, locale)
        events = VerdictLine(key="max_events", label=gettext(locale, _MAX_EVENTS), ok=events_ok, text=events_text)
        return ConnectionReport(address=settings.api_url, lines=(line, events))

    @contextmanager
    def membership(
        self, stored: Mapping[str, str], sferum: SferumAccess, *, share: int = 1
    ) -> Iterator[SyncConnection | None]:
        settings = MaxSettings.from_stored(stored)
        if settings is None:
            yield None
            return
        with sferum.bot(settings, share=share) as client:
            adapter = MaxMembership.for_token(client, settings.bot_token)
            yield SyncConnection(account=settings.account, membership=adapter, strict=settings.sync_strict)

    def start_linking(
        self, stored: Mapping[str, str], sferum: SferumAccess, *, host: Host, user_id: int, redirect_uri: str
    ) -> LinkStart | DeepLinkStart | None:
        settings = MaxSettings.from_stored(stored)
        if settings is None:
            return None
        try:
            with sferum.bot(settings) as client:
                bot = client.get_me()  # its username makes the deep link
        except SferumError as error:
            raise profiles.LinkFailed(explain_max(error).message) from None
        return max_profiles.start_max_linking(
            host.db, bot, user_id=user_id, account=settings.account, now=host.clock.now()
        )

    def web_url(self, stored: Mapping[str, str]) -> str:
        return MAX_WEB_URL

    # -- chats: created by a tap on the bot's chat button, or linked when they exist (services/max_chats.py) ---

    links_existing_chats = True
    invites_refused_people = True

    def invite_refused(self, host: Host, sferum: SferumAccess, op_id: int) -> None:
        from sferum_plugin.services.max_chats import max_invite_refused

        max_invite_refused(host, sferum, op_id)

    def request_chat_created(self, host: Host, sferum: SferumAccess, viewer: Viewer, ask: ChatAsk) -> ChatRequest:
        from sferum_plugin.services.max_chats import max_request_chat

        return max_request_chat(host, sferum, viewer, ask)

    def request_group_chats(
        self, host: Host, sferum: SferumAccess, viewer: Viewer, group_ids: Sequence[int]
    ) -> list[ChatRequest]:
        from sferum_plugin.services.max_chats import max_request_group_chats

        return max_request_group_chats(host, sferum, viewer, group_ids)

    def resend_chat_button(self, host: Host, sferum: SferumAccess, viewer: Viewer, chat_pk: int) -> bool:
        from sferum_plugin.services.max_chats import max_resend

        return max_resend(host, sferum, viewer, chat_pk)

    def recreate_chat(self, host: Host, sferum: SferumAccess, viewer: Viewer, chat_pk: int) -> bool:
        from sferum_plugin.services.max_chats import max_recreate

        return max_recreate(host, sferum, viewer, chat_pk)

    def chat_link(self, host: Host, sferum: SferumAccess, chat_pk: int) -> str:
        from sferum_plugin.services.max_chats import max_chat_link

        return max_chat_link(host, sferum, chat_pk)

    def link_existing_chat(
        self, host: Host, sferum: SferumAccess, viewer: Viewer, *, kind: str, target_id: int | None, chat_id: str
    ) -> int:
        from sferum_plugin.services.max_chats import max_link_existing

        return max_link_existing(host, sferum, viewer, kind=kind, target_id=target_id, chat_id=chat_id)

    def recheck_chat(self, host: Host, sferum: SferumAccess, chat_pk: int) -> None:
        from sferum_plugin.services.max_chats import max_recheck

        max_recheck(host, sferum, chat_pk)


PLATFORMS: Mapping[str, Platform] = {VK: VkPlatform(), MAX: MaxPlatform()}
"""Every platform by its setting's value."""


def platform_for(stored: Mapping[str, str]) -> Platform:
    """The adapter of the platform chosen in the module's stored settings."""
    return PLATFORMS[platform_code(stored)]
