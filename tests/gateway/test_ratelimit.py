"""Pacing: no rolling second ever holds more of a token's requests than the rate (counted on a fake clock).

VK counts a token's requests per second on its side; we count a second closed at both ends, the stricter reading:
sends at exactly 0 s and 1 s are in the same second.
"""

from __future__ import annotations

import threading
from collections import defaultdict

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sferum_plugin.gateway import GatewayConfig, RateLimiter, RetryPolicy, SferumClient
from sferum_plugin.gateway.connector import SferumConnector
from sferum_plugin.gateway.ratelimit import token_key
from tests.gateway.conftest import TOKEN
from tests.gateway.fakes import FakeClock, FakeVkApi, ok

VK_MARGIN = GatewayConfig().pacing_margin


def busiest_second(times: list[float]) -> int:
    """The most sends within any closed one-second window (a window starting at a send is the busiest there is)."""
    ordered = sorted(times)
    # A hair of tolerance counts a send *near* the boundary as inside: the check errs on VK's side.
    return max((sum(1 for s in ordered if start <= s <= start + 1.0 + 1e-9) for start in ordered), default=0)


class FrozenClock:
    """A clock that stands still while threads reserve their slots; each records when its request would leave."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.lock = threading.Lock()
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.waits.append(seconds)


def test_thirty_requests_at_3_per_second_never_put_4_in_one_second(clock: FakeClock) -> None:
    limiter = RateLimiter(3.0, 3, margin=VK_MARGIN, clock=clock, sleep=clock.sleep)
    sent_at = []

    for _ in range(30):
        limiter.acquire(TOKEN)
        sent_at.append(clock())

    assert busiest_second(sent_at) == 3
    assert busiest_second(sent_at[:5]) == 3, "a token bucket let five go in the first second"
    # Three go at once, then each group of three waits for the group before it to be 1.1 s old.
    assert len(clock.sleeps) == 9
    assert sent_at[-1] - sent_at[0] == pytest.approx(9 * 1.1)


def test_without_a_margin_a_closed_second_can_hold_one_more(clock: FakeClock) -> None:
    # Why Sferum's clients keep a margin: sends exactly 1 s apart are both in a second that counts its ends.
    limiter = RateLimiter(3.0, 3, margin=0.0, clock=clock, sleep=clock.sleep)
    sent_at = []

    for _ in range(4):
        limiter.acquire(TOKEN)
        sent_at.append(clock())

    assert sent_at[3] - sent_at[0] == pytest.approx(1.0)
    assert busiest_second(sent_at) == 4


def test_the_client_paces_its_requests(
    config: GatewayConfig, fake_api: FakeVkApi, http: httpx.Client, retry: RetryPolicy, clock: FakeClock
) -> None:
    limiter = RateLimiter(config.requests_per_second, 5, margin=config.pacing_margin, clock=clock, sleep=clock.sleep)
    client = SferumClient(config, TOKEN, http=http, limiter=limiter, retry=retry)
    sent_at: list[float] = []

    def answer(request: httpx.Request) -> dict[str, object]:
        sent_at.append(clock())
        return ok(1)

    fake_api.on("messages.editChat", answer)
    for _ in range(30):
        client.rename_chat(7, "New")

    assert len(fake_api.requests) == 30
    assert busiest_second(sent_at) == 3, "a burst of 5 does not let more than the rate out"


def test_a_burst_below_the_rate_spreads_requests_out(clock: FakeClock) -> None:
    limiter = RateLimiter(30.0, 1, clock=clock, sleep=clock.sleep)

    waits = [limiter.acquire(TOKEN) for _ in range(90)]

    assert waits[0] == 0.0
    assert waits[1:] == pytest.approx([1 / 30] * 89)


def test_a_rate_below_one_spaces_requests_by_its_inverse(clock: FakeClock) -> None:
    limiter = RateLimiter(0.5, 1, clock=clock, sleep=clock.sleep)

    waits = [limiter.acquire(TOKEN) for _ in range(4)]

    assert waits == pytest.approx([0.0, 2.0, 2.0, 2.0])


def test_tokens_have_separate_logs_keyed_by_a_hash(clock: FakeClock) -> None:
    limiter = RateLimiter(3.0, 3, clock=clock, sleep=clock.sleep)

    for _ in range(3):
        limiter.acquire("first-token-0000")
        limiter.acquire("second-token-000")

    assert clock.sleeps == []
    assert "first-token-0000" not in repr(vars(limiter.log))
    assert token_key("first-token-0000") in limiter.log._sends
    assert len(token_key(TOKEN)) == 16


def test_logs_of_tokens_gone_quiet_are_dropped(clock: FakeClock) -> None:
    limiter = RateLimiter(3.0, 3, clock=clock, sleep=clock.sleep)
    for n in range(1000):
        limiter.acquire(f"user-token-{n:06d}")  # each linked user's token sends once

    clock.now += 3600.0
    for n in range(100):
        limiter.acquire(f"later-token-{n:05d}")

    assert len(limiter.log) <= 200


def test_threads_sharing_a_token_queue_up_instead_of_bursting() -> None:
    clock = FrozenClock()
    limiter = RateLimiter(3.0, 3, margin=VK_MARGIN, clock=clock, sleep=clock.sleep)
    threads = [threading.Thread(target=limiter.acquire, args=(TOKEN,)) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # With the clock frozen, each thread reserved its own slot: three at once, then three per 1.1 s.
    sent_at = [clock.now] * (12 - len(clock.waits)) + [clock.now + wait for wait in clock.waits]
    assert len(clock.waits) == 9
    assert busiest_second(sent_at) == 3


def test_every_client_and_thread_of_a_connector_shares_one_pace_per_token(
    config: GatewayConfig, fake_api: FakeVkApi, retry: RetryPolicy
) -> None:
    clock = FrozenClock()
    connector = SferumConnector(
        transport=fake_api.transport(), retry=retry, pacing=RateLimiter(clock=clock, sleep=clock.sleep)
    )
    fake_api.on("messages.editChat", ok(1))

    def sender(share: int) -> None:
        # Each thread its own block of work and client, some at a sync worker's share of the rate.
        with connector.connect(config, share=share) as connection:
            client = connection.client(TOKEN)
            for _ in range(10):
                client.rename_chat(7, "New")

    threads = [threading.Thread(target=sender, args=(1 + n % 3,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    sent_at = [clock.now] * (60 - len(clock.waits)) + [clock.now + wait for wait in clock.waits]
    assert len(fake_api.requests) == 60
    assert busiest_second(sent_at) == 3


ARRIVALS = st.lists(
    st.tuples(
        st.floats(min_value=0.0, max_value=2.0, allow_nan=False),  # time since the previous arrival
        st.sampled_from(["token-one-0000", "token-two-0000"]),
        st.sampled_from([(3.0, 3), (3.0, 1), (1.5, 1), (2.5, 2)]),  # the full rate, spread out, workers' shares
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(arrivals=ARRIVALS, margin=st.sampled_from([0.0, VK_MARGIN]))
def test_no_arrival_pattern_puts_more_than_the_rate_in_a_second(
    arrivals: list[tuple[float, str, tuple[float, int]]], margin: float
) -> None:
    # Each arrival is a thread of its own: it reserves its slot when it arrives and waits for it alone.
    clock = FrozenClock()
    pacing = RateLimiter(clock=clock, sleep=clock.sleep)
    limiters = {pace: pacing.at(*pace, margin=margin) for pace in {pace for _, _, pace in arrivals}}
    sent: dict[str, list[float]] = defaultdict(list)
    for gap, token, pace in arrivals:
        clock.now += gap
        wait = limiters[pace].acquire(token)
        assert wait >= 0.0
        sent[token].append(clock.now + wait)

    for times in sent.values():
        # Counted open at one end without a margin, closed with one: never more than the fastest pace, 3.
        most = busiest_second(times) if margin else _busiest_half_open_second(times)
        assert most <= 3


def _busiest_half_open_second(times: list[float]) -> int:
    ordered = sorted(times)
    return max(sum(1 for s in ordered if start <= s < start + 1.0 - 1e-9) for start in ordered)
