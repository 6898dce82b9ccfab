"""The application factory."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask

from lms_host.auth import load_viewer
from lms_host.cabinet import Cabinet
from lms_host.cli import register_cli
from lms_host.config import load_settings, resolve_secrets
from lms_host.csrf import init_csrf
from lms_host.database import HostDatabase, make_engine
from lms_host.i18n import install_translations
from lms_host.jobs import run_jobs_in_web_process
from lms_host.numbers import IdConverter
from lms_host.plugin_routes import mount_plugin_routes
from lms_host.plugins import PluginRegistry, make_plugin_manager
from lms_host.security_headers import init_security_headers
from lms_host.services import (
    HostUrls,
    LmsHost,
    ModuleSettingsStore,
    OrgClock,
    SecretBox,
    SmtpMailer,
    SqlDirectory,
)
from lms_host.views import register_views

__all__ = ["create_app"]

logger = logging.getLogger(__name__)


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create the LMS application.

    :param test_config: settings that override the ``LMS_*`` environment variables, plus ``PLUGINS`` (plugin
        objects to register), ``LOAD_ENTRYPOINTS``, ``TESTING`` and ``NOW`` (a fake clock).
    """
    overrides = dict(test_config or {})
    instance_path = overrides.get("LMS_INSTANCE_PATH") or os.environ.get("LMS_INSTANCE_PATH") or None
    app = Flask("lms_host", instance_path=instance_path, instance_relative_config=True)
    settings = load_settings(os.environ, overrides)
    resolve_secrets(settings, Path(app.instance_path))
    app.config.update(settings)
    app.config.update(
        SECRET_KEY=settings["LMS_SECRET_KEY"],
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings["LMS_BASE_URL"].startswith("https://"),
    )

    # Before any rule is added: every id in a path is read by the one parser (lms_host.numbers).
    app.url_map.converters["id"] = IdConverter
    cabinet = _build_cabinet(app, settings)
    cabinet.install_into(app)
    install_translations(app)
    app.before_request(load_viewer)
    # After load_viewer, so that the 400 page of a refused request still shows who is signed in.
    init_csrf(app)
    init_security_headers(app)
    register_views(app)
    mount_plugin_routes(app, cabinet.registry.routes())
    register_cli(app)
    if settings["LMS_RUN_JOBS"]:
        run_jobs_in_web_process(app)
    return app


def _build_cabinet(app: Flask, settings: Mapping[str, Any]) -> Cabinet:
    db = HostDatabase(make_engine(settings["LMS_DATABASE_URL"]))
    timezone = ZoneInfo(settings["LMS_TIMEZONE"])
    box = SecretBox(settings["LMS_ENCRYPTION_KEY"])
    host = LmsHost(
        db=db,
        settings=ModuleSettingsStore(db, box),
        directory=SqlDirectory(db, timezone),
        mailer=SmtpMailer(
            settings["LMS_SMTP_HOST"],
            settings["LMS_SMTP_PORT"],
            settings["LMS_MAIL_FROM"],
            starttls=settings["LMS_SMTP_STARTTLS"],
            user=settings["LMS_SMTP_USER"],
            password=settings["LMS_SMTP_PASSWORD"],
            ca_file=settings["LMS_SMTP_CA_FILE"],
        ),
        clock=OrgClock(timezone, settings["NOW"]),
        urls=HostUrls(app.url_map, settings["LMS_BASE_URL"]),
    )
    pm = make_plugin_manager(
        blocked=settings["LMS_BLOCKED_PLUGINS"],
        load_entrypoints=settings["LOAD_ENTRYPOINTS"],
        plugins=settings["PLUGINS"],
    )
    registry = PluginRegistry(pm)
    logger.info("modules found among plugins: %s", ", ".join(sorted(registry.modules)) or "none")
    return Cabinet(host, registry, box)
