"""Keep Sferum secrets out of logs, exception messages and the request parameters that errors carry.

Two rules mask a secret:

- by name: the value of a parameter called ``access_token``, ``token``, ``code_verifier``, ``refresh_token``,
  ``id_token``, ``client_secret`` (``name=value``, ``"name": "value"``, ``name: value``) and a
  ``Bearer`` credential;
- by value: any string registered with :func:`register_secret` (the gateway's clients register the tokens
  they are given, VK ID registers the codes and tokens it handles), wherever it appears.

:class:`RedactingFilter` applies both to every log record that passes it; :func:`install_redaction` puts one
on a logger and on its handlers (a logger's own filters do not see records propagated from child loggers, a
handler's do).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping

__all__ = [
    "REDACTED",
    "SECRET_PARAMETER_NAMES",
    "RedactingFilter",
    "SecretRegistry",
    "install_redaction",
    "redact_text",
    "register_secret",
    "scrub_params",
]

REDACTED = "***"
"""What a secret is replaced with."""

SECRET_PARAMETER_NAMES = frozenset(
    {"access_token", "token", "code_verifier", "refresh_token", "id_token", "client_secret"}
)
"""Request parameters whose values are always secrets."""

# Shorter strings would mask ordinary text (ids, words); real VK tokens and codes are far longer.
_MIN_SECRET_LENGTH = 8

_NAMED_SECRET = re.compile(
    r"(?P<name>\b(?:" + "|".join(sorted(SECRET_PARAMETER_NAMES)) + r")\b)"
    r"(?P<separator>[\"']?\s*[=:]\s*[\"']?)"
    r"(?P<value>[^&\s\"',;}\]]+)"
)
_BEARER = re.compile(r"(?P<name>\bBearer\s+)(?P<value>[^\s\"',;}\]]+)", re.IGNORECASE)


class SecretRegistry:
    """A thread-safe set of secret strings, masked wherever they occur in text."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def register(self, secret: str) -> None:
        """Mask ``secret`` from now on (strings shorter than 8 characters are ignored)."""
        if len(secret) < _MIN_SECRET_LENGTH:
            return
        with self._lock:
            if secret in self._secrets:
                return
            self._secrets.add(secret)
            # Longest first, so that a secret containing another one is masked whole.
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(item) for item in ordered))

    def redact(self, text: str) -> str:
        """Return ``text`` with every registered secret and every named secret parameter masked."""
        pattern = self._pattern
        if pattern is not None:
            text = pattern.sub(REDACTED, text)
        text = _NAMED_SECRET.sub(lambda m: m["name"] + m["separator"] + REDACTED, text)
        return _BEARER.sub(lambda m: m["name"] + REDACTED, text)


# The one process-wide registry.  Logging is process-wide too: a secret has to be masked by every filter,
# whichever logger or handler it was installed on, so the registry cannot belong to one client.
_DEFAULT_REGISTRY = SecretRegistry()


def register_secret(secret: str, registry: SecretRegistry | None = None) -> None:
    """Mask ``secret`` in every log record and gateway error message from now on."""
    (registry or _DEFAULT_REGISTRY).register(secret)


def redact_text(text: str, registry: SecretRegistry | None = None) -> str:
    """Return ``text`` with all known secrets masked."""
    return (registry or _DEFAULT_REGISTRY).redact(text)


def scrub_params(params: Mapping[str, object], registry: SecretRegistry | None = None) -> dict[str, str]:
    """Return request parameters safe to show: secret parameters dropped, secrets in other values masked."""
    return {
        key: redact_text(str(value), registry) for key, value in params.items() if key not in SECRET_PARAMETER_NAMES
    }


class RedactingFilter(logging.Filter):
    """A logging filter that masks secrets in the message, its arguments and the formatted traceback."""

    def __init__(self, registry: SecretRegistry | None = None) -> None:
        super().__init__()
        self._registry = registry

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = redact_text(message, self._registry)
        record.args = None
        if record.exc_info and not record.exc_text:
            # Format the traceback now, so that handlers print the masked text instead of formatting it anew.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text, self._registry)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info, self._registry)
        return True


def install_redaction(logger: logging.Logger, registry: SecretRegistry | None = None) -> RedactingFilter:
    """Put a :class:`RedactingFilter` on ``logger`` and on each of its handlers; return the filter.

    Installing twice on the same logger does not add a second filter.
    """
    for existing in logger.filters:
        if isinstance(existing, RedactingFilter):
            redacting = existing
            break
    else:
        redacting = RedactingFilter(registry)
        logger.addFilter(redacting)
    for handler in logger.handlers:
        if redacting not in handler.filters:
            handler.addFilter(redacting)
    return redacting
