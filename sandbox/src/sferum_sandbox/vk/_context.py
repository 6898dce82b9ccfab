"""What a method handler receives: the state, the caller's token and the request's surroundings."""

from __future__ import annotations

import random
import string
import uuid
from collections.abc import Callable
from typing import Any

import attrs

from ._errors import VkApiError
from ._state import TOKEN_USER, AccessToken, SferumState, SferumUser

_ALPHABET = string.ascii_letters + string.digits


@attrs.frozen
class CallContext:
    """One API call: ``now`` is unix time, ``monotonic`` the sandbox clock (expiry), ``base_url`` its URL."""

    state: SferumState
    caller: AccessToken
    app_id: int
    base_url: str
    now: int
    monotonic: float
    rng: random.Random

    @property
    def caller_id(self) -> int:
        """The Sferum user acting; only user tokens reach the handlers that ask for it."""
        if self.caller.kind != TOKEN_USER or self.caller.user_id is None:
            raise VkApiError(28, "method is unavailable with service token")
        return self.caller.user_id

    def user(self, user_id: int) -> SferumUser:
        """Return a known user or raise 936 (Contact not found), as messages.* methods do."""
        user = self.state.users.get(user_id)
        if user is None:
            raise VkApiError(936, f"user {user_id} is unknown")
        return user

    def random_code(self, length: int) -> str:
        """A random letters-and-digits code from the sandbox's seeded generator."""
        return "".join(self.rng.choice(_ALPHABET) for _ in range(length))

    def random_uuid(self) -> str:
        """A random version-4 UUID (36 characters) from the sandbox's seeded generator."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))


Handler = Callable[[CallContext, dict[str, Any]], Any]
"""A method implementation: takes the context and the parsed parameters, returns the ``response`` value."""
