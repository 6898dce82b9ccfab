"""Where and how fast the gateway talks to MAX's Bot API: one frozen value built from the module's settings.

Pointing the client at the MAX sandbox or at MAX itself is only a matter of ``base_url``; the code has no sandbox
branches.
"""

from __future__ import annotations

import attrs

__all__ = ["DEFAULT_MAX_BASE_URL", "MaxConfig"]

DEFAULT_MAX_BASE_URL = "https://platform-api2.max.ru"
"""MAX's Bot API host: the schema's ``servers[0].url``, also the official TypeScript client's default
(``@maxhub/max-bot-api``, ``src/core/network/api/client.ts``)."""


def _strip_trailing_slash(url: str) -> str:
    return url.rstrip("/")


@attrs.frozen
class MaxConfig:
    """Settings of the MAX Bot API client.

    :param base_url: the Bot API host; paths (``/me``, ``/chats/{chatId}``...) are appended to it as they stand in
        the schema.
    :param timeout_seconds: connect/read/write timeout of one HTTP request (a long poll adds its own ``timeout``).
    :param requests_per_second: pace per bot token.  The schema (``POST /uploads``) asks bots to stay within
        30 requests per second.
    :param burst: how many requests a token may send at once before pacing starts; 1 spreads them evenly, so that
        no second holds much more than ``requests_per_second`` requests.
    :param max_attempts: attempts of one call, the first included, before a transient failure is reported.
    :param max_retry_after_seconds: the longest a retry waits for a ``Retry-After`` that MAX sent with 429 or
        503; a worker does not hold its lease for longer (after the attempts the error surfaces, carrying
        ``retry_after``, for the caller to reschedule).
    """

    base_url: str = attrs.field(default=DEFAULT_MAX_BASE_URL, converter=_strip_trailing_slash)
    timeout_seconds: float = attrs.field(default=10.0, validator=attrs.validators.gt(0))
    requests_per_second: float = attrs.field(default=30.0, validator=attrs.validators.gt(0))
    burst: int = attrs.field(default=1, validator=attrs.validators.gt(0))
    max_attempts: int = attrs.field(default=4, validator=attrs.validators.gt(0))
    max_retry_after_seconds: float = attrs.field(default=60.0, validator=attrs.validators.ge(0))
