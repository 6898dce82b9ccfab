"""What every platform's fault injector shares: an ordered list of rules, fired by count or by a seeded chance.

Each platform names its calls its own way (a VK method, a MAX operation) and has its own fault kinds; how a rule is
chosen for a call, counted down, listed and cleared is the same, and lives here.
"""

from __future__ import annotations

import random
import threading
from typing import Any, Generic, Protocol, TypeVar

__all__ = ["FaultRules", "Rule"]


class Rule(Protocol):
    """A fault rule as :class:`FaultRules` sees it."""

    remaining: int | None
    probability: float | None

    def matches(self, name: str) -> bool:
        """Whether the rule applies to the call ``name`` and has firings left."""

    def to_json(self) -> dict[str, Any]:
        """The rule as JSON-ready data."""


R = TypeVar("R", bound=Rule)


class FaultRules(Generic[R]):
    """The rules in force. Thread-safe: shares the sandbox's lock; random firings come from a seeded generator."""

    def __init__(self, lock: threading.RLock, seed: int = 0) -> None:
        self._lock = lock
        self._rules: list[R] = []
        self._rng = random.Random(seed)

    def _add(self, rule: R) -> R:
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[dict[str, Any]]:
        """The rules in force as JSON-ready dicts."""
        with self._lock:
            return [rule.to_json() for rule in self._rules if rule.remaining != 0]

    def draw(self, name: str) -> R | None:
        """The rule that fires for this call of ``name``, if any (the first that fires decides); counts the firing."""
        with self._lock:
            for rule in self._rules:
                if not rule.matches(name):
                    continue
                if rule.probability is not None and self._rng.random() >= rule.probability:
                    continue
                if rule.remaining is not None:
                    rule.remaining -= 1
                return rule
            return None

    def reset(self, seed: int) -> None:
        """Remove every rule and reseed the generator."""
        with self._lock:
            self._rules.clear()
            self._rng.seed(seed)
