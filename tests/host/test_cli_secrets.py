"""``flask --app lms_host modules configure sferum``, run as a real command: its tokens never go on its command line.

The command refuses ``app_token=...`` (a command line is visible to every user in ``ps``), takes secrets from
``PREFIX<KEY>`` environment variables with ``--from-env PREFIX``, and prints neither.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
from lms_host import Cabinet, create_app

FLASK = Path(sys.executable).parent / "flask"
SERVICE_TOKEN = "svc-env-only-7c6b5a4f3e2d1c0b9a8f"
APP_TOKEN = "app-env-only-1a2b3c4d5e6f7a8b9c0d"

pytestmark = pytest.mark.slow  # each `flask` command starts the whole application


def _environment(instance: Path, **extra: str) -> dict[str, str]:
    """The caller's environment without its LMS_*/SFERUM_* settings, pointed at ``instance``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("LMS_", "SFERUM_"))}
    return {**env, "LMS_INSTANCE_PATH": str(instance), **extra}


def _flask(env: Mapping[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(FLASK), "--app", "lms_host", *args], env=dict(env), text=True, capture_output=True, timeout=60, check=False
    )


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An instance folder with a migrated SQLite database and the Sferum module installed."""
    path = tmp_path_factory.mktemp("instance")
    for args in (("init-db",), ("modules", "install", "sferum")):
        result = _flask(_environment(path), *args)
        assert result.returncode == 0, result.stdout + result.stderr
    return path


def _stored(instance: Path) -> dict[str, str]:
    app = create_app({"LMS_INSTANCE_PATH": str(instance), "LMS_DATABASE_URL": f"sqlite:///{instance / 'lms.sqlite3'}"})
    try:
        return dict(Cabinet.of(app).settings.get("sferum"))
    finally:
        Cabinet.of(app).db.engine.dispose()


def test_flask_modules_configure_sferum_app_token_on_the_command_line_is_refused(instance: Path) -> None:
    before = _stored(instance)
    result = _flask(
        _environment(instance), "modules", "configure", "sferum", "app_id=51234567", f"app_token={APP_TOKEN}"
    )
    assert result.returncode == 1
    assert APP_TOKEN not in result.stdout + result.stderr
    assert "app_token (Токен приложения): a secret is not accepted on the command line" in result.stderr
    assert "SFERUM_APP_TOKEN with --from-env SFERUM_" in result.stderr
    assert _stored(instance) == before


def test_flask_modules_configure_sferum_takes_tokens_from_the_environment_and_prints_none(instance: Path) -> None:
    env = _environment(instance, SFERUM_SERVICE_TOKEN=SERVICE_TOKEN, SFERUM_APP_TOKEN=APP_TOKEN)
    url = "http://127.0.0.1:9"
    result = _flask(
        env, "modules", "configure", "sferum", "--from-env", "SFERUM_",
        "app_id=51234567", f"api_base_url={url}", f"id_base_url={url}", f"web_url={url}/_sandbox/",
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert SERVICE_TOKEN not in output
    assert APP_TOKEN not in output
    assert "app_token from $SFERUM_APP_TOKEN" in result.stdout
    stored = _stored(instance)
    assert (stored["service_token"], stored["app_token"], stored["app_id"]) == (SERVICE_TOKEN, APP_TOKEN, "51234567")
