"""The per-application state: host services, the plugin registry and the hook calls that depend on both."""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask, current_app

from hookspecs.types import Action, ChatBackendInfo, Permission, Viewer
from lms_host.database import HostDatabase
from lms_host.plugins import PluginRegistry, flatten
from lms_host.services.host import LmsHost
from lms_host.services.settings import HOST_MODULES, ModuleSettingsStore, SecretBox

__all__ = ["Cabinet", "current_cabinet"]

EXTENSION_KEY = "lms"


class Cabinet:
    """One application's LMS: everything views, CLI commands and jobs need, without module-level state."""

    def __init__(self, host: LmsHost, registry: PluginRegistry, box: SecretBox) -> None:
        self.host = host
        self.registry = registry
        self.box = box
        self.jobs_stop = threading.Event()
        self.jobs_thread: threading.Thread | None = None

    @property
    def db(self) -> HostDatabase:
        """The host's database."""
        return self.host.db

    @property
    def settings(self) -> ModuleSettingsStore:
        """The module settings store."""
        return self.host.settings

    def installed(self) -> set[str]:
        """Names of the installed modules, the host's own included."""
        return set(self.settings.installed_modules()) | set(HOST_MODULES)

    def call(self, hook_name: str, /, **kwargs: Any) -> Any:
        """Call a hook on the always-active plugins and the installed modules."""
        return self.registry.call(hook_name, self.installed(), **kwargs)

    def contributions(self, hook_name: str, /, **kwargs: Any) -> list[Any]:
        """Call a hook that adds to a host page; a failing plugin's answer is logged and left out."""
        return self.registry.call_safely(hook_name, self.installed(), **kwargs)

    def notify(self, hook_name: str, /, **kwargs: Any) -> list[Exception]:
        """Call a notification hook on every active plugin; failures are logged and returned, never raised."""
        return self.registry.call_each(hook_name, self.installed(), **kwargs)

    def section_actions(self, section: str, viewer: Viewer) -> list[Action]:
        """The «Действия» of a host section (or ``settings:<module>``), from the installed modules."""
        return flatten(self.contributions("lms_section_actions", section=section, viewer=viewer, host=self.host))

    def chat_backends(self) -> list[ChatBackendInfo]:
        """The chat types the installed modules offer."""
        return flatten(self.call("lms_chat_backends"))

    def module_permissions(self) -> list[Permission]:
        """The permissions the installed modules declare."""
        return flatten(self.call("lms_permissions"))

    def dispose(self) -> None:
        """Stop the in-process job loop, if any, and release the database connections."""
        self.jobs_stop.set()
        if self.jobs_thread is not None:
            self.jobs_thread.join(timeout=30)
        self.db.dispose()

    def install_into(self, app: Flask) -> None:
        """Make this cabinet the one of ``app``."""
        app.extensions[EXTENSION_KEY] = self

    @staticmethod
    def of(app: Flask) -> Cabinet:
        """The cabinet of ``app``."""
        cabinet: Cabinet = app.extensions[EXTENSION_KEY]
        return cabinet


def current_cabinet() -> Cabinet:
    """The cabinet of the current application."""
    return Cabinet.of(current_app)
