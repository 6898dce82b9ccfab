"""Configuration of the example host: environment variables, overridden by ``test_config``.

Every setting has the name of its environment variable (``LMS_DATABASE_URL``, ...).  Keys that only tests use
(``PLUGINS``, ``LOAD_ENTRYPOINTS``, ``TESTING``, ``NOW``) have no environment variable.  Secrets that are not
configured are generated once into the instance folder, readable by the owner only.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

logger = logging.getLogger(__name__)

DEFAULTS: dict[str, Any] = {
    "LMS_DATABASE_URL": "",
    "LMS_SECRET_KEY": "",
    "LMS_ENCRYPTION_KEY": "",
    "LMS_TIMEZONE": "Europe/Moscow",
    "LMS_BASE_URL": "http://127.0.0.1:8000",
    "LMS_DEMO_MODE": False,
    "LMS_SMTP_HOST": "127.0.0.1",
    "LMS_SMTP_PORT": 25,
    "LMS_SMTP_STARTTLS": False,
    "LMS_SMTP_USER": "",
    "LMS_SMTP_PASSWORD": "",
    "LMS_SMTP_CA_FILE": "",
    "LMS_MAIL_FROM": "lms@example.edu",
    "LMS_BLOCKED_PLUGINS": (),
    "LMS_RUN_JOBS": False,
    "PLUGINS": (),
    "LOAD_ENTRYPOINTS": True,
    "NOW": None,
}

_BOOLEAN_KEYS = frozenset({"LMS_DEMO_MODE", "LMS_SMTP_STARTTLS", "LMS_RUN_JOBS", "LOAD_ENTRYPOINTS"})
_INTEGER_KEYS = frozenset({"LMS_SMTP_PORT"})
_ENV_KEYS = tuple(key for key in DEFAULTS if key.startswith("LMS_"))


def parse_bool(value: object) -> bool:
    """Read a boolean the way operators write it in the environment (``1``, ``true``, ``yes``, ``on``)."""
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def load_settings(environ: Mapping[str, str], test_config: Mapping[str, Any] | None) -> dict[str, Any]:
    """Merge the defaults, the ``LMS_*`` environment variables and ``test_config`` (in that order).

    :returns: the settings with booleans, integers and the blocked-plugin list parsed.
    """
    merged: dict[str, Any] = dict(DEFAULTS)
    for key in _ENV_KEYS:
        if key in environ:
            merged[key] = environ[key]
    if test_config:
        merged.update(test_config)
    for key in _BOOLEAN_KEYS:
        merged[key] = parse_bool(merged[key])
    for key in _INTEGER_KEYS:
        merged[key] = int(merged[key])
    blocked = merged["LMS_BLOCKED_PLUGINS"]
    if isinstance(blocked, str):
        blocked = [name.strip() for name in blocked.split(",")]
    merged["LMS_BLOCKED_PLUGINS"] = tuple(name for name in blocked if name)
    merged["LMS_BASE_URL"] = str(merged["LMS_BASE_URL"]).rstrip("/")
    return merged


def instance_secret(instance_path: Path, filename: str, make: Any) -> str:
    """Read a secret from the instance folder, creating it with ``make()`` (mode 0600) the first time."""
    path = instance_path / filename
    instance_path.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: two processes starting at once must not each write a different key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(make())
    logger.info("generated %s in the instance folder", filename)
    return path.read_text(encoding="ascii").strip()


def resolve_secrets(settings: dict[str, Any], instance_path: Path) -> None:
    """Fill ``LMS_SECRET_KEY``, ``LMS_ENCRYPTION_KEY`` and ``LMS_DATABASE_URL`` when they are not configured."""
    if not settings["LMS_SECRET_KEY"]:
        settings["LMS_SECRET_KEY"] = instance_secret(instance_path, "secret_key", lambda: secrets.token_hex(32))
    if not settings["LMS_ENCRYPTION_KEY"]:
        settings["LMS_ENCRYPTION_KEY"] = instance_secret(
            instance_path, "encryption.key", lambda: Fernet.generate_key().decode("ascii")
        )
    if not settings["LMS_DATABASE_URL"]:
        instance_path.mkdir(parents=True, exist_ok=True)
        settings["LMS_DATABASE_URL"] = f"sqlite:///{instance_path / 'lms.sqlite3'}"
