"""Module settings, with secret values encrypted at rest (Fernet) and decrypted on read."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import delete, select

from lms_host.database import HostDatabase
from lms_host.models import InstalledModule, ModuleSetting

__all__ = ["HOST_MODULES", "ModuleSettingsStore", "SecretBox"]

logger = logging.getLogger(__name__)

HOST_MODULES = ("main", "schedule")
"""The host's own modules: always installed, configured on the same pages as plugin modules."""


class SecretBox:
    """Encrypts and decrypts secret setting values with the host's Fernet key."""

    def __init__(self, key: str | bytes) -> None:
        self._fernet = Fernet(key)

    def encrypt(self, plaintext: str) -> str:
        """The Fernet token of ``plaintext``."""
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        """The plaintext of ``token``; raises :class:`cryptography.fernet.InvalidToken` for a foreign key."""
        return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")

    def __repr__(self) -> str:
        return "SecretBox(<key hidden>)"


class ModuleSettingsStore:
    """Stored settings of every module (the :class:`hookspecs.services.ModuleSettings` service)."""

    def __init__(self, db: HostDatabase, box: SecretBox) -> None:
        self._db = db
        self._box = box

    def get(self, module: str) -> Mapping[str, str]:
        """Every stored value of ``module``, secrets decrypted (an empty mapping when nothing is stored)."""
        with self._db.session() as session:
            rows = session.scalars(select(ModuleSetting).where(ModuleSetting.module == module)).all()
        values: dict[str, str] = {}
        for row in rows:
            if not row.is_secret:
                values[row.key] = row.value or ""
                continue
            try:
                values[row.key] = self._box.decrypt(row.ciphertext or "")
            except InvalidToken:
                # The encryption key changed: the value is unreadable, so it is treated as not set.
                logger.warning("secret setting %s.%s cannot be decrypted with the current key", module, row.key)
        return values

    def secret_keys(self, module: str) -> frozenset[str]:
        """Names of the stored secret settings of ``module``."""
        with self._db.session() as session:
            keys = session.scalars(
                select(ModuleSetting.key).where(ModuleSetting.module == module, ModuleSetting.is_secret)
            ).all()
        return frozenset(keys)

    def save(self, module: str, values: Mapping[str, str], secret: Iterable[str] = ()) -> None:
        """Store ``values`` of ``module`` in one transaction; the keys named in ``secret`` are encrypted."""
        secret_names = frozenset(secret)
        with self._db.session() as session:
            existing = {
                row.key: row
                for row in session.scalars(select(ModuleSetting).where(ModuleSetting.module == module)).all()
            }
            for key, value in values.items():
                row = existing.get(key) or ModuleSetting(module=module, key=key)
                row.is_secret = key in secret_names
                row.value = None if row.is_secret else value
                row.ciphertext = self._box.encrypt(value) if row.is_secret else None
                session.add(row)

    def delete(self, module: str, keys: Iterable[str] | None = None) -> None:
        """Delete the stored settings of ``module`` (only ``keys`` when given)."""
        statement = delete(ModuleSetting).where(ModuleSetting.module == module)
        if keys is not None:
            statement = statement.where(ModuleSetting.key.in_(list(keys)))
        with self._db.session() as session:
            session.execute(statement)

    def installed_modules(self) -> dict[str, str]:
        """The installed plugin modules and their recorded versions."""
        with self._db.session() as session:
            rows = session.execute(select(InstalledModule.name, InstalledModule.version)).all()
        return {name: version for name, version in rows}

    def is_installed(self, module: str) -> bool:
        """Whether ``module`` is installed (the host's own modules always are)."""
        if module in HOST_MODULES:
            return True
        with self._db.session() as session:
            return session.get(InstalledModule, module) is not None
