"""``flask --app lms_host`` commands: init-db, modules install/configure/uninstall, jobs."""

from __future__ import annotations

from flask import Flask
from lms_host import Cabinet
from lms_host.models import ModuleSetting


def test_modules_commands_share_the_pages_rules(app: Flask) -> None:
    runner = app.test_cli_runner()
    cabinet = Cabinet.of(app)
    result = runner.invoke(args=["modules", "configure", "fake", "api_url=https://a.example"])
    assert result.exit_code == 1
    assert "not installed" in result.output
    result = runner.invoke(args=["modules", "install", "fake"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["modules", "install", "fake"]).exit_code == 1
    result = runner.invoke(args=["modules", "configure", "fake", "api_url=ftp://x", "api_token=tok-123456789012"])
    assert result.exit_code == 1
    assert "api_url (Адрес API)" in result.output
    assert cabinet.settings.get("fake") == {}
    result = runner.invoke(
        args=["modules", "configure", "fake", "api_url=https://a.example", "api_token=tok-123456789012"]
    )
    assert result.exit_code == 0, result.output
    assert cabinet.settings.get("fake")["api_token"] == "tok-123456789012"
    with cabinet.db.session() as session:
        raw = session.get(ModuleSetting, ("fake", "api_token"))
        assert raw is not None
        assert raw.value is None
        assert "tok-123456789012" not in (raw.ciphertext or "")
    # A partial update keeps the other values, the secret included.
    assert runner.invoke(args=["modules", "configure", "fake", "retries=9"]).exit_code == 0
    assert cabinet.settings.get("fake")["api_token"] == "tok-123456789012"
    assert runner.invoke(args=["modules", "configure", "fake", "nonsense=1"]).exit_code == 1
    listing = runner.invoke(args=["modules", "list"]).output
    assert "fake\t1.0\tinstalled" in listing
    assert runner.invoke(args=["modules", "uninstall", "fake", "--drop-data"]).exit_code == 0
    assert cabinet.settings.get("fake") == {}
    assert runner.invoke(args=["modules", "uninstall", "fake"]).exit_code == 1


def test_init_db_is_idempotent_and_jobs_once_runs_due_jobs(app: Flask) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    assert runner.invoke(args=["init-db"]).exit_code == 0
    runner.invoke(args=["modules", "install", "fake"])
    result = runner.invoke(args=["jobs", "--once"])
    assert result.exit_code == 0
    assert "fake.tick" in result.output
