"""Small host services: the database session, the clock, settings storage, the app's configuration."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from lms_host import Cabinet
from lms_host.config import load_settings
from lms_host.models import StructuralUnit
from lms_host.services.clock import OrgClock
from sqlalchemy import select


def test_session_commits_on_success_and_rolls_back_on_error(cabinet: Cabinet) -> None:
    with cabinet.db.session() as session:
        session.add(StructuralUnit(title="Библиотека"))

    def add_then_fail() -> None:
        with cabinet.db.session() as session:
            session.add(StructuralUnit(title="Столовая"))
            session.flush()
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        add_then_fail()
    with cabinet.db.session() as session:
        titles = set(session.scalars(select(StructuralUnit.title)).all())
    assert "Библиотека" in titles
    assert "Столовая" not in titles


def test_clock_answers_in_the_organisation_time_zone(cabinet: Cabinet) -> None:
    now = cabinet.host.clock.now()
    assert now == datetime(2026, 3, 4, 7, 0, tzinfo=UTC)
    assert now.hour == 10  # Moscow
    assert cabinet.host.clock.today().isoformat() == "2026-03-04"
    with pytest.raises(ValueError, match="aware"):
        OrgClock(cabinet.host.clock.timezone, lambda: datetime(2026, 1, 1)).now()


def test_settings_of_other_modules_are_separate_and_deletable(cabinet: Cabinet) -> None:
    cabinet.settings.save("a", {"x": "1", "token": "t-1"}, secret=["token"])
    cabinet.settings.save("b", {"x": "2"})
    assert cabinet.settings.get("a") == {"x": "1", "token": "t-1"}
    assert cabinet.settings.secret_keys("a") == frozenset({"token"})
    cabinet.settings.delete("a", ["x"])
    assert cabinet.settings.get("a") == {"token": "t-1"}
    assert cabinet.settings.get("b") == {"x": "2"}
    assert cabinet.settings.is_installed("main")
    assert not cabinet.settings.is_installed("a")


def test_secret_written_with_another_key_is_treated_as_missing(
    app_factory: Callable[..., Flask], cabinet: Cabinet
) -> None:
    cabinet.settings.save("a", {"token": "t-1"}, secret=["token"])
    other = Cabinet.of(app_factory(LMS_ENCRYPTION_KEY="x" * 43 + "="))
    assert other.settings.get("a") == {}


def test_environment_is_read_and_test_config_wins() -> None:
    env = {
        "LMS_DEMO_MODE": "yes",
        "LMS_SMTP_PORT": "2525",
        "LMS_BLOCKED_PLUGINS": " a, ,b ",
        "LMS_BASE_URL": "https://x/",
    }
    settings = load_settings(env, {"LMS_SMTP_PORT": 26})
    assert settings["LMS_DEMO_MODE"] is True
    assert settings["LMS_SMTP_PORT"] == 26
    assert settings["LMS_BLOCKED_PLUGINS"] == ("a", "b")
    assert settings["LMS_BASE_URL"] == "https://x"
    assert settings["LMS_TIMEZONE"] == "Europe/Moscow"


def test_missing_keys_are_generated_once_into_the_instance_folder(tmp_path: Path) -> None:
    from lms_host import create_app

    instance = tmp_path / "instance"
    apps = [create_app({"LMS_INSTANCE_PATH": str(instance), "LOAD_ENTRYPOINTS": False}) for _ in range(2)]
    try:
        key_file = instance / "encryption.key"
        assert key_file.stat().st_mode & 0o777 == 0o600
        assert apps[0].config["LMS_ENCRYPTION_KEY"] == apps[1].config["LMS_ENCRYPTION_KEY"]
        assert apps[0].secret_key == apps[1].secret_key
        assert apps[0].config["LMS_DATABASE_URL"] == f"sqlite:///{instance / 'lms.sqlite3'}"
    finally:
        for app in apps:
            Cabinet.of(app).dispose()
