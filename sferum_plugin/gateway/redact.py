"""Keep Sferum secrets out of logs, exception messages and the request parameters that errors carry.

Two rules mask a secret:

- by name: the value of a parameter called ``access_token``, ``token``, ``code_verifier``, ``refresh_token``,
  ``id_token``, ``client_secret`` (``name=value``, ``"name": "value"``, ``name: value``) and a
  ``Bearer`` credential;
- by value, wherever it appears: the long-lived credentials registered with :func:`register_secret` (for the life
  of the process), and the short-lived secrets of the blocks of work that are running, each added to the
  :class:`SecretScope` of its block (:func:`secret_scope`; the connector opens one per block, its clients add the
  tokens they are given and VK ID's codes, verifiers and tokens) and let go when the block ends.

Short-lived secrets are not kept for good on purpose: a process links thousands of profiles, and a registry that kept
every code, verifier and user token of them would cost more at each registration and at every log line (issue 11,
item 6: 88 ms and 0.56 ms at 3,000 secrets).  Masking by name still covers them after their block.

:class:`RedactingFilter` applies both to every log record that passes it; :func:`install_redaction` puts one
on a logger and on its handlers (a logger's own filters do not see records propagated from child loggers, a
handler's do).
"""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter
from collections.abc import Iterable, Mapping

__all__ = [
    "REDACTED",
    "SECRET_PARAMETER_NAMES",
    "RedactingFilter",
    "SecretRegistry",
    "SecretScope",
    "install_redaction",
    "redact_text",
    "register_secret",
    "scrub_params",
    "secret_scope",
    "secrets_held",
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
    """The secrets masked by value: lasting ones for the life of the process, the others while their scope is open.

    Masking a line costs one substring search per secret held, so the registry holds only what is in use: the
    organisation's credentials (:meth:`register`, a handful) and the short-lived secrets of the blocks of work that
    are running (:meth:`scope`).  The list that :meth:`redact` reads is rebuilt whole on every change and swapped
    in, so reading it takes no lock.  Thread-safe.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lasting: set[str] = set()
        # How many open scopes hold each short-lived secret: two blocks may meet the same one (the same user).
        self._scoped: Counter[str] = Counter()
        self._ordered: tuple[str, ...] = ()

    def __len__(self) -> int:
        """How many distinct secrets are masked by value now."""
        return len(self._ordered)

    def register(self, secret: str) -> None:
        """Mask ``secret`` for the life of the process (strings shorter than 8 characters are ignored).

        Only for long-lived credentials (the organisation's application and service tokens, a bot's token); a
        secret that lives as long as a block of work belongs in a :meth:`scope`, or the registry would grow without
        end.
        """
        if len(secret) < _MIN_SECRET_LENGTH:
            return
        with self._lock:
            if secret not in self._lasting:
                self._lasting.add(secret)
                self._rebuild()

    def scope(self) -> SecretScope:
        """A scope for short-lived secrets, masked from :meth:`SecretScope.add` until the scope is closed."""
        return SecretScope(self)

    def redact(self, text: str) -> str:
        """Return ``text`` with every registered secret and every named secret parameter masked."""
        # Longest first, so that a secret containing another one is masked whole.
        for secret in self._ordered:
            if secret in text:
                text = text.replace(secret, REDACTED)
        text = _NAMED_SECRET.sub(lambda m: m["name"] + m["separator"] + REDACTED, text)
        return _BEARER.sub(lambda m: m["name"] + REDACTED, text)

    def _hold(self, secrets: Iterable[str]) -> None:
        with self._lock:
            self._scoped.update(secrets)
            self._rebuild()

    def _release(self, secrets: Iterable[str]) -> None:
        with self._lock:
            self._scoped.subtract(secrets)
            for secret in [secret for secret, count in self._scoped.items() if count <= 0]:
                del self._scoped[secret]
            self._rebuild()

    def _rebuild(self) -> None:
        self._ordered = tuple(sorted(self._lasting.union(self._scoped), key=len, reverse=True))


class SecretScope:
    """Short-lived secrets (a user's tokens, a code, a PKCE verifier), masked by value while the scope is open.

    A context manager: the secrets added to it are released when the block ends.  The gateway's connector opens
    one per block of work, and its clients add the secrets they are given or receive.
    """

    def __init__(self, registry: SecretRegistry) -> None:
        self._registry = registry
        self._held: set[str] = set()
        self._closed = False
        self._lock = threading.Lock()

    def __enter__(self) -> SecretScope:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __len__(self) -> int:
        """How many secrets the scope holds."""
        return len(self._held)

    def add(self, secret: str) -> None:
        """Mask ``secret`` until the scope is closed (strings shorter than 8 characters are ignored).

        :raises RuntimeError: the scope is closed (a client outlived its block: its secrets would go unmasked).
        """
        if len(secret) < _MIN_SECRET_LENGTH:
            return
        with self._lock:
            if self._closed:
                raise RuntimeError("this secret scope is closed: the client outlived its block of work")
            if secret in self._held:
                return
            self._held.add(secret)
            self._registry._hold([secret])

    def close(self) -> None:
        """Stop masking the scope's secrets by value (their names still mask them); closing twice does nothing."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            held, self._held = self._held, set()
            self._registry._release(held)


# The one process-wide registry.  Logging is process-wide too: a secret has to be masked by every filter,
# whichever logger or handler it was installed on, so the registry cannot belong to one client.
_DEFAULT_REGISTRY = SecretRegistry()


def _registry(registry: SecretRegistry | None) -> SecretRegistry:
    # Not ``registry or ...``: an empty registry is falsy (it has a length).
    return _DEFAULT_REGISTRY if registry is None else registry


def register_secret(secret: str, registry: SecretRegistry | None = None) -> None:
    """Mask ``secret`` in every log record and gateway error message for the life of the process (long-lived
    credentials only: see :meth:`SecretRegistry.register`)."""
    _registry(registry).register(secret)


def secret_scope(registry: SecretRegistry | None = None) -> SecretScope:
    """A scope for short-lived secrets, masked by value until it is closed (use it as a context manager)."""
    return _registry(registry).scope()


def secrets_held(registry: SecretRegistry | None = None) -> int:
    """How many distinct secrets are masked by value now: the lasting ones and those of the open scopes."""
    return len(_registry(registry))


def redact_text(text: str, registry: SecretRegistry | None = None) -> str:
    """Return ``text`` with all known secrets masked."""
    return _registry(registry).redact(text)


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
