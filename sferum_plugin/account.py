"""Whose rows these are: the account of a platform hosting Sferum.

The module keeps its links, chats, online lessons and sync history per account, and an account belongs to a platform
(«Платформа «Сферума»»): a VK application (its APP ID) in VK Messenger, or the MAX bot's space in MAX.  Every such row
stores both, ``platform`` and ``app_id``, so that switching the module to the other platform hides this one's rows and
switching back brings them back, and no query can mix them up: services filter with :meth:`Account.owns` and insert
with :meth:`Account.columns`.

MAX has one space per installation (:data:`MAX_SPACE`): MAX's user and chat ids are the same for every bot, so a
university that replaces its bot keeps its profiles and chats (the new bot must be made administrator of the chats).
"""

from __future__ import annotations

from typing import Any

import attrs

__all__ = ["MAX_SPACE", "Account"]

MAX_SPACE = 0
"""``app_id`` of every MAX row (VK APP IDs are positive, but rows are told apart by ``platform`` anyway)."""


@attrs.frozen
class Account:
    """An account of a platform: ``platform`` is the setting's value (``vk``/``max``), ``key`` the ``app_id``."""

    platform: str
    key: int

    def owns(self, model: Any) -> tuple[Any, Any]:
        """The ``where`` clauses that keep a query to this account's rows of ``model`` (a mapped class)."""
        return (model.platform == self.platform, model.app_id == self.key)

    def platform_of(self, model: Any) -> Any:
        """The ``where`` clause that keeps a query to this account's platform's rows of ``model`` (for tables kept
        per platform, such as the sync history)."""
        return model.platform == self.platform

    def columns(self) -> dict[str, object]:
        """The values of ``platform`` and ``app_id`` for a new row of this account."""
        return {"platform": self.platform, "app_id": self.key}

    def holds(self, row: Any) -> bool:
        """Whether ``row`` (a mapped object with ``platform`` and ``app_id``) belongs to this account."""
        return bool(row.platform == self.platform and row.app_id == self.key)
