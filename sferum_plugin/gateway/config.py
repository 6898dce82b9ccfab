"""Where and how fast the gateway talks to Sferum: one frozen value built from the module's settings.

Pointing the gateway at the local sandbox or at production is only a matter of these values; the code has no
sandbox branches (see ``docs/sferum-api.md``).
"""

from __future__ import annotations

import attrs


def _strip_trailing_slash(url: str) -> str:
    return url.rstrip("/")


@attrs.frozen
class GatewayConfig:
    """Settings of the Sferum gateway.

    :param api_base_url: VK API host that serves Sferum's messenger (``{api_base_url}/method/{name}``).
    :param id_base_url: VK ID host for profile linking (``/authorize``, ``/oauth2/auth``).
    :param api_version: the ``v`` parameter sent with every API call.
    :param timeout_seconds: connect/read/write timeout of one HTTP request.
    :param requests_per_second: pace of requests per token (VK allows 3 per second for user tokens): never more
        than this many within any rolling second (:mod:`~sferum_plugin.gateway.ratelimit`).
    :param burst: how many requests a token may send back to back (below the rate it spreads them out).
    :param pacing_margin: each pacing window is stretched by this fraction, because VK counts its window on its
        own side, on arrival times that network jitter moves (0.1: a token's 4th request leaves 1.1 s after its
        1st at 3 per second).
    :param max_attempts: attempts of one call, the first included, before a transient failure is reported.
    """

    api_base_url: str = attrs.field(default="https://api.vk.me", converter=_strip_trailing_slash)
    id_base_url: str = attrs.field(default="https://id.vk.com", converter=_strip_trailing_slash)
    api_version: str = "5.199"
    timeout_seconds: float = attrs.field(default=10.0, validator=attrs.validators.gt(0))
    requests_per_second: float = attrs.field(default=3.0, validator=attrs.validators.gt(0))
    burst: int = attrs.field(default=3, validator=attrs.validators.gt(0))
    pacing_margin: float = attrs.field(default=0.1, validator=attrs.validators.ge(0))
    max_attempts: int = attrs.field(default=4, validator=attrs.validators.gt(0))
