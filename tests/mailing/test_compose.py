"""Messages: UTF-8 headers and body round-trip through a real parser; no field can inject a header."""

from __future__ import annotations

from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sferum_plugin.services.mailing import (
    MessageParts,
    address_problem,
    build_message,
    header_text,
    substitute,
    unknown_placeholders,
)

NOW = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
INJECTION = "x\r\nBcc: victim@evil.example\r\nX-Injected: yes\n\rSubject: spoofed"


def _parts(**overrides: str) -> MessageParts:
    values = {
        "sender": "ЛК университета <lms@university.example>",
        "recipient_name": "Иванов Пётр Сергеевич",
        "recipient_email": "petr@example.org",
        "subject": "Создайте учебный профиль Сферум — это займёт пару минут, Пётр Сергеевич",
        "body": "Здравствуйте!\nСсылка: http://lms.test/m/sferum/online-lessons\n.\nС уважением",
        "message_id": "<sferum-mailing-1-1@university.example>",
    }
    values.update(overrides)
    return MessageParts(date=NOW, **values)


def _parse(parts: MessageParts):  # type: ignore[no-untyped-def]
    return BytesParser(policy=policy.default).parsebytes(build_message(parts).as_bytes())


def test_cyrillic_subject_names_and_body_round_trip() -> None:
    parts = _parts()
    parsed = _parse(parts)
    assert parsed["Subject"] == parts.subject
    assert parsed["From"].addresses[0].display_name == "ЛК университета"
    assert parsed["From"].addresses[0].addr_spec == "lms@university.example"
    assert parsed["To"].addresses[0].display_name == "Иванов Пётр Сергеевич"
    assert parsed["To"].addresses[0].addr_spec == "petr@example.org"
    assert parsed["Message-ID"] == parts.message_id
    assert parsed["Date"].datetime == NOW
    assert parsed.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n") == parts.body + "\n"
    raw = build_message(parts).as_bytes()
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    assert all(byte < 128 for byte in raw), "headers and body are 7-bit clean (RFC 2047, quoted-printable)"


@pytest.mark.parametrize("field", ["sender", "recipient_name", "subject", "message_id"])
def test_cr_and_lf_in_any_header_field_cannot_add_a_header(field: str) -> None:
    parts = _parts(**{field: "Поле " + INJECTION})
    parsed = _parse(parts)
    assert parsed["Bcc"] is None
    assert parsed["X-Injected"] is None
    assert len(parsed.get_all("Subject")) == 1
    assert parsed["To"].addresses[0].addr_spec == "petr@example.org"


def test_a_crlf_in_the_body_stays_in_the_body() -> None:
    parsed = _parse(_parts(body="Текст" + INJECTION))
    assert parsed["Bcc"] is None
    assert "Bcc: victim@evil.example" in parsed.get_content()


@pytest.mark.parametrize(
    "email",
    ["", "   ", "no-at-sign", "two@@example.org", "a@b", "a b@example.org", "petr@example.org\r\nBcc: x@y.org",
     "petr@example.org\n", "<petr@example.org>", "a@example.org,b@example.org", "x" * 250 + "@example.org"],
)  # fmt: skip
def test_bad_addresses_are_skipped_with_a_reason(email: str) -> None:
    assert address_problem(email) in ("нет адреса e-mail", "неверный адрес e-mail")


@pytest.mark.parametrize("email", ["petr@example.org", "p.s+lms@mail.university.example", "ivanov_p@vk.com"])
def test_good_addresses_pass(email: str) -> None:
    assert address_problem(email) is None


@given(st.text())
def test_header_text_never_contains_a_line_break(value: str) -> None:
    cleaned = header_text(value)
    assert "\r" not in cleaned
    assert "\n" not in cleaned


@given(name=st.text(max_size=80), subject=st.text(max_size=200))
def test_any_name_and_subject_give_exactly_the_expected_headers(name: str, subject: str) -> None:
    parsed = _parse(_parts(recipient_name=name, subject=subject))
    assert [key.lower() for key in parsed if key.lower() in ("to", "subject", "bcc", "cc")] == ["to", "subject"]
    assert parsed["To"].addresses[0].addr_spec == "petr@example.org"


def test_placeholders_are_substituted_and_unknown_ones_reported() -> None:
    text = "{name}, {first_name}: {link} ({email}) {unknown} {0} {name.__class__}"
    result = substitute(text, full_name="Иванов Пётр", email="p@example.org", link="http://lms.test/x")
    assert result == "Иванов Пётр, Пётр: http://lms.test/x (p@example.org) {unknown} {0} {name.__class__}"
    assert unknown_placeholders(text) == ["unknown"]
