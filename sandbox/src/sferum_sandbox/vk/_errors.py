"""VK API errors as the sandbox raises and renders them.

The codes and their standard descriptions come from the schema's ``errors.json`` (loaded by ``_schema``), and for
the few codes VK documents only on its method pages (dev.vk.com/method/...), from those pages
(:data:`METHOD_PAGE_DESCRIPTIONS`);
``VkApiError`` carries the code and a detail, and ``error_body`` renders the wire format VK uses:
HTTP 200 with ``{"error": {"error_code", "error_msg", "request_params"}}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Parameters that are secrets: never echoed back in ``request_params`` (VK omits access_token itself;
# the sandbox also hides the token being checked by secure.checkToken).
_SECRET_PARAMS = frozenset({"access_token"})
_REDACTED_PARAMS = frozenset({"token", "code_verifier", "refresh_token"})


METHOD_PAGE_DESCRIPTIONS: Mapping[int, str] = {
    967: "This user can't be added to the work chat, as they aren't an employee.",  # messages.addChatUser
    984: "You has spam restriction",  # messages.createChat, messages.addChatUser, messages.removeChatUser
    1017: "Chat was deleted",  # messages.removeChatUser
    1019: "Chat can not be joined because user who want to join not organization member",  # getChatPreview
}
"""``error_msg`` of codes that VK's method pages list and the schema's ``errors.json`` lacks, as the pages word them."""


class VkApiError(Exception):
    """A VK API error: ``code`` from errors.json, ``detail`` appended to the standard description."""

    def __init__(self, code: int, detail: str = "") -> None:
        super().__init__(code, detail)
        self.code = code
        self.detail = detail

    def message(self, descriptions: Mapping[int, str]) -> str:
        """Return the ``error_msg`` VK would send: the standard description, then the detail."""
        base = descriptions.get(self.code) or METHOD_PAGE_DESCRIPTIONS.get(self.code, "Unknown error occurred")
        return f"{base}: {self.detail}" if self.detail else base


def request_params(method: str, params: Mapping[str, str]) -> list[dict[str, str]]:
    """Return VK's ``request_params`` list: method, oauth flag, then the parameters without secrets."""
    echoed = [{"key": "method", "value": method}, {"key": "oauth", "value": "1"}]
    for key, value in params.items():
        if key in _SECRET_PARAMS:
            continue
        echoed.append({"key": key, "value": "***" if key in _REDACTED_PARAMS else value})
    return echoed


def error_body(
    error: VkApiError, descriptions: Mapping[int, str], method: str, params: Mapping[str, str]
) -> dict[str, Any]:
    """Return the JSON body of an error reply."""
    return {
        "error": {
            "error_code": error.code,
            "error_msg": error.message(descriptions),
            "request_params": request_params(method, params),
        }
    }
