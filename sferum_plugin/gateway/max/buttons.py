"""The inline keyboard of a message: ``chat`` buttons (a tap creates a chat) and ``link`` buttons.

A keyboard is an ``inline_keyboard`` attachment whose payload holds rows of buttons
(``components.schemas.InlineKeyboardAttachmentRequest``).  A ``chat`` button creates a private chat with the bot
as administrator when the first person taps it, and the bot then receives ``message_chat_created`` with the
button's ``start_payload`` (``info.description``, "Chat button"; ``components.schemas.ChatButton``).  The limits
checked here are the schema's ``maxLength`` values, so that a request MAX would refuse is never sent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs

__all__ = ["Button", "ChatButton", "LinkButton", "keyboard_attachment"]


def _length(limit: int, *, minimum: int = 0) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    def check(instance: object, attribute: attrs.Attribute[Any], value: str | None) -> None:
        if value is not None and not minimum <= len(value) <= limit:
            raise ValueError(f"{attribute.name} has {minimum} to {limit} characters (the schema's limit)")

    return check


@attrs.frozen
class ChatButton:
    """A button that creates a chat (``ChatButton``).

    :param text: the button's label (``Button.text``: 1 to 128 characters).
    :param chat_title: the new chat's title (1 to 200 characters; the schema gives only the maximum).
    :param chat_description: its description (up to 400 characters).
    :param start_payload: sent back with ``message_chat_created`` (up to 512 characters): ties the new chat to
        the record that asked for it.
    :param uuid: tells the keyboard's chat buttons apart; pass the same one when editing the message, so that the
        button keeps starting the same chat.
    """

    text: str = attrs.field(validator=_length(128, minimum=1))
    chat_title: str = attrs.field(validator=_length(200, minimum=1))
    chat_description: str | None = attrs.field(default=None, validator=_length(400))
    start_payload: str | None = attrs.field(default=None, validator=_length(512))
    uuid: int | None = None

    def to_json(self) -> dict[str, object]:
        """The button as MAX expects it."""
        body: dict[str, object] = {"type": "chat", "text": self.text, "chat_title": self.chat_title}
        optional = {
            "chat_description": self.chat_description,
            "start_payload": self.start_payload,
            "uuid": self.uuid,
        }
        body.update({key: value for key, value in optional.items() if value is not None})
        return body


@attrs.frozen
class LinkButton:
    """A button that opens ``url`` (``LinkButton``): a call link, a chat's link, the module's page."""

    text: str = attrs.field(validator=_length(128, minimum=1))
    url: str = attrs.field(validator=_length(2048, minimum=1))

    def to_json(self) -> dict[str, object]:
        """The button as MAX expects it."""
        return {"type": "link", "text": self.text, "url": self.url}


Button = ChatButton | LinkButton
"""The buttons the module sends."""


def keyboard_attachment(rows: Sequence[Sequence[Button]]) -> dict[str, object]:
    """Return the ``inline_keyboard`` attachment for ``rows`` of buttons.

    :raises ValueError: there is no button, or a row is empty.
    """
    if not rows or not all(rows):
        raise ValueError("a keyboard has at least one row, and every row at least one button")
    return {
        "type": "inline_keyboard",
        "payload": {"buttons": [[button.to_json() for button in row] for row in rows]},
    }
