"""The organisation's clock: "today" is the organisation's day, whatever the server's time zone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, tzinfo

__all__ = ["OrgClock"]


class OrgClock:
    """The current time in the organisation's time zone; tests inject ``now`` (a fake clock)."""

    def __init__(self, timezone: tzinfo, now: Callable[[], datetime] | None = None) -> None:
        self._timezone = timezone
        self._now = now

    @property
    def timezone(self) -> tzinfo:
        """The organisation's time zone."""
        return self._timezone

    def now(self) -> datetime:
        """The current time, timezone-aware, in the organisation's time zone."""
        current = self._now() if self._now is not None else datetime.now(UTC)
        if current.tzinfo is None:
            raise ValueError("the configured NOW callable must return an aware datetime")
        return current.astimezone(self._timezone)

    def today(self) -> date:
        """The organisation's current date."""
        return self.now().date()
