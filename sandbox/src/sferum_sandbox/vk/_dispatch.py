"""One API request, from method name and form parameters to VK's reply (or an injected failure).

Order of checks, and the codes chosen where the schema leaves it open:

1. unknown (or not emulated) method: 3;
2. ``v`` missing: 8 (Invalid request), as VK answers since versions became mandatory;
3. no token, unknown token or expired token: 5;
4. token of a type the method's ``access_token_type`` does not list: 28 (Application authorization failed)
   for a service token, 27 for a group token, 15 (Access denied) for a user token on a service-only method;
5. more than the per-token rate: 6 (an ``execute`` request counts once);
6. parameters that do not parse against the schema: 100, naming the parameter;
7. the method itself (its own errors are documented in ``_messages``, ``_calls``, ``_accounts``).

``execute`` runs each parsed call through steps 1, 4, 6 and 7 with the same token. More than 25 calls is
error 13 (Runtime error); a failed call yields ``false`` and an ``execute_errors`` entry.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import attrs

from . import _accounts, _calls, _messages
from ._context import CallContext, Handler
from ._core import SandboxCore
from ._errors import VkApiError, error_body
from ._faults import FaultKind, FaultRule
from ._params import parse_params
from ._state import TOKEN_SERVICE, AccessToken
from ._vkscript import parse_script

logger = logging.getLogger(__name__)

HANDLERS: dict[str, Handler] = {**_messages.HANDLERS, **_calls.HANDLERS, **_accounts.HANDLERS}
EXECUTE_MAX_CALLS = 25
WRITE_METHODS = frozenset(
    {"messages.createChat", "messages.addChatUser", "messages.removeChatUser", "messages.editChat", "calls.start",
     "calls.forceFinish"}
)  # fmt: skip
"""Methods that change Sferum (``messages.getInviteLink`` does only with ``reset``): counted in ``write_counts``
each time one of them is carried out, on its own or inside an ``execute``."""
_TOKEN_TYPE_ERRORS = {TOKEN_SERVICE: (28, "method is unavailable with service token"), "group": (27, "")}


@attrs.define
class ApiOutcome:
    """What the HTTP layer sends: a JSON body, an HTTP error status, or nothing (connection dropped)."""

    body: dict[str, Any] | None = None
    http_status: int | None = None
    drop: bool = False
    delay: float = 0.0
    status_after_apply: int | None = None
    """An HTTP status to answer instead of the body once the request has run (an injected fault)."""


class _AbortRequest(Exception):
    """An inner execute call hit a fault that ends the whole HTTP request."""

    def __init__(self, outcome: ApiOutcome) -> None:
        super().__init__()
        self.outcome = outcome


def _apply_fault(rule: FaultRule | None, outcome: ApiOutcome) -> VkApiError | None:
    """Fold a fault into ``outcome``; return the VK error it injects, if that is its kind."""
    if rule is None:
        return None
    if rule.kind is FaultKind.DELAY:
        outcome.delay += rule.value
    elif rule.kind is FaultKind.DROP_AFTER_APPLY:
        outcome.drop = True
    elif rule.kind is FaultKind.HTTP_STATUS_AFTER_APPLY:
        outcome.status_after_apply = int(rule.value)
    elif rule.kind is FaultKind.ERROR_CODE:
        return VkApiError(int(rule.value), "injected by the sandbox")
    elif rule.kind is FaultKind.HTTP_STATUS:
        raise _AbortRequest(attrs.evolve(outcome, http_status=int(rule.value)))
    else:
        raise _AbortRequest(attrs.evolve(outcome, drop=True))
    return None


class ApiDispatcher:
    """Runs API requests against a sandbox core."""

    def __init__(self, core: SandboxCore) -> None:
        self._core = core

    def handle(self, name: str, params: Mapping[str, str], token: str | None, base_url: str) -> ApiOutcome:
        """Answer one ``/method/<name>`` request; ``params`` exclude the access token."""
        core = self._core
        outcome = ApiOutcome()
        with core.lock:
            core.request_counts[name] += 1
            if name != "execute":
                core.call_counts[name] += 1
            rule = core.faults.draw(name)
        if rule is not None and rule.kind is FaultKind.DELAY:
            core.sleep(rule.value)  # outside the lock: a slow request must not stall the others
            rule = None
        with core.lock:
            try:
                injected = _apply_fault(rule, outcome)
                if injected is not None:
                    raise injected
                caller = self._authorise(name, params, token)
                if not core.limiter.allow(caller.value):
                    raise VkApiError(6, "")
                outcome.body = self._run(name, params, caller, base_url, outcome)
            except VkApiError as error:
                logger.debug("%s answered error %s", name, error.code)
                outcome.body = error_body(error, core.contract.error_descriptions, name, params)
            except _AbortRequest as abort:
                logger.debug("%s aborted by an injected fault", name)
                outcome = abort.outcome
        if outcome.status_after_apply is not None and outcome.http_status is None:
            outcome.http_status, outcome.body = outcome.status_after_apply, None  # ran, but the reply is lost
        if outcome.delay:
            core.sleep(outcome.delay)  # delays drawn by calls inside execute
        return outcome

    def _authorise(self, name: str, params: Mapping[str, str], token: str | None) -> AccessToken:
        if name not in HANDLERS and name != "execute":
            raise VkApiError(3, f"method {name!r} is not emulated by the Sferum sandbox")
        if not params.get("v"):
            raise VkApiError(8, "v (version) is required")
        if not token:
            raise VkApiError(5, "no access_token passed.")
        caller = self._core.state.tokens.get(token)
        if caller is None:
            raise VkApiError(5, "invalid access_token.")
        if caller.is_expired(self._core.clock()):
            raise VkApiError(5, "access_token has expired.")
        return caller

    def _check_token_type(self, name: str, caller: AccessToken) -> None:
        accepted = self._core.contract.methods[name].token_types
        if caller.kind not in accepted:
            code, detail = _TOKEN_TYPE_ERRORS.get(caller.kind, (15, "method needs a service token"))
            raise VkApiError(code, detail)

    def _context(self, caller: AccessToken, base_url: str) -> CallContext:
        core = self._core
        return CallContext(core.state, caller, core.app_id, base_url, core.now(), core.clock(), core.rng)

    def _call(self, name: str, params: Mapping[str, str], caller: AccessToken, base_url: str) -> Any:
        if name not in HANDLERS:
            raise VkApiError(3, f"method {name!r} is not emulated by the Sferum sandbox")
        self._check_token_type(name, caller)
        parsed = parse_params(self._core.contract.methods[name], params)
        result = HANDLERS[name](self._context(caller, base_url), parsed)
        if name in WRITE_METHODS or (name == "messages.getInviteLink" and parsed.get("reset")):
            self._core.write_counts[name] += 1  # carried out: a refused call (an error above) changed nothing
        return result

    def _run(
        self, name: str, params: Mapping[str, str], caller: AccessToken, base_url: str, outcome: ApiOutcome
    ) -> dict[str, Any]:
        if name != "execute":
            return {"response": self._call(name, params, caller, base_url)}
        self._check_token_type(name, caller)
        code = parse_params(self._core.contract.methods[name], params)["code"]
        script = parse_script(code)
        if len(script.calls) > EXECUTE_MAX_CALLS:
            raise VkApiError(13, f"too many API calls: {len(script.calls)}, at most {EXECUTE_MAX_CALLS}")
        results: list[Any] = []
        errors: list[dict[str, Any]] = []
        descriptions = self._core.contract.error_descriptions
        for call in script.calls:
            self._core.call_counts[call.method] += 1
            try:
                injected = _apply_fault(self._core.faults.draw(call.method), outcome)
                if injected is not None:
                    raise injected
                results.append(self._call(call.method, call.params, caller, base_url))
            except VkApiError as error:
                results.append(False)
                errors.append(
                    {"method": call.method, "error_code": error.code, "error_msg": error.message(descriptions)}
                )
        body: dict[str, Any] = {"response": results if script.returns_list else results[0]}
        if errors:
            body["execute_errors"] = errors
        return body
