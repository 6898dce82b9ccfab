"""The online lessons' background job: end the lessons a teacher forgot to end."""

from __future__ import annotations

import logging
from datetime import timedelta

from hookspecs.types import JobContext
from sferum_plugin import MODULE_NAME
from sferum_plugin.services import lessons
from sferum_plugin.services.connection import SferumAccess
from sferum_plugin.settings import SferumSettings

__all__ = ["end_overdue_lessons"]

logger = logging.getLogger(__name__)


def end_overdue_lessons(context: JobContext, *, sferum: SferumAccess) -> None:
    """End online lessons left active longer than the configured delay after their scheduled end."""
    stored = context.host.settings.get(MODULE_NAME)
    settings = SferumSettings.from_stored(stored)
    if settings is None:
        return
    with sferum.calls() as calls:
        ended = lessons.auto_end_overdue(
            context.host, settings, calls, after=timedelta(minutes=settings.auto_end_after_minutes)
        )
    if ended:
        logger.info("ended %d overdue online lesson(s) automatically", len(ended))
