"""Building the e-mail of one recipient: placeholders, address checks and header safety.

Every value that reaches a header (the subject, the recipient's name and address) goes through
:func:`header_text` first: CR, LF and every other control character become a space, so that no text typed into the
form or stored in the host's records can start a header of its own.  The message itself is an
:class:`~email.message.EmailMessage` with :data:`email.policy.SMTP`: UTF-8 headers are RFC 2047 encoded and the
body is a UTF-8 ``text/plain`` part with CRLF line ends.
"""

from __future__ import annotations

import re
from datetime import datetime
from email import policy
from email.header import Header
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr

import attrs

from sferum_plugin.i18n import N_

__all__ = [
    "PLACEHOLDERS",
    "MessageParts",
    "address_problem",
    "build_message",
    "header_text",
    "message_id",
    "substitute",
    "unknown_placeholders",
]

PLACEHOLDERS: tuple[tuple[str, str], ...] = (
    ("name", N_("ФИО получателя")),
    ("first_name", N_("имя получателя (второе слово ФИО)")),
    ("email", N_("адрес e-mail получателя")),
    ("link", N_("ссылка на страницу «Онлайн-занятия»")),
)
"""The placeholders the subject and the text may contain, with what each is replaced by (shown on the form)."""

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")
# A deliberately plain check: one @, no spaces or control characters, a dot in the domain.  Anything stricter
# belongs to the mail server, which answers 5xx and the recipient is recorded as failed with its reply.
_ADDRESS = re.compile(r"^[^@\s\"(),:;<>\[\\\]]+@[^@\s\"(),:;<>\[\\\]]+\.[^@\s\"(),:;<>\[\\\].]+$")
MAX_ADDRESS = 254


@attrs.frozen
class MessageParts:
    """What one recipient's message is made of, before it becomes an :class:`EmailMessage`."""

    sender: str
    recipient_name: str
    recipient_email: str
    subject: str
    body: str
    message_id: str
    date: datetime


def header_text(value: str) -> str:
    """``value`` made safe for a header: control characters (CR and LF among them) become single spaces."""
    return _CONTROL.sub(" ", value).strip()


def unknown_placeholders(text: str) -> list[str]:
    """The ``{names}`` in ``text`` that are not placeholders (the form refuses them)."""
    known = {name for name, _ in PLACEHOLDERS}
    return sorted({name for name in _PLACEHOLDER.findall(text) if name not in known})


def _first_name(full_name: str) -> str:
    # Russian records are «Фамилия Имя Отчество»: the second word is the given name.
    words = full_name.split()
    return words[1] if len(words) >= 2 else full_name


def substitute(text: str, *, full_name: str, email: str, link: str) -> str:
    """Replace the placeholders of ``text``; unknown ``{names}`` stay as typed (never ``str.format``)."""
    values = {"name": full_name, "first_name": _first_name(full_name), "email": email, "link": link}
    return _PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), text)


def address_problem(email: str) -> str | None:
    """Why ``email`` cannot be sent to (a translatable reason), or ``None`` when it looks deliverable."""
    if not email.strip():
        return N_("нет адреса e-mail")
    # The pattern already refuses spaces, control characters and every RFC 5322 special outside a plain
    # local@domain; email.headerregistry's full parser would cost ~0.25 ms per address in the web request.
    if email != email.strip() or len(email) > MAX_ADDRESS or not _ADDRESS.match(email) or _CONTROL.search(email):
        return N_("неверный адрес e-mail")
    return None


def message_id(mailing_id: int, recipient_id: int, sender: str) -> str:
    """A ``Message-ID`` fixed per recipient: a message sent again after a crash carries the same one."""
    domain = sender.rpartition("@")[2] or "localhost"
    domain = re.sub(r"[^A-Za-z0-9.-]", "", domain) or "localhost"
    return f"<sferum-mailing-{mailing_id}-{recipient_id}@{domain}>"


def _address(name: str, email: str) -> str:
    # formataddr RFC 2047-encodes a non-ASCII name and quotes specials; the result is plain ASCII.
    return formataddr((header_text(name), header_text(email)), charset="utf-8")


def build_message(parts: MessageParts) -> EmailMessage:
    """The message of one recipient (``From``, ``To``, ``Subject``, ``Date``, ``Message-ID``, a text part)."""
    message = EmailMessage(policy=policy.SMTP)
    message.set_content(parts.body.replace("\r\n", "\n").replace("\r", "\n"), charset="utf-8", cte="quoted-printable")
    # The headers are written with email.header.Header under compat32: the modern policy's folder drops the space
    # between two encoded words when it folds a long Cyrillic subject (the words run together once decoded).
    message.policy = policy.compat32.clone(linesep="\r\n")
    sender_name, sender_address = parseaddr(header_text(parts.sender))
    message["From"] = _address(sender_name, sender_address or header_text(parts.sender))
    message["To"] = _address(parts.recipient_name, parts.recipient_email)
    message["Subject"] = Header(header_text(parts.subject), "utf-8", header_name="Subject")
    message["Date"] = format_datetime(parts.date)
    message["Message-ID"] = header_text(parts.message_id)
    message["Auto-Submitted"] = "auto-generated"
    return message
