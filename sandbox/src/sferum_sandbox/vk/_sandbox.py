"""``Sandbox``: a faithful local Sferum (VK API and VK ID) for demos and tests."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._state_file import StateFile
from ._app import SandboxApp
from ._core import SandboxCore
from ._faults import FaultInjector
from ._schema import load_contract
from ._state import ORG_ACCOUNT_ID, Chat

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

DEFAULT_APP_ID = 51234567
DEFAULT_SERVICE_TOKEN = "sandbox-service-token-0000000000000000"  # noqa: S105 - a public demo credential
DEFAULT_APP_TOKEN = "sandbox-app-token-00000000000000000000000"  # noqa: S105 - a public demo credential
DEFAULT_RATE_LIMIT = 20.0


class Sandbox:
    """A local Sferum: VK API methods over stateful chats, members and calls, VK ID, fault injection.

    All state lives in the object and is guarded by one lock, so the threaded server and in-process callers
    may share it. Random values (tokens, codes, call ids, probabilistic faults) come from a generator seeded
    with ``seed``: the same calls in the same order give the same answers.

    :param app_id: the application's id, VK ID ``client_id``.
    :param service_token: the service token (type ``service``): secure.checkToken, apps.get, users.get.
    :param app_token: the application token, a ``user`` token of the organisation account (chats, calls).
    :param seed: seed of the random generator.
    :param rate_limit_per_second: requests per second per token before error 6; None disables the limit.
    :param clock: monotonic seconds for rate limits and expiry (inject a fake one in tests).
    :param wall_clock: unix seconds for dates in replies.
    :param sleep: how injected delays wait.
    :param schema_dir: the VK API schema directory (default: ``$VK_API_SCHEMA_DIR``, else the vendored copy,
        :data:`SCHEMA_DIR`).
    :param state_file: a JSON file that keeps people, chats and calls across restarts (read at start if it exists,
        rewritten atomically after every request that changed them); ``None`` keeps everything in memory.
    """

    def __init__(
        self,
        *,
        app_id: int = DEFAULT_APP_ID,
        service_token: str = DEFAULT_SERVICE_TOKEN,
        app_token: str = DEFAULT_APP_TOKEN,
        seed: int = 0,
        rate_limit_per_second: float | None = DEFAULT_RATE_LIMIT,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        schema_dir: Path | None = None,
        state_file: Path | None = None,
    ) -> None:
        if not service_token or not app_token or service_token == app_token:
            raise ValueError("the service token and the application token must be two different non-empty values")
        self._core = SandboxCore(
            app_id=app_id,
            app_token=app_token,
            service_token=service_token,
            seed=seed,
            contract=load_contract(schema_dir),
            clock=clock,
            wall_clock=wall_clock,
            sleep=sleep,
            rate_limit_per_second=rate_limit_per_second,
        )
        self._app = SandboxApp(self._core)
        self._state_file = StateFile(state_file, self._core.lock, lambda: self._core.state.snapshot())
        stored = self._state_file.load()
        if stored is not None:
            with self._core.lock:
                self._core.state.restore(stored)
            self._state_file.mark_saved()

    def __repr__(self) -> str:
        return f"Sandbox(app_id={self._core.app_id!r})"

    def wsgi_app(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """The WSGI application (serve it, or pass it to ``httpx.WSGITransport``)."""
        response = self._app(environ, start_response)
        self.save()
        return response

    def save(self) -> None:
        """Write the state file if people, chats or calls changed since the last write (no-op without one)."""
        self._state_file.save()

    @property
    def faults(self) -> FaultInjector:
        """The fault rules; see ``FaultInjector.inject``."""
        return self._core.faults

    @property
    def app_id(self) -> int:
        """The application id (VK ID ``client_id``)."""
        return self._core.app_id

    @property
    def org_user_id(self) -> int:
        """The Sferum id of the organisation account that owns the application token."""
        return ORG_ACCOUNT_ID

    @property
    def contract_source(self) -> str:
        """The schema directory the API contract was read from."""
        return self._core.contract.source

    def reset(self) -> None:
        """Back to the seeded demo organisation: no chats, calls, issued tokens, faults or request counts."""
        self._core.reset()

    def add_user(self, first_name: str, last_name: str) -> int:
        """Create a Sferum profile and return its id."""
        with self._core.lock:
            user_id = self._core.state.add_user(first_name, last_name).id
        self.save()
        return user_id

    def issue_user_token(self, user_id: int, lifetime_seconds: int = 3600) -> str:
        """Issue a user access token for ``user_id`` as VK ID would (a shortcut for tests and demos)."""
        with self._core.lock:
            if user_id not in self._core.state.users:
                raise KeyError(f"no Sferum user {user_id}")
            return self._core.issue_user_token(user_id, lifetime_seconds).value

    def delete_chat(self, chat_id: int) -> None:
        """Delete chat ``chat_id`` with its members and invite link, as if someone had deleted it in Sferum.

        :raises KeyError: there is no such chat.
        """
        with self._core.lock:
            del self._core.state.chats[self._chat(chat_id).chat_id]
            self._core.state.deleted_chat_ids.add(chat_id)
        self.save()

    def delete_all_chats(self) -> int:
        """Delete every chat (see :meth:`delete_chat`); return how many there were."""
        with self._core.lock:
            count = len(self._core.state.chats)
            self._core.state.deleted_chat_ids.update(self._core.state.chats)
            self._core.state.chats.clear()
        self.save()
        return count

    def set_in_organisation(self, user_id: int, in_organisation: bool) -> None:
        """Mark ``user_id`` as a person of the organisation or not (everyone is, at first).  Someone who is not cannot
        be in its work chats: ``addChatUser`` answers 967 and ``createChat`` leaves them out.

        :raises KeyError: there is no such person.
        """
        with self._core.lock:
            if user_id not in self._core.state.users:
                raise KeyError(f"no Sferum user {user_id}")
            if in_organisation:
                self._core.state.outside_organisation.discard(user_id)
            else:
                self._core.state.outside_organisation.add(user_id)
        self.save()

    def chat_member_ids(self, chat_id: int) -> list[int]:
        """The Sferum ids of chat ``chat_id``'s members in join order, its owner included.

        :raises KeyError: there is no such chat.
        """
        with self._core.lock:
            return list(self._chat(chat_id).members)

    def remove_chat_member(self, chat_id: int, user_id: int) -> None:
        """Take ``user_id`` out of chat ``chat_id`` behind the API's back, as a chat admin might in Sferum.

        :raises KeyError: there is no such chat, or ``user_id`` is not in it.
        """
        with self._core.lock:
            members = self._chat(chat_id).members
            if user_id not in members:
                raise KeyError(f"Sferum user {user_id} is not in chat {chat_id}")
            del members[user_id]
        self.save()

    def _chat(self, chat_id: int) -> Chat:
        chat = self._core.state.chats.get(chat_id)
        if chat is None:
            raise KeyError(f"no Sferum chat {chat_id}")
        return chat

    def write_counts(self) -> dict[str, int]:
        """Calls that changed Sferum, per method, since the last reset: each ``messages.createChat``,
        ``addChatUser``, ``removeChatUser``, ``editChat``, ``getInviteLink`` with ``reset``, ``calls.start`` and
        ``calls.forceFinish`` the sandbox carried out, on its own or inside an ``execute`` request; a call it refused
        (an error, an injected fault before it ran) changed nothing and is not counted."""
        with self._core.lock:
            return dict(self._core.write_counts)

    def state(self) -> dict[str, Any]:
        """The state as JSON-ready data (the same as ``GET /_sandbox/state``)."""
        with self._core.lock:
            return self._core.state.to_json()

    def request_counts(self) -> dict[str, int]:
        """API requests per method since the last reset (an ``execute`` request counts as one)."""
        with self._core.lock:
            return dict(self._core.request_counts)

    def call_counts(self) -> dict[str, int]:
        """API method calls per method since the last reset, each call inside an ``execute`` request counted under
        its own name (``execute`` itself is not): what Sferum was asked to do, however the requests packed it."""
        with self._core.lock:
            return dict(self._core.call_counts)
