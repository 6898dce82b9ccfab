"""Pack operations into VK's ``execute`` method and map its reply back to each operation.

``execute`` runs a VKScript program; the gateway only ever sends ``return [API.m({...}), ...];`` with every
argument object JSON-encoded, so a value (a chat title with quotes or ``"});``) can never break out of its
string literal.  VK runs up to 25 API calls per ``execute`` (dev.vk.com/method/execute; the schema's
execute/methods.json describes neither ``code`` nor the limit).  A call that fails inside ``execute`` comes
back as ``false`` in the result array, and ``execute_errors`` lists the failures only, in call order.

Operations that must not be applied twice (``messages.createChat``) go through ``execute`` too, by their own path
(:meth:`~sferum_plugin.gateway.client.SferumClient.execute_once`): a request that may have reached Sferum is never
sent again, and :func:`unknown_where_applied` marks each call that failed after it may have been applied.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Generic, TypeVar

import attrs

from sferum_plugin.gateway._exchange import ApiReply, api_error
from sferum_plugin.gateway._parse import ReplyReader
from sferum_plugin.gateway.errors import MalformedResponseError, OutcomeUnknownError, SferumError, may_have_been_applied
from sferum_plugin.gateway.operations import Operation, ParamValue
from sferum_plugin.gateway.retry import RetryPolicy

__all__ = ["EXECUTE_MAX_CALLS", "BatchOutcome", "execute_code", "map_execute_reply", "split_batches",
           "unknown_where_applied"]  # fmt: skip

T = TypeVar("T")

EXECUTE_MAX_CALLS = 25
"""API calls VK runs in one ``execute`` request (dev.vk.com/method/execute)."""

# Names are spliced into the program as code, so they must be plain identifiers.
_METHOD_NAME = re.compile(r"[a-z]+\.[A-Za-z]+")
_PARAMETER_NAME = re.compile(r"[a-z_][a-z0-9_]*")


@attrs.frozen
class BatchOutcome(Generic[T]):
    """What became of one operation of a batch: its value, or the error it failed with."""

    operation: Operation[T]
    value: T | None = None
    error: SferumError | None = None

    @property
    def ok(self) -> bool:
        """True when the operation succeeded."""
        return self.error is None

    def unwrap(self) -> T:
        """Return the value, or raise the operation's error."""
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]  # None is a valid T for operations returning None


def split_batches(operations: Sequence[Operation[T]]) -> Iterator[Sequence[Operation[T]]]:
    """Split ``operations`` into runs of at most 25, in order."""
    for start in range(0, len(operations), EXECUTE_MAX_CALLS):
        yield operations[start : start + EXECUTE_MAX_CALLS]


def _script_value(value: ParamValue) -> int | str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return 1 if value else 0
    if isinstance(value, int | str):
        return value
    # Arrays travel as comma-separated strings, the same as in a form body.
    return ",".join(str(item) for item in value) or None


def execute_code(operations: Sequence[Operation[object]]) -> str:
    """Return the VKScript program ``return [API.m({...}), ...];`` calling ``operations`` in order."""
    if not 1 <= len(operations) <= EXECUTE_MAX_CALLS:
        raise ValueError(f"execute runs 1 to {EXECUTE_MAX_CALLS} calls, got {len(operations)}")
    calls = []
    for operation in operations:
        if not _METHOD_NAME.fullmatch(operation.method) or operation.method == "execute":
            raise ValueError(f"cannot call {operation.method!r} from execute")
        arguments: dict[str, int | str] = {}
        for name, raw in operation.params.items():
            if not _PARAMETER_NAME.fullmatch(name):
                raise ValueError(f"invalid parameter name {name!r}")
            value = _script_value(raw)
            if value is not None:
                arguments[name] = value
        literal = json.dumps(arguments, ensure_ascii=False, separators=(",", ":"))
        # JSON allows U+2028/U+2029 raw inside strings, older JavaScript-like parsers do not.
        literal = literal.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
        calls.append(f"API.{operation.method}({literal})")
    return "return [" + ",".join(calls) + "];"


def map_execute_reply(
    operations: Sequence[Operation[T]], reply: ApiReply, *, retry: RetryPolicy
) -> list[BatchOutcome[T]]:
    """Map an ``execute`` reply to one outcome per operation, in order.

    :raises MalformedResponseError: the reply is not an array with one result per operation.
    """
    reader = ReplyReader("execute")
    results = reader.require_array(reply.response, "response")
    if len(results) != len(operations):
        raise reader.malformed(f"{len(results)} results for {len(operations)} calls")
    failures = iter(reply.execute_errors)
    outcomes: list[BatchOutcome[T]] = []
    for operation, result in zip(operations, results, strict=True):
        if result is False:
            outcomes.append(BatchOutcome(operation, error=_failure(operation, next(failures, None), retry)))
            continue
        try:
            outcomes.append(BatchOutcome(operation, value=operation.parse(result)))
        except MalformedResponseError as error:
            outcomes.append(BatchOutcome(operation, error=error))
    return outcomes


def _failure(operation: Operation[T], payload: Mapping[str, object] | None, retry: RetryPolicy) -> SferumError:
    if payload is None:
        return MalformedResponseError(
            "execute answered false without an execute_errors entry",
            method=operation.method,
            request_params=operation.params,
        )
    reported = payload.get("method")
    if isinstance(reported, str) and reported != operation.method:
        return MalformedResponseError(
            f"execute_errors entry is for {reported}, expected {operation.method}",
            method=operation.method,
            request_params=operation.params,
        )
    return api_error(payload, method=operation.method, public_params=operation.params, retry=retry)


def unknown_where_applied(outcomes: Sequence[BatchOutcome[T]]) -> list[BatchOutcome[T]]:
    """Outcomes of calls that must not be repeated blindly: a call that failed after it may have been applied
    (error 1 or 10 inside ``execute``, a result that cannot be read; :func:`may_have_been_applied`) carries
    :class:`OutcomeUnknownError` instead, as the same call sent alone would; a refusal stays as it is."""
    settled: list[BatchOutcome[T]] = []
    for outcome in outcomes:
        error = outcome.error
        if error is not None and may_have_been_applied(error) and not isinstance(error, OutcomeUnknownError):
            unknown = OutcomeUnknownError(
                f"the call may or may not have been applied ({error.message}); reconcile before calling it again",
                method=outcome.operation.method,
                request_params=error.request_params,
            )
            unknown.__cause__ = error
            outcome = BatchOutcome(outcome.operation, error=unknown)
        settled.append(outcome)
    return settled
