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
    secret = {"FAKE_API_TOKEN": "tok-123456789012"}
    result = runner.invoke(args=["modules", "configure", "fake", "--from-env", "FAKE_", "api_url=ftp://x"], env=secret)
    assert result.exit_code == 1
    assert "api_url (Адрес API)" in result.output
    assert cabinet.settings.get("fake") == {}
    result = runner.invoke(
        args=["modules", "configure", "fake", "--from-env", "FAKE_", "api_url=https://a.example"], env=secret
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


def test_a_secret_given_on_the_command_line_is_refused_with_the_way_to_pass_it(app: Flask) -> None:
    runner = app.test_cli_runner()
    cabinet = Cabinet.of(app)
    assert runner.invoke(args=["modules", "install", "fake"]).exit_code == 0
    result = runner.invoke(
        args=["modules", "configure", "fake", "api_url=https://a.example", "api_token=tok-on-the-command-line"]
    )
    assert result.exit_code == 1
    assert "tok-on-the-command-line" not in result.output
    assert "api_token (Токен API)" in result.output
    assert "--from-env" in result.output
    assert "Nothing was saved." in result.output
    assert cabinet.settings.get("fake") == {}
    # An argument without "=" may be a pasted token: it is not repeated either.
    result = runner.invoke(args=["modules", "configure", "fake", "tok-pasted-alone"])
    assert result.exit_code != 0
    assert "tok-pasted-alone" not in result.output


def test_from_env_reads_settings_from_prefixed_variables_and_validates_them_like_the_page(app: Flask) -> None:
    runner = app.test_cli_runner()
    cabinet = Cabinet.of(app)
    assert runner.invoke(args=["modules", "install", "fake"]).exit_code == 0
    configure = ["modules", "configure", "fake", "--from-env", "LMS_FAKE_"]
    # A refused value from the environment is named by its field, and nothing is stored.
    result = runner.invoke(args=configure, env={"LMS_FAKE_API_URL": "ftp://x", "LMS_FAKE_API_TOKEN": "tok-env-1234"})
    assert result.exit_code == 1
    assert "api_url (Адрес API)" in result.output
    assert cabinet.settings.get("fake") == {}
    # A prefix that matches no setting is a mistake, not a silent success.
    result = runner.invoke(args=[*configure[:-1], "LMS_FKAE_", "api_url=https://a.example"])
    assert result.exit_code == 1
    assert "LMS_FKAE_API_TOKEN" in result.output
    assert cabinet.settings.get("fake") == {}
    # The same setting from an argument and from a variable is ambiguous.
    result = runner.invoke(
        args=[*configure, "api_url=https://b.example"],
        env={"LMS_FAKE_API_URL": "https://a.example", "LMS_FAKE_API_TOKEN": "tok-env-1234"},
    )
    assert result.exit_code == 1
    assert "LMS_FAKE_API_URL" in result.output
    assert cabinet.settings.get("fake") == {}
    # Variables and arguments together; an empty variable counts as unset.
    result = runner.invoke(
        args=[*configure, "retries=5"],
        env={"LMS_FAKE_API_URL": "https://a.example", "LMS_FAKE_API_TOKEN": "tok-env-1234", "LMS_FAKE_NOTE": ""},
    )
    assert result.exit_code == 0, result.output
    assert "tok-env-1234" not in result.output
    assert "$LMS_FAKE_API_TOKEN" in result.output
    stored = cabinet.settings.get("fake")
    assert (stored["api_url"], stored["api_token"], stored["retries"]) == ("https://a.example", "tok-env-1234", "5")


def test_init_db_is_idempotent_and_jobs_once_runs_due_jobs(app: Flask) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    assert runner.invoke(args=["init-db"]).exit_code == 0
    runner.invoke(args=["modules", "install", "fake"])
    result = runner.invoke(args=["jobs", "--once"])
    assert result.exit_code == 0
    assert "fake.tick" in result.output
