"""Linking an LMS account to a MAX profile through the bot's deep link: one-time, expiring payloads stored as hashes,
one MAX account per LMS account, refusals the page can tell, unlinking, and the platform port choosing the flow."""

from __future__ import annotations

import hashlib
import os
import threading
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sferum_plugin.account import Account
from sferum_plugin.gateway.max import BotStartedUpdate, MaxBot, MaxUser
from sferum_plugin.models import LinkRequest, ProfileEvent
from sferum_plugin.services import install, max_profiles, profiles
from sferum_plugin.services.max_profiles import EXPIRED, LINKED, PENDING, TAKEN, DeepLinkStart
from sferum_plugin.services.platforms import MAX_WEB_URL, platform_for
from sferum_plugin.services.profiles import LinkFailed, LinkStart
from tests._db import PG_ENV_VAR, PG_SKIP_REASON, fresh_engine
from tests.plugin.fakes import FakeDatabase, FakeHost

MAX_ACCOUNT = Account("max", 0)
VK_ACCOUNT = Account("vk", 51234567)
BOT = MaxBot(user_id=100, name="Университет", username="uni_bot")
BOT_TOKEN = "max-bot-token-" + "d" * 40


@attrs.frozen
class Context:
    """What the inbox gives a handler."""

    session: Session
    account: Account
    now: datetime
    host: Any = None


@pytest.fixture
def installed(host: FakeHost) -> FakeHost:
    install.install(host.db.engine)
    return host


def _start(host: FakeHost, user_id: int = 1, bot: MaxBot = BOT) -> tuple[DeepLinkStart, str]:
    start = max_profiles.start_max_linking(host.db, bot, user_id=user_id, account=MAX_ACCOUNT, now=host.clock.now())
    link = urlsplit(start.deep_link)
    assert (link.scheme, link.netloc, link.path) == ("https", "max.ru", "/uni_bot")
    (payload,) = parse_qs(link.query)["start"]
    return start, payload


def _press(host: FakeHost, max_user_id: int, payload: str | None, *, first: str = "Иван", last: str = "Петров") -> None:
    update = BotStartedUpdate(
        timestamp=1, chat_id=5000 + max_user_id, user=MaxUser(max_user_id, first, last), payload=payload
    )
    with host.db.session() as session:
        max_profiles.on_bot_started(Context(session, MAX_ACCOUNT, host.clock.now()), update)


def _status(host: FakeHost, start: DeepLinkStart, user_id: int = 1) -> max_profiles.LinkStatus | None:
    return max_profiles.link_status(
        host.db, request_id=start.request_id, user_id=user_id, account=MAX_ACCOUNT, now=host.clock.now()
    )


def _links(host: FakeHost, account: Account = MAX_ACCOUNT) -> dict[int, tuple[int, str]]:
    with host.db.session() as session:
        return {
            user_id: (link.sferum_user_id, link.display_name)
            for user_id, link in profiles.links_by_user(session, account=account).items()
        }


def _events(host: FakeHost) -> list[tuple[str, int, int]]:
    with host.db.session() as session:
        rows = session.scalars(select(ProfileEvent).order_by(ProfileEvent.id))
        return [(e.kind, e.user_id, e.sferum_user_id) for e in rows]


def test_the_deep_link_carries_a_one_time_payload_of_which_only_the_hash_is_stored(installed: FakeHost) -> None:
    start, payload = _start(installed)
    assert payload.startswith(max_profiles.PAYLOAD_PREFIX)
    assert 40 < len(payload) <= 512
    assert start.deep_link == BOT.deep_link(payload)
    with installed.db.session() as session:
        request = session.scalars(select(LinkRequest)).one()
        stored = [str(getattr(request, column.key)) for column in LinkRequest.__table__.columns]
        assert (request.platform, request.app_id, request.user_id) == ("max", 0, 1)
        assert request.state_hash == hashlib.sha256(payload.encode()).hexdigest()
        assert (request.code_verifier, request.redirect_uri, request.used_at) == ("", "", None)
        assert request.expires_at - request.created_at == profiles.LINK_REQUEST_TTL
    assert not any(payload in value for value in stored)
    assert payload not in repr(start)
    assert _status(installed, start) == max_profiles.LinkStatus(PENDING, max_profiles.WAITING)
    second, other = _start(installed)
    assert other != payload
    assert second.request_id != start.request_id


def test_the_qr_code_is_an_svg_element_the_pages_policy_accepts(installed: FakeHost) -> None:
    start, _ = _start(installed)
    svg = start.qr_svg
    assert svg.startswith("<svg")
    assert svg.rstrip().endswith("</svg>")
    assert "viewBox" in svg
    assert 'fill="white"' in svg
    for refused in ("style", "<script", "href", "on", "<?xml"):
        assert f" {refused}=" not in svg, refused
    assert not svg.startswith("<?xml")
    assert "<script" not in svg
    assert "style" not in svg


def test_pressing_start_links_the_max_account_and_records_an_event(installed: FakeHost) -> None:
    start, payload = _start(installed)
    _press(installed, 7001, payload)
    assert _links(installed) == {1: (7001, "Иван Петров")}
    assert _links(installed, VK_ACCOUNT) == {}
    assert _events(installed) == [("linked", 1, 7001)]
    status = _status(installed, start)
    assert status is not None
    assert (status.state, status.done) == (LINKED, True)
    assert status.text("ru") == "Профиль связан: Иван Петров."
    assert status.text("en") == "Profile linked: Иван Петров."


def test_a_payload_works_once(installed: FakeHost) -> None:
    start, payload = _start(installed)
    _press(installed, 7001, payload)
    _press(installed, 7001, payload)  # pressed again, or the link was forwarded to someone else
    _press(installed, 7002, payload, first="Чужой")
    assert _links(installed) == {1: (7001, "Иван Петров")}
    assert _events(installed) == [("linked", 1, 7001)]
    status = _status(installed, start)
    assert status is not None
    assert status.state == LINKED


def test_a_payload_expires(installed: FakeHost) -> None:
    start, payload = _start(installed)
    installed.clock.current += profiles.LINK_REQUEST_TTL + timedelta(seconds=1)
    status = _status(installed, start)
    assert status is not None
    assert status.state == EXPIRED
    assert status.done
    _press(installed, 7001, payload)  # too late
    assert _links(installed) == {}
    assert _events(installed) == []
    status = _status(installed, start)
    assert status is not None
    assert status.state == EXPIRED
    assert "истекло" in status.text("ru")


def test_one_max_account_cannot_be_linked_to_two_lms_accounts_and_the_page_can_say_why(installed: FakeHost) -> None:
    _first, payload = _start(installed, user_id=1)
    _press(installed, 7001, payload)
    second, payload = _start(installed, user_id=2)
    _press(installed, 7001, payload, first="Другой")
    assert _links(installed) == {1: (7001, "Иван Петров")}
    assert _events(installed) == [("linked", 1, 7001)]
    status = _status(installed, second, user_id=2)
    assert status is not None
    assert (status.state, status.done) == (TAKEN, True)
    assert "другой учётной записи ЛК" in status.text("ru")
    _press(installed, 7002, payload)  # the refused payload is used up too
    assert 2 not in _links(installed)


def test_relinking_replaces_the_accounts_max_profile(installed: FakeHost) -> None:
    _, payload = _start(installed)
    _press(installed, 7001, payload)
    _, payload = _start(installed)
    _press(installed, 7002, payload, first="Иван", last="")
    assert _links(installed) == {1: (7002, "Иван")}
    assert _events(installed) == [("linked", 1, 7001), ("unlinked", 1, 7001), ("linked", 1, 7002)]


def test_an_administrator_unlinks_a_max_profile_and_vk_links_are_untouched(installed: FakeHost) -> None:
    _, payload = _start(installed)
    _press(installed, 7001, payload)
    with installed.db.session() as session:
        profiles.store_link(
            session, user_id=1, account=VK_ACCOUNT, sferum_user_id=7001, name="VK", now=installed.clock.now()
        )
    assert profiles.remove_link(installed.db, user_id=1, account=MAX_ACCOUNT, now=installed.clock.now())
    assert not profiles.remove_link(installed.db, user_id=1, account=MAX_ACCOUNT, now=installed.clock.now())
    assert _links(installed) == {}
    assert _links(installed, VK_ACCOUNT) == {1: (7001, "VK")}
    assert _events(installed)[-1] == ("unlinked", 1, 7001)
    _, payload = _start(installed, user_id=2)  # once unlinked, the MAX account may be linked to someone else
    _press(installed, 7001, payload)
    assert _links(installed) == {2: (7001, "Иван Петров")}


def test_the_status_is_only_the_requesters_own(installed: FakeHost) -> None:
    start, _ = _start(installed, user_id=1)
    assert _status(installed, start, user_id=2) is None
    assert (
        max_profiles.link_status(
            installed.db, request_id=start.request_id, user_id=1, account=VK_ACCOUNT, now=installed.clock.now()
        )
        is None
    )
    assert (
        max_profiles.link_status(
            installed.db, request_id=start.request_id + 99, user_id=1, account=MAX_ACCOUNT, now=installed.clock.now()
        )
        is None
    )


def test_a_max_payload_cannot_complete_a_vk_id_flow(installed: FakeHost) -> None:
    _, payload = _start(installed)
    with pytest.raises(LinkFailed, match="подделана"):
        profiles.complete_link(
            installed.db, None,  # type: ignore[arg-type]  # refused before VK ID is asked
            user_id=1, account=VK_ACCOUNT, state=payload, session_state=payload, code="c", device_id="d",
            now=installed.clock.now(),
        )  # fmt: skip
    assert _links(installed, VK_ACCOUNT) == {}


def test_a_bot_without_a_username_has_no_deep_link_and_nothing_is_stored(installed: FakeHost) -> None:
    with pytest.raises(LinkFailed, match="нет имени пользователя"):
        _start(installed, bot=MaxBot(user_id=100, name="Без имени"))
    with installed.db.session() as session:
        assert session.scalar(select(func.count()).select_from(LinkRequest)) == 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    payload=st.one_of(st.none(), st.text(max_size=80), st.text(max_size=60).map(max_profiles.PAYLOAD_PREFIX.__add__))
)
def test_start_without_a_payload_of_ours_links_nobody(installed: FakeHost, payload: str | None) -> None:
    _start(installed)
    _press(installed, 7001, payload)
    assert _links(installed) == {}
    with installed.db.session() as session:
        assert all(request.used_at is None for request in session.scalars(select(LinkRequest)))


# ---------------------------------------------------------------- the platform port


class FakeBotClient:
    def __init__(self, bot: MaxBot) -> None:
        self.bot = bot
        self.asked = 0

    def get_me(self) -> MaxBot:
        self.asked += 1
        return self.bot


class FakeAccess:
    """The module's SferumAccess as far as starting a link needs it."""

    def __init__(self, bot: MaxBot = BOT) -> None:
        self.client = FakeBotClient(bot)
        self.vkid = FakeVkId()

    def bot(self, settings: Any, *, share: int = 1) -> Any:
        from contextlib import nullcontext

        assert settings.bot_token == BOT_TOKEN
        return nullcontext(self.client)

    def profiles(self, settings: Any) -> Any:
        from contextlib import nullcontext

        return nullcontext(self.vkid)


class FakeVkId:
    def new_verifier(self) -> str:
        return "v" * 64

    def authorize_url(self, *, state: str, code_verifier: str, redirect_uri: str) -> str:
        return f"https://id.test/authorize?state={state}&redirect_uri={redirect_uri}"


ON_MAX = {"platform": "max", "max_bot_token": BOT_TOKEN, "max_updates": "polling"}
ON_VK = {"platform": "vk", "app_id": "51234567", "service_token": "s" * 20, "app_token": "a" * 20}


def test_the_port_starts_the_chosen_platforms_flow(installed: FakeHost) -> None:
    access = FakeAccess()
    on_max = platform_for(ON_MAX).start_linking(
        ON_MAX,
        access,
        host=installed,
        user_id=1,
        redirect_uri="http://lk.test/cb",  # type: ignore[arg-type]
    )
    assert isinstance(on_max, DeepLinkStart)
    assert on_max.deep_link.startswith("https://max.ru/uni_bot?start=profile-")
    assert access.client.asked == 1  # GET /me, for the bot's username
    on_vk = platform_for(ON_VK).start_linking(
        ON_VK,
        access,
        host=installed,
        user_id=1,
        redirect_uri="http://lk.test/cb",  # type: ignore[arg-type]
    )
    assert isinstance(on_vk, LinkStart)
    assert on_vk.authorize_url.startswith("https://id.test/authorize?state=")
    with installed.db.session() as session:
        rows = {(r.platform, r.code_verifier, r.redirect_uri) for r in session.scalars(select(LinkRequest))}
    assert rows == {("max", "", ""), ("vk", "v" * 64, "http://lk.test/cb")}  # VK ID's request as it always was
    for stored in ({"platform": "max"}, {"platform": "vk"}):
        assert platform_for(stored).start_linking(stored, access, host=installed, user_id=1, redirect_uri="x") is None  # type: ignore[arg-type]


def test_go_to_sferum_opens_the_chosen_messenger() -> None:
    assert platform_for(ON_MAX).web_url(ON_MAX) == MAX_WEB_URL == "https://web.max.ru/"
    assert platform_for(ON_VK).web_url(ON_VK) == "https://web.vk.me"
    assert platform_for({**ON_VK, "web_url": "https://web.vk.test"}).web_url(
        {**ON_VK, "web_url": "https://web.vk.test"}
    ) == ("https://web.vk.test")


# ---------------------------------------------------------------- PostgreSQL: two ЛК accounts race for one MAX account


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get(PG_ENV_VAR), reason=PG_SKIP_REASON)
def test_two_presses_racing_for_one_max_account_link_it_once_on_postgresql(monkeypatch: pytest.MonkeyPatch) -> None:
    with fresh_engine(os.environ[PG_ENV_VAR], pool_size=4) as engine:
        install.install(engine)
        host = FakeHost(db=FakeDatabase(engine))
        payloads = [_start(host, user_id=user_id)[1] for user_id in (1, 2)]
        together = threading.Barrier(2, timeout=10)
        real_store_link = max_profiles.store_link

        def store_link_together(*args: Any, **kwargs: Any) -> Any:
            together.wait()  # both requests are found and marked used; now both link at once
            return real_store_link(*args, **kwargs)

        monkeypatch.setattr(max_profiles, "store_link", store_link_together)
        failures: list[Exception] = []

        def press(payload: str) -> None:
            try:
                _press(host, 7001, payload)
            except Exception as error:  # the loser's transaction; the inbox would try its update again
                failures.append(error)

        threads = [threading.Thread(target=press, args=(payload,)) for payload in payloads]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        monkeypatch.setattr(max_profiles, "store_link", real_store_link)
        for payload in payloads:  # the inbox's retry of a failed update (a no-op for the handled ones)
            _press(host, 7001, payload)
        links = _links(host)
        assert len(links) == 1
        ((winner, (max_user, _)),) = links.items()
        assert max_user == 7001
        assert len(failures) <= 1
        assert all(isinstance(failure, LinkFailed) for failure in failures), failures  # rolled back, said why
        with host.db.session() as session:
            outcomes = {r.user_id: r.outcome for r in session.scalars(select(LinkRequest))}
        assert outcomes == {winner: LINKED, 3 - winner: TAKEN}  # the loser's page says why
        assert _events(host) == [("linked", winner, 7001)]
