"""Linking an LMS account to a Sferum profile: state, PKCE, replay, expiry, one profile per account."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest
from sqlalchemy import func, select

from sferum_plugin.account import Account
from sferum_plugin.gateway.errors import InvalidGrantError
from sferum_plugin.models import LinkRequest, ProfileEvent, ProfileLink
from sferum_plugin.services import install, profiles
from sferum_plugin.services.profiles import LinkFailed
from tests.plugin.fakes import FakeHost

APP = 51234567


@attrs.define
class FakeVkId:
    sferum_user_id: int = 9001
    exchanged: list[tuple[str, str]] = attrs.field(factory=list)
    fail: Exception | None = None

    def new_verifier(self) -> str:
        return "v" * 64

    def authorize_url(self, *, state: str, code_verifier: str, redirect_uri: str) -> str:
        return f"https://id.test/authorize?state={state}&code_challenge=S256({code_verifier[:4]})"

    def exchange(self, *, code: str, code_verifier: str, device_id: str, redirect_uri: str) -> tuple[int, str]:
        if self.fail is not None:
            raise self.fail
        self.exchanged.append((code, code_verifier))
        return self.sferum_user_id, "Иван Петров"


@pytest.fixture
def vkid(host: FakeHost) -> FakeVkId:
    install.install(host.db.engine)
    return FakeVkId()


def _begin(host: FakeHost, vkid: FakeVkId, user_id: int = 1) -> str:
    with host.db.session() as session:
        start = profiles.begin_link(
            session,
            vkid,
            user_id=user_id,
            account=Account("vk", APP),
            redirect_uri="http://lms.test/cb",
            now=host.clock.now(),
        )
    assert "code_challenge" in start.authorize_url
    assert vkid.new_verifier() not in start.authorize_url  # the verifier never leaves the server
    return start.state


def _complete(host: FakeHost, vkid: FakeVkId, state: str, session_state: str | None, user_id: int = 1, **kw: str):
    return profiles.complete_link(
        host.db, vkid, user_id=user_id, account=Account("vk", APP), state=state, session_state=session_state,
        code=kw.get("code", "the-code"), device_id="dev", error=kw.get("error", ""), now=host.clock.now(),
    )  # fmt: skip


def _links(host: FakeHost) -> int:
    with host.db.session() as session:
        return session.scalar(select(func.count()).select_from(ProfileLink)) or 0


def test_the_flow_links_the_profile_and_records_an_event(host: FakeHost, vkid: FakeVkId) -> None:
    state = _begin(host, vkid)
    linked = _complete(host, vkid, state, state)
    assert (linked.sferum_user_id, linked.display_name) == (9001, "Иван Петров")
    assert vkid.exchanged == [("the-code", "v" * 64)]
    with host.db.session() as session:
        assert [(e.kind, e.user_id, e.sferum_user_id) for e in session.scalars(select(ProfileEvent))] == [
            ("linked", 1, 9001)
        ]
        stored = session.scalars(select(LinkRequest.state_hash)).one()
    assert stored != state  # only the state's hash is kept


@pytest.mark.parametrize(
    ("returned", "in_session"),
    [("", None), ("forged", "real"), ("x", None)],
    ids=["missing", "forged", "not-in-this-session"],
)
def test_a_missing_or_forged_state_stores_nothing(
    host: FakeHost, vkid: FakeVkId, returned: str, in_session: str | None
) -> None:
    _begin(host, vkid)
    with pytest.raises(LinkFailed, match="подделана"):
        _complete(host, vkid, returned, in_session)
    assert _links(host) == 0
    assert vkid.exchanged == []


def test_a_state_of_another_user_is_refused(host: FakeHost, vkid: FakeVkId) -> None:
    state = _begin(host, vkid, user_id=1)
    with pytest.raises(LinkFailed, match="подделана"):
        _complete(host, vkid, state, state, user_id=2)
    assert _links(host) == 0


def test_a_replayed_state_is_refused_even_after_a_failed_exchange(host: FakeHost, vkid: FakeVkId) -> None:
    state = _begin(host, vkid)
    vkid.fail = InvalidGrantError("invalid_grant", "code expired")
    with pytest.raises(LinkFailed, match="VK ID не подтвердил"):
        _complete(host, vkid, state, state)
    vkid.fail = None
    with pytest.raises(LinkFailed, match="уже использована"):
        _complete(host, vkid, state, state)
    assert _links(host) == 0


def test_an_expired_state_is_refused(host: FakeHost, vkid: FakeVkId) -> None:
    state = _begin(host, vkid)
    host.clock.current += profiles.LINK_REQUEST_TTL + timedelta(seconds=1)
    with pytest.raises(LinkFailed, match="истекло"):
        _complete(host, vkid, state, state)
    assert vkid.exchanged == []


def test_cancelled_consent_says_so_and_stores_nothing(host: FakeHost, vkid: FakeVkId) -> None:
    state = _begin(host, vkid)
    with pytest.raises(LinkFailed, match="отменили"):
        _complete(host, vkid, state, state, error="access_denied", code="")
    assert _links(host) == 0


def test_a_profile_linked_to_another_account_is_refused(host: FakeHost, vkid: FakeVkId) -> None:
    first = _begin(host, vkid, user_id=1)
    _complete(host, vkid, first, first, user_id=1)
    second = _begin(host, vkid, user_id=2)
    with pytest.raises(LinkFailed, match="другой учётной записи"):
        _complete(host, vkid, second, second, user_id=2)
    with host.db.session() as session:
        assert profiles.links_by_user(session, account=Account("vk", APP)).keys() == {1}


def test_unlink_removes_the_link_and_records_an_event(host: FakeHost, vkid: FakeVkId) -> None:
    state = _begin(host, vkid)
    _complete(host, vkid, state, state)
    with host.db.session() as session:
        assert profiles.unlink(session, user_id=1, account=Account("vk", APP), now=host.clock.now())
        assert not profiles.unlink(session, user_id=1, account=Account("vk", APP), now=host.clock.now())
    assert _links(host) == 0
    with host.db.session() as session:
        assert [e.kind for e in session.scalars(select(ProfileEvent).order_by(ProfileEvent.id))] == [
            "linked", "unlinked",
        ]  # fmt: skip
