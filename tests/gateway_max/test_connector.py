"""The one connector builds MAX clients too, over its transport, retry policy and shared limiters."""

from __future__ import annotations

import tenacity

from sferum_plugin.gateway import RetryPolicy, SferumConnector
from sferum_plugin.gateway.max import MaxClient, MaxConfig
from tests.gateway_max import fakes
from tests.gateway_max.conftest import TOKEN
from tests.gateway_max.fakes import FakeMaxApi, error, reply


def test_connect_max_yields_the_bots_client_over_the_connectors_transport() -> None:
    api = FakeMaxApi().on("GET", "/me", error(503, "service.unavailable"), reply(200, fakes.bot_info(name="Бот ЛК")))
    waits: list[float] = []
    connector = SferumConnector(
        transport=api.transport(),
        retry=RetryPolicy(max_attempts=2, wait=tenacity.wait_none(), sleep=waits.append),
    )

    with connector.connect_max(MaxConfig(base_url="https://max.test"), TOKEN) as client:
        assert isinstance(client, MaxClient)
        bot = client.get_me()

    assert bot.name == "Бот ЛК"
    assert bot.username == "sferum_lms_bot"
    assert len(api.served) == 2
    assert waits == [0.0]


def test_max_clients_share_the_connectors_limiter_for_their_pace() -> None:
    connector = SferumConnector(transport=FakeMaxApi().transport())
    config = MaxConfig(base_url="https://max.test")

    with connector.connect_max(config, TOKEN) as first, connector.connect_max(config, TOKEN) as second:
        assert first._limiter is second._limiter
        assert first._limiter is connector.limiter(config.requests_per_second, config.burst)

    with connector.connect_max(config, TOKEN, share=3) as shared:
        assert shared._limiter.requests_per_second == 10.0
