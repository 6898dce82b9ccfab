"""Installing, upgrading and uninstalling plugin modules (the Modules page and ``flask modules`` share it).

Every operation checks the module's state first and changes nothing when the request makes no sense (installing
twice, uninstalling a module that is not installed), answering with a message the administrator understands.
A plugin that fails in its lifecycle hook leaves the host's records as they were.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import attrs
from sqlalchemy import delete

from hookspecs.types import ModuleInfo, Permission, SettingsField
from lms_host.cabinet import Cabinet
from lms_host.host_modules import HOST_MODULE_INFO
from lms_host.i18n import gettext as _
from lms_host.models import InstalledModule, RolePermission
from lms_host.permissions import grant_defaults
from lms_host.plugins import flatten
from lms_host.services.settings import HOST_MODULES

__all__ = [
    "ModuleOutcome",
    "ModuleState",
    "install_module",
    "module_states",
    "uninstall_module",
    "upgrade_module",
]

logger = logging.getLogger(__name__)


@attrs.frozen
class ModuleOutcome:
    """What an operation did, as a message for the administrator."""

    ok: bool
    message: str


@attrs.frozen
class ModuleState:
    """A row of the Modules page."""

    info: ModuleInfo
    is_host_module: bool
    installed_version: str | None
    available: bool

    @property
    def installed(self) -> bool:
        """Whether the module is installed."""
        return self.is_host_module or self.installed_version is not None

    @property
    def needs_upgrade(self) -> bool:
        """Whether the plugin's version differs from the one recorded at installation."""
        return (
            self.available
            and not self.is_host_module
            and self.installed_version is not None
            and self.installed_version != self.info.version
        )


def module_states(cabinet: Cabinet) -> list[ModuleState]:
    """The host's modules, then every module found among the plugins, then installed modules whose plugin
    is gone (blocked or removed)."""
    installed = cabinet.settings.installed_modules()
    states = [
        ModuleState(info=info, is_host_module=True, installed_version=info.version, available=True)
        for info in HOST_MODULE_INFO.values()
    ]
    for name, entry in sorted(cabinet.registry.modules.items(), key=lambda item: item[1].info.title):
        states.append(
            ModuleState(info=entry.info, is_host_module=False, installed_version=installed.get(name), available=True)
        )
    for name, version in sorted(installed.items()):
        if name not in cabinet.registry.modules:
            info = ModuleInfo(name=name, title=name, version=version)
            states.append(ModuleState(info=info, is_host_module=False, installed_version=version, available=False))
    return states


def _title(cabinet: Cabinet, name: str) -> str:
    entry = cabinet.registry.modules.get(name)
    return entry.info.title if entry else name


def install_module(cabinet: Cabinet, name: str) -> ModuleOutcome:
    """Install ``name``: the plugin's install hook, then the record and the default grants."""
    if name in HOST_MODULES:
        title = HOST_MODULE_INFO[name].title
        return ModuleOutcome(False, _("Модуль «%(title)s» входит в состав ЛК и всегда установлен.", title=title))
    entry = cabinet.registry.modules.get(name)
    if entry is None:
        return ModuleOutcome(False, _("Модуль «%(name)s» не найден.", name=name))
    if cabinet.settings.is_installed(name):
        return ModuleOutcome(False, _("Модуль «%(title)s» уже установлен.", title=entry.info.title))
    try:
        cabinet.registry.call("lms_module_install", (), module=name, host=cabinet.host)
    except Exception:
        # The message may come from a remote service; the details go to the log, not to the page.
        logger.exception("installing module %s failed", name)
        return ModuleOutcome(
            False, _("Не удалось установить модуль «%(title)s». Подробности — в журнале.", title=entry.info.title)
        )
    permissions: list[Permission] = flatten(cabinet.registry.call_module(name, "lms_permissions"))
    with cabinet.db.session() as session:
        session.add(InstalledModule(name=name, version=entry.info.version, installed_at=datetime.now(UTC)))
        grant_defaults(session, permissions)
    logger.info("module %s %s installed", name, entry.info.version)
    return ModuleOutcome(True, _("Модуль «%(title)s» установлен.", title=entry.info.title))


def upgrade_module(cabinet: Cabinet, name: str) -> ModuleOutcome:
    """Bring an installed module to the plugin's current version."""
    entry = cabinet.registry.modules.get(name)
    installed = cabinet.settings.installed_modules()
    if entry is None or name not in installed:
        return ModuleOutcome(False, _("Модуль «%(title)s» не установлен.", title=_title(cabinet, name)))
    from_version = installed[name]
    if from_version == entry.info.version:
        return ModuleOutcome(False, _("Модуль «%(title)s» уже обновлён.", title=entry.info.title))
    try:
        cabinet.registry.call("lms_module_upgrade", (), module=name, host=cabinet.host, from_version=from_version)
    except Exception:
        logger.exception("upgrading module %s from %s failed", name, from_version)
        return ModuleOutcome(
            False, _("Не удалось обновить модуль «%(title)s». Подробности — в журнале.", title=entry.info.title)
        )
    with cabinet.db.session() as session:
        row = session.get(InstalledModule, name)
        if row is not None:
            row.version = entry.info.version
    logger.info("module %s upgraded from %s to %s", name, from_version, entry.info.version)
    return ModuleOutcome(True, _("Модуль «%(title)s» обновлён.", title=entry.info.title))


def uninstall_module(cabinet: Cabinet, name: str, *, keep_data: bool) -> ModuleOutcome:
    """Uninstall ``name``; with ``keep_data=False`` also forget its settings and permission grants."""
    title = _title(cabinet, name)
    if name in HOST_MODULES or name not in cabinet.settings.installed_modules():
        return ModuleOutcome(False, _("Модуль «%(title)s» не установлен.", title=title))
    entry = cabinet.registry.modules.get(name)
    permission_codes: list[str] = []
    contributed: dict[str, list[str]] = {}
    if entry is not None:
        try:
            cabinet.registry.call("lms_module_uninstall", (), module=name, host=cabinet.host, keep_data=keep_data)
        except Exception:
            logger.exception("uninstalling module %s failed", name)
            return ModuleOutcome(
                False, _("Не удалось удалить модуль «%(title)s». Подробности — в журнале.", title=title)
            )
        permission_codes = [p.code for p in flatten(cabinet.registry.call_module(name, "lms_permissions"))]
        for host_module in HOST_MODULES:
            fields: list[SettingsField] = flatten(
                cabinet.registry.call_module(name, "lms_settings_fields", module=host_module)
            )
            contributed[host_module] = [field.name for field in fields]
    with cabinet.db.session() as session:
        session.execute(delete(InstalledModule).where(InstalledModule.name == name))
        if not keep_data:
            grants = delete(RolePermission).where(
                RolePermission.permission.in_(permission_codes) | RolePermission.permission.startswith(f"{name}.")
            )
            session.execute(grants)
    if not keep_data:
        cabinet.settings.delete(name)
        for host_module, keys in contributed.items():
            if keys:
                cabinet.settings.delete(host_module, keys)
    logger.info("module %s uninstalled (keep_data=%s)", name, keep_data)
    if keep_data:
        return ModuleOutcome(True, _("Модуль «%(title)s» удалён, данные модуля сохранены.", title=title))
    return ModuleOutcome(True, _("Модуль «%(title)s» и его данные удалены.", title=title))
