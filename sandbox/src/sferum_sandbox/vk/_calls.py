"""The ``calls.*`` methods: group video calls for online lessons.

Errors the schema leaves open (it lists none for ``calls.*``), chosen for the sandbox: an unknown ``call_id`` and a
call that is already finished are both error 104, ``api_error_not_found`` "Not found" (the message tells which);
finishing someone else's call is error 15.
"""

from __future__ import annotations

from typing import Any

from ._context import CallContext, Handler
from ._errors import VkApiError
from ._state import Call


def start(ctx: CallContext, params: dict[str, Any]) -> Any:
    call = Call(ctx.random_uuid(), ctx.caller_id, ctx.now)
    ctx.state.calls[call.call_id] = call
    return {
        "call_id": call.call_id,
        "join_link": f"{ctx.base_url}/call/{call.call_id}",
        "ok_join_link": f"{ctx.base_url}/call/{call.call_id}?via=ok",
    }


def force_finish(ctx: CallContext, params: dict[str, Any]) -> Any:
    call = ctx.state.calls.get(params["call_id"])
    if call is None:
        raise VkApiError(104, "call_id: no such call")
    if call.owner_id != ctx.caller_id:
        raise VkApiError(15, "only the call's owner can finish it")
    if not call.is_active:
        raise VkApiError(104, "call_id: call already finished")
    call.finished_at = ctx.now
    return 1


HANDLERS: dict[str, Handler] = {"calls.start": start, "calls.forceFinish": force_finish}
