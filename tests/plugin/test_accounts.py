"""Each platform's rows are its own: migration 0008 keeps every existing row as VK Messenger's, and a query of one
account never sees another's (so switching platforms hides and restores data, and nothing is sent to the wrong one)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sferum_plugin.account import MAX_SPACE, Account
from sferum_plugin.models import ProfileLink, SferumChat
from sferum_plugin.services import install, profiles
from sferum_plugin.settings import MaxSettings, SferumSettings, configured_account

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
VK_ACCOUNT = Account("vk", 51234567)
MAX_ACCOUNT = Account("max", MAX_SPACE)


def test_the_upgrade_to_0008_keeps_every_existing_row_as_vk_messengers(sqlite_engine: Engine) -> None:
    install.upgrade(sqlite_engine, "0007")
    with sqlite_engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO sferum_profile_links (app_id, user_id, sferum_user_id, display_name, linked_at)"
                " VALUES (51234567, 7, 70, 'Анна', '2026-11-29 10:00:00')"
            )
        )
        connection.execute(
            text("INSERT INTO sferum_sync_service (app_id, org_user_id, flood_strikes) VALUES (51234567, 99, 2)")
        )

    install.upgrade(sqlite_engine)

    with Session(sqlite_engine) as session:
        assert profiles.links_by_user(session, account=VK_ACCOUNT).keys() == {7}
        assert profiles.links_by_user(session, account=MAX_ACCOUNT) == {}
        assert session.execute(text("SELECT platform, flood_strikes FROM sferum_sync_service")).one() == ("vk", 2)


def test_a_new_row_must_say_its_platform(sqlite_engine: Engine) -> None:
    install.install(sqlite_engine)
    with Session(sqlite_engine) as session:
        session.add(ProfileLink(app_id=1, user_id=1, sferum_user_id=1, linked_at=NOW))
        with pytest.raises(IntegrityError, match="platform"):
            session.commit()


def test_one_accounts_queries_never_see_anothers_rows(sqlite_engine: Engine) -> None:
    install.install(sqlite_engine)
    other = Account("max", VK_ACCOUNT.key)  # the same key on another platform: only `platform` tells them apart
    with Session(sqlite_engine) as session:
        # The same person linked on both platforms, and a chat of the same group on both: no constraint collides.
        session.add(ProfileLink(**VK_ACCOUNT.columns(), user_id=7, sferum_user_id=70, linked_at=NOW))
        session.add(ProfileLink(**other.columns(), user_id=7, sferum_user_id=70, linked_at=NOW))
        session.add(ProfileLink(**other.columns(), user_id=8, sferum_user_id=80, linked_at=NOW))
        for account in (VK_ACCOUNT, other):
            session.add(SferumChat(**account.columns(), kind="group", target_id=17, title="ИВТ-21", marker="g17",
                                   state="active", created_by=1, created_at=NOW))  # fmt: skip
        session.commit()

        assert profiles.links_by_user(session, account=VK_ACCOUNT).keys() == {7}
        assert profiles.links_by_user(session, account=other).keys() == {7, 8}
        assert profiles.unlink(session, user_id=8, account=VK_ACCOUNT, now=NOW) is False  # not VK's to unlink
        assert profiles.unlink(session, user_id=8, account=other, now=NOW) is True


def test_the_configured_account_follows_the_chosen_platform() -> None:
    vk = {"app_id": "51234567", "service_token": "s" * 20, "app_token": "a" * 20}
    on_max = {**vk, "platform": "max", "max_bot_token": "b" * 30}

    assert configured_account(vk) == SferumSettings.from_stored(vk).account == VK_ACCOUNT  # type: ignore[union-attr]
    assert configured_account(on_max) == MaxSettings.from_stored(on_max).account == MAX_ACCOUNT  # type: ignore[union-attr]
    assert configured_account({**on_max, "max_bot_token": ""}) is None  # MAX chosen, not filled in: nothing shows
