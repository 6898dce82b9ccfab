"""Handlers of the module's HTTP routes: they translate requests into service calls and results into pages.

They receive framework-neutral :class:`hookspecs.types.HttpRequest` objects; the host has authenticated the viewer,
verified CSRF and checked the route's permission, and every handler checks object-level rights itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hookspecs.types import Route
from sferum_plugin.views import (
    chat_open,
    chats,
    connection_check,
    lesson_actions,
    mailing,
    max_updates,
    online_lessons,
    profile_link,
    sync_admin,
)

if TYPE_CHECKING:
    from sferum_plugin.services.connection import SferumAccess

__all__ = ["routes"]


def routes(sferum: SferumAccess) -> list[Route]:
    """The module's route table: every view module's ``ROUTES``, with Sferum bound where a view reaches it."""
    modules = (
        online_lessons,
        profile_link,
        connection_check,
        lesson_actions,
        chats,
        chat_open,
        sync_admin,
        mailing,
        max_updates,
    )
    return [route.bind(sferum) for module in modules for route in module.ROUTES]
