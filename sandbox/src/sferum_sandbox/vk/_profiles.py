"""User objects (``users_user_full``) as users.get and the extended messages methods return them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._state import SferumUser

# The profile fields the sandbox can answer; others are silently left out, as VK does for unknown fields.
_PHOTO_SIZES = {"photo_50": 50, "photo_100": 100, "photo_200": 200}


def profile(user: SferumUser, fields: Iterable[str], base_url: str) -> dict[str, Any]:
    """Return the profile of ``user`` with the requested optional ``fields`` the sandbox knows."""
    result: dict[str, Any] = {
        "id": user.id,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "can_access_closed": True,
        "is_closed": False,
    }
    for field in fields:
        if field == "screen_name":
            result["screen_name"] = f"id{user.id}"
        elif field in _PHOTO_SIZES:
            result[field] = f"{base_url}/_sandbox/avatar/{user.id}?size={_PHOTO_SIZES[field]}"
    return result
