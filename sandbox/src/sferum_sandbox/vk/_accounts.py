"""``users.get``, ``secure.checkToken`` and ``apps.get``: who is who, for the app and its tokens.

Choices: an unknown user id in users.get is error 113 (Invalid user id); without ``user_ids`` a service
token gets an empty list; secure.checkToken answers error 15 for a token that is unknown or expired.
"""

from __future__ import annotations

import re
from typing import Any

from ._context import CallContext, Handler
from ._errors import VkApiError
from ._profiles import profile
from ._state import TOKEN_USER

_SCREEN_NAME = re.compile(r"id(\d+)")
APP_TITLE = "Sferum sandbox"


def _user_id(raw: int | str) -> int:
    if isinstance(raw, int):
        return raw
    match = _SCREEN_NAME.fullmatch(raw)
    if match is None:
        raise VkApiError(113, f"{raw!r} is not a user id or screen name")
    return int(match.group(1))


def users_get(ctx: CallContext, params: dict[str, Any]) -> Any:
    if "user_ids" in params:
        wanted = [_user_id(raw) for raw in params["user_ids"]]
    elif ctx.caller.kind == TOKEN_USER and ctx.caller.user_id is not None:
        wanted = [ctx.caller.user_id]
    else:
        wanted = []
    result = []
    for user_id in wanted:
        user = ctx.state.users.get(user_id)
        if user is None:
            raise VkApiError(113, f"user {user_id} does not exist")
        result.append(profile(user, params.get("fields", []), ctx.base_url))
    return result


def check_token(ctx: CallContext, params: dict[str, Any]) -> Any:
    if "token" not in params:
        raise VkApiError(100, "token is a required parameter")
    checked = ctx.state.tokens.get(params["token"])
    if checked is None or checked.kind != TOKEN_USER:
        raise VkApiError(15, "invalid token")
    if checked.is_expired(ctx.monotonic):
        raise VkApiError(15, "token has expired")
    return {
        "success": 1,
        "user_id": checked.user_id,
        "date": checked.issued_at,
        "expire": checked.expire_unix,
    }


def apps_get(ctx: CallContext, params: dict[str, Any]) -> Any:
    wanted = params.get("app_ids") or [params.get("app_id", ctx.app_id)]
    items = [
        {"type": "app", "id": ctx.app_id, "title": APP_TITLE, "author_owner_id": 0, "is_installed": True}
        for app_id in dict.fromkeys(wanted)
        if app_id == ctx.app_id
    ]
    return {"count": len(items), "items": items}


HANDLERS: dict[str, Handler] = {
    "users.get": users_get,
    "secure.checkToken": check_token,
    "apps.get": apps_get,
}
