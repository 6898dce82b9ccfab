"""The online lessons' background job: end the lessons a teacher forgot to end."""

from __future__ import annotations

import logging

from hookspecs.types import JobContext
from sferum_plugin import MODULE_NAME
from sferum_plugin.services.connection import SferumAccess
from sferum_plugin.services.platforms import platform_for

__all__ = ["end_overdue_lessons"]

logger = logging.getLogger(__name__)


def end_overdue_lessons(context: JobContext, *, sferum: SferumAccess) -> None:
    """End online lessons left active longer than the configured delay after their scheduled end, on the chosen
    platform: VK finishes the call, MAX posts the end in the group's chat (:mod:`~sferum_plugin.services.max_lessons`).
    """
    stored = context.host.settings.get(MODULE_NAME)
    ended = platform_for(stored).lessons.end_overdue(context.host, stored, sferum)
    if ended:
        logger.info("ended %d overdue online lesson(s) automatically", len(ended))
