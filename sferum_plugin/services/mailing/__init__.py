"""E-mail mailings (issue 6): the audience, the messages, the store and the sending job."""

from sferum_plugin.services.mailing.audience import (
    PROFILE_FILTER,
    SECTIONS,
    Audience,
    describe,
    filter_by_profile,
    profile_filter,
    resolve_audience,
)
from sferum_plugin.services.mailing.compose import (
    PLACEHOLDERS,
    MessageParts,
    address_problem,
    build_message,
    header_text,
    substitute,
    unknown_placeholders,
)
from sferum_plugin.services.mailing.sender import DEFAULT_POLICY, SendPolicy, run_mailings, send_mailing
from sferum_plugin.services.mailing.store import (
    MailingDraft,
    control,
    create_mailing,
    get_mailing,
    list_mailings,
    problem_recipients,
    recipient_plan,
    state_counts,
)

__all__ = [
    "DEFAULT_POLICY",
    "PLACEHOLDERS",
    "PROFILE_FILTER",
    "SECTIONS",
    "Audience",
    "MailingDraft",
    "MessageParts",
    "SendPolicy",
    "address_problem",
    "build_message",
    "control",
    "create_mailing",
    "describe",
    "filter_by_profile",
    "get_mailing",
    "header_text",
    "list_mailings",
    "problem_recipients",
    "profile_filter",
    "recipient_plan",
    "resolve_audience",
    "run_mailings",
    "send_mailing",
    "state_counts",
    "substitute",
    "unknown_placeholders",
]
