"""What a failed Sferum operation means, in words an administrator understands, and whether to try again."""

from __future__ import annotations

import enum
from datetime import timedelta

from sferum_plugin.gateway.errors import (
    CaptchaNeededError,
    ChatNotFoundError,
    NotOrganisationMemberError,
    PermanentApiError,
    QuotaExceededError,
    SferumError,
    SpamRestrictionError,
)
from sferum_plugin.i18n import N_
from sferum_plugin.services.explain import Retry, explain

__all__ = ["MAX_ATTEMPTS", "Retry", "Verdict", "backoff", "reason_of", "verdict_of"]

MAX_ATTEMPTS = 8
"""Transient failures of one operation before it is given up as failed (about two hours of backoff)."""


class Verdict(enum.Enum):
    """What to do with an operation after a failure."""

    RETRY = "retry"  # transient: try again after a backoff
    PAUSE = "pause"  # quota: the whole service waits until the resume time
    VANISHED = "vanished"  # the chat is gone (927)
    FAILED = "failed"  # permanent: stop retrying, show to admins


def verdict_of(error: SferumError) -> Verdict:
    """Classify ``error`` (see the gateway's error tree)."""
    if isinstance(error, QuotaExceededError):
        return Verdict.PAUSE
    if isinstance(error, ChatNotFoundError):
        return Verdict.VANISHED
    if isinstance(error, PermanentApiError):
        return Verdict.FAILED
    return Verdict.RETRY


def backoff(attempts: int) -> timedelta:
    """Wait before retry ``attempts`` of an operation: 30 s doubling, at most an hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


# What the sync says of these itself: each is a state of the organisation account, or of one person, in Sferum, with
# what to do about it.  Their verdicts follow from the error tree: 14 and 984 pause as quotas do (PAUSE), 967 and
# 1019 refuse one person (FAILED), 1017 is a ChatNotFoundError (VANISHED).
_OWN_REASONS: tuple[tuple[type[SferumError], str], ...] = (
    (
        CaptchaNeededError,
        N_(
            "Сферум потребовал ввести капчу от имени учётной записи организации: синхронизация приостановлена до "
            "%(until)s, затем продолжится сама. Если пауза повторяется, войдите в Сферум под учётной записью "
            "организации и пройдите проверку."
        ),
    ),
    (
        SpamRestrictionError,
        N_(
            "Сферум ограничил учётную запись организации за подозрение в спаме: синхронизация приостановлена до "
            "%(until)s, затем продолжится сама. Если ограничение не снимется, обратитесь в поддержку Сферума."
        ),
    ),
    (
        NotOrganisationMemberError,
        N_(
            "Человек не состоит в организации в Сферуме, поэтому в её рабочий чат его добавить нельзя: добавьте его "
            "в организацию в Сферуме."
        ),
    ),
)


def reason_of(error: SferumError, *, retry: Retry = Retry.AUTOMATIC) -> str:
    """The reason to store and show for ``error`` (a Russian source string, translated where it is shown; a quota
    pause's ``%(until)s`` is filled from the service's ``paused_until`` there).  The worker repeats transient
    failures, so by default the reason says so; ``Retry.GIVEN_UP`` once it has stopped (see :mod:`.explain`)."""
    for error_class, reason in _OWN_REASONS:
        if isinstance(error, error_class):
            return reason
    return explain(error, retry=retry).message
