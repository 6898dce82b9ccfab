"""``MaxSandbox``: a faithful local MAX Bot API for demos and tests, and the people who use MAX around the bot."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .._state_file import StateFile
from ._app import MaxApp
from ._core import DEFAULT_WEBHOOK_GIVE_UP_SECONDS, DEFAULT_WEBHOOK_RETRY_DELAYS, MaxCore
from ._faults import FaultInjector
from ._state import BOT_USER_ID, MaxState
from ._webhook import DeliveryThread, WebhookDeliverer
from ._wire import BotIdentity

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

T = TypeVar("T")

DEFAULT_BOT_TOKEN = "max-sandbox-bot-token-00000000000000000000000000"  # noqa: S105 - a public demo credential
"""The token a sandbox accepts unless told another (in-process use and the demo's default)."""
DEFAULT_BOT_NAME = "sferum_sandbox_bot"
"""The bot's username: its deep links are ``https://max.ru/sferum_sandbox_bot?start=...``."""
DEFAULT_BOT_TITLE = "Сферум (песочница)"
DEFAULT_RATE_LIMIT = 30.0
"""MAX's documented limit: 30 requests per second."""
SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "openapi.json"
"""MAX's official OpenAPI document (API 0.0.32), vendored: the contract every answer follows."""

_BOT_NAME = re.compile(r"[A-Za-z0-9_]{2,64}")


class MaxSandbox:
    """A local MAX: the Bot API over stateful people, chats and messages, events by webhook or long polling,
    the things people do in MAX (press Start, tap a chat button, leave a chat...), and fault injection.

    All state lives in the object under one lock, so the threaded server and in-process callers may share it.
    Random values (message ids, button uuids, chat links, probabilistic faults) come from a generator seeded with
    ``seed``: the same calls in the same order give the same answers.

    :param bot_token: the token the Bot API accepts in the ``Authorization`` header.
    :param bot_name: the bot's username, the ``<bot name>`` of ``https://max.ru/<bot name>?start=<payload>``.
    :param bot_title: the bot's display name.
    :param seed: seed of the random generator.
    :param rate_limit_per_second: requests per rolling second per token before 429; None disables the limit.
    :param clock: monotonic seconds (rate limit, webhook redelivery): inject a fake one in tests.
    :param wall_clock: unix seconds for the dates in answers and updates.
    :param sleep: how injected delays wait.
    :param state_file: a JSON file that keeps people, chats, messages, the subscription and undelivered updates
        across restarts (read at start if it exists, rewritten atomically after every change); None: memory only.
    :param long_poll_max_wait: the longest ``GET /updates`` waits for an update, whatever its ``timeout`` asks.
    :param webhook_retry_delays: seconds before each redelivery of an update the webhook did not accept.
    :param webhook_give_up_seconds: no redelivery later than this after the update: the bot is unsubscribed.
    :param webhook_timeout: seconds a webhook has to answer one delivery.
    """

    def __init__(
        self,
        *,
        bot_token: str = DEFAULT_BOT_TOKEN,
        bot_name: str = DEFAULT_BOT_NAME,
        bot_title: str = DEFAULT_BOT_TITLE,
        seed: int = 0,
        rate_limit_per_second: float | None = DEFAULT_RATE_LIMIT,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        state_file: Path | None = None,
        long_poll_max_wait: float = 5.0,
        webhook_retry_delays: Sequence[float] = DEFAULT_WEBHOOK_RETRY_DELAYS,
        webhook_give_up_seconds: float = DEFAULT_WEBHOOK_GIVE_UP_SECONDS,
        webhook_timeout: float = 10.0,
    ) -> None:
        if not bot_token or bot_token != bot_token.strip():
            raise ValueError("the bot token must be a non-empty value without surrounding spaces")
        if not _BOT_NAME.fullmatch(bot_name):
            raise ValueError("a bot name has 2 to 64 letters, digits or underscores")
        if long_poll_max_wait < 0 or webhook_timeout <= 0 or any(delay < 0 for delay in webhook_retry_delays):
            raise ValueError("waits and delays must not be negative")
        self._core = MaxCore(
            bot=BotIdentity(bot_name, bot_title, "The demo university's bot in the MAX sandbox"),
            token=bot_token,
            seed=seed,
            clock=clock,
            wall_clock=wall_clock,
            sleep=sleep,
            rate_limit_per_second=rate_limit_per_second,
            long_poll_max_wait=long_poll_max_wait,
            webhook_retry_delays=tuple(webhook_retry_delays),
            webhook_give_up_seconds=webhook_give_up_seconds,
        )
        self._app = MaxApp(self._core, self)
        self._deliverer = WebhookDeliverer(self._core, webhook_timeout)
        self._state_file = StateFile(state_file, self._core.lock, lambda: self._core.state.snapshot())
        stored = self._state_file.load()
        if stored is not None:
            with self._core.lock:
                self._core.state = MaxState.restore(stored, self._core.clock())
            self._state_file.mark_saved()

    def __repr__(self) -> str:
        return f"MaxSandbox(bot_name={self._core.bot.name!r})"  # never the token

    # ---------------------------------------------------------------- serving and saving

    def wsgi_app(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """The WSGI application (serve it, or pass it to ``httpx.WSGITransport``)."""
        try:
            return self._app(environ, start_response)
        finally:
            self.save()

    def save(self) -> None:
        """Write the state file if the state changed since the last write (no-op without one)."""
        self._state_file.save()

    def _change(self, change: Callable[[], T]) -> T:
        with self._core.lock:
            result = change()
        self.save()
        return result

    def _delivery_thread(self, interval: float) -> DeliveryThread:
        return DeliveryThread(self._core, self.deliver_pending, interval)

    def _set_closing(self, closing: bool) -> None:
        with self._core.lock:
            self._core.closing = closing
            self._core.changed.notify_all()

    # ---------------------------------------------------------------- what it is

    @property
    def faults(self) -> FaultInjector:
        """The fault rules; see :meth:`FaultInjector.inject`."""
        return self._core.faults

    @property
    def bot_user_id(self) -> int:
        """The bot's MAX user id."""
        return BOT_USER_ID

    @property
    def bot_name(self) -> str:
        """The bot's username, as in its deep links."""
        return self._core.bot.name

    @property
    def schema_path(self) -> Path:
        """MAX's OpenAPI document the sandbox follows."""
        return SCHEMA_PATH

    def deep_link(self, payload: str | None = None) -> str:
        """The bot's deep link ``https://max.ru/<bot name>?start=<payload>`` (the payload URL-encoded)."""
        return self._core.deep_link(payload)

    def reset(self) -> None:
        """Back to the demo people: no chats, messages, subscription, updates, faults or request counts."""
        self._core.reset()
        self.save()

    # ---------------------------------------------------------------- people

    def add_user(
        self, first_name: str, last_name: str | None = None, *, username: str | None = None, refuses_adds: bool = False
    ) -> int:
        """Create a MAX user and return their id; ``refuses_adds``: their privacy refuses being added to chats."""
        return self._change(lambda: self._core.add_user(first_name, last_name, username, refuses_adds).user_id)

    def set_privacy(self, user_id: int, refuses_adds: bool = True) -> None:
        """Whether the person's privacy settings refuse being added to chats (``add.participant.privacy``).

        :raises KeyError: no such person.
        """
        self._change(lambda: self._core.set_privacy(user_id, refuses_adds))

    def press_start(self, user_id: int, payload: str | None = None) -> None:
        """The person opens the bot (by its deep link with ``payload``, or directly) and presses Start: the bot gets
        ``bot_started`` with the payload (not passed if longer than 512 characters), and may write to them from then.

        :raises KeyError: no such person.
        """
        self._change(lambda: self._core.press_start(user_id, payload))

    def open_deep_link(self, user_id: int, link: str) -> None:
        """The person opens ``link`` (``https://max.ru/<bot name>?start=<payload>``) and presses Start.

        :raises ValueError: not a link to this bot.
        :raises KeyError: no such person.
        """
        self._change(lambda: self._core.press_start(user_id, self._core.parse_deep_link(link)))

    def tap_chat_button(self, user_id: int, message_id: str, button_uuid: int) -> int:
        """The person taps the ``chat`` button ``button_uuid`` of the bot's message ``message_id``; return the chat.

        The first tap creates a private group chat titled as the button says, with the tapper as its owner and the
        bot as administrator, and queues ``message_chat_created`` with the chat and the button's ``start_payload``.
        A later tap opens the same chat (and joins whoever taps it, if not in it yet: ``user_added``).

        :raises KeyError: no such person, message or button.
        :raises PermissionError: the message is not one this person can see.
        """
        return self._change(lambda: self._core.tap_chat_button(user_id, message_id, button_uuid))

    # ---------------------------------------------------------------- chats

    def seed_chat(
        self,
        title: str,
        *,
        owner_id: int,
        member_ids: Iterable[int] = (),
        description: str | None = None,
        bot_is_admin: bool = True,
        notify: bool = False,
    ) -> int:
        """Create a group chat that already has the bot in it (say, one carried over from VK Messenger) and return
        its id. ``notify``: queue ``bot_added`` as if the owner had just added the bot.

        :raises KeyError: an unknown person.
        """
        members = list(member_ids)
        return self._change(
            lambda: (
                self._core.seed_chat(
                    title, owner_id, members, description=description, bot_is_admin=bot_is_admin, notify=notify
                ).chat_id
            )
        )

    def remove_bot(self, chat_id: int, *, by_user_id: int | None = None) -> None:
        """Someone (default: the owner) removes the bot from the chat: ``bot_removed``; from then the chat answers
        ``status: removed`` and its member calls 403.

        :raises KeyError: no such chat. :raises ValueError: the bot is not in it.
        """
        self._change(lambda: self._core.remove_bot(chat_id, by_user_id))

    def set_bot_admin(self, chat_id: int, is_admin: bool = True, *, permissions: Iterable[str] | None = None) -> None:
        """Make the bot an administrator of the chat (with ``permissions``, default all a group chat has) or a plain
        member (its member calls then answer 403)."""
        chosen = None if permissions is None else list(permissions)
        self._change(lambda: self._core.set_bot_admin(chat_id, is_admin, chosen))

    def add_member(self, chat_id: int, user_id: int, *, by_user_id: int | None = None) -> None:
        """Someone adds the person to the chat (``by_user_id`` None: they join by the chat's link): ``user_added``."""
        self._change(lambda: self._core.add_member(chat_id, user_id, by_user_id))

    def leave_chat(self, chat_id: int, user_id: int) -> None:
        """The person leaves the chat: ``user_removed`` without ``admin_id``.

        :raises KeyError: no such chat, or the person is not in it.
        """
        self._change(lambda: self._core.remove_member(chat_id, user_id, None))

    def remove_member(self, chat_id: int, user_id: int, *, by_user_id: int) -> None:
        """An administrator removes the person from the chat in MAX: ``user_removed`` with ``admin_id``."""
        self._change(lambda: self._core.remove_member(chat_id, user_id, by_user_id))

    def change_title(self, chat_id: int, title: str, *, by_user_id: int) -> None:
        """A member renames the chat: ``chat_title_changed``."""
        self._change(lambda: self._core.change_title(chat_id, title, by_user_id))

    def chat_member_ids(self, chat_id: int) -> list[int]:
        """The ids of the chat's members in join order, the bot included while it is in the chat.

        :raises KeyError: no such chat.
        """
        with self._core.lock:
            chat = self._core.chat(chat_id)
            return [m.user_id for m in sorted(chat.members.values(), key=lambda m: m.order)]

    # ---------------------------------------------------------------- reading

    def messages_to(self, user_id: int) -> list[dict[str, Any]]:
        """The messages the bot sent this person, oldest first, as in :meth:`state` (``mid``, ``text``, rows of
        ``buttons`` with each chat button's ``uuid``, ``created_chats``)."""
        return [message for message in self.state()["messages"] if message["user_id"] == user_id]

    def state(self) -> dict[str, Any]:
        """The state as JSON-ready data (the same as ``GET /_sandbox/state``)."""
        with self._core.lock:
            return self._core.to_json()

    def request_counts(self) -> dict[str, int]:
        """Bot API requests per operation (``"POST /chats/{chatId}/members"``) since the last reset."""
        with self._core.lock:
            return dict(self._core.request_counts)

    def deliver_pending(self) -> int:
        """POST every update whose webhook delivery is due, once; return how many the webhook accepted.

        Under :func:`serve` a background thread does this; tests with a fake clock call it themselves.
        """
        delivered = self._deliverer.deliver_pending()
        self.save()
        return delivered
