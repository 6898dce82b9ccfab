"""The API contract the sandbox enforces, read from VK's official JSON schema at startup.

The schema directory is ``$VK_API_SCHEMA_DIR`` or ``shared/vk-api-schema`` next to the repository. Only the
entries of the methods the sandbox implements are read: their parameters (type, required, bounds) and
``access_token_type``, plus every error description from ``errors.json``. When no schema is found (an
installed package far from the repository), a deliberately small built-in table of the same methods is used
instead; it lists only the parameters the sandbox reads and the errors it raises.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

logger = logging.getLogger(__name__)

SUPPORTED_METHODS: tuple[str, ...] = (
    "messages.createChat",
    "messages.addChatUser",
    "messages.removeChatUser",
    "messages.getConversationMembers",
    "messages.getConversationsById",
    "messages.searchConversations",
    "messages.editChat",
    "messages.getInviteLink",
    "calls.start",
    "calls.forceFinish",
    "users.get",
    "secure.checkToken",
    "apps.get",
    "execute",
)


@attrs.frozen
class ParamSpec:
    """One declared parameter: its accepted types and constraints."""

    name: str
    kinds: tuple[str, ...]
    item_kinds: tuple[str, ...] = ()
    required: bool = False
    minimum: int | None = None
    maximum: int | None = None
    min_length: int | None = None
    max_length: int | None = None
    max_items: int | None = None


@attrs.frozen
class MethodSpec:
    """One method: the token types it accepts and its parameters by name."""

    name: str
    token_types: frozenset[str]
    params: Mapping[str, ParamSpec]


@attrs.frozen
class ApiContract:
    """The methods and error descriptions in force, and where they were read from."""

    methods: Mapping[str, MethodSpec]
    error_descriptions: Mapping[int, str]
    source: str


def _kinds(declared: Any) -> tuple[str, ...]:
    if isinstance(declared, list):
        return tuple(str(kind) for kind in declared)
    # Items given only as a $ref point at string enums (users_fields, base_name_case ...).
    return (str(declared),) if declared else ("string",)


def _param_from_schema(entry: Mapping[str, Any]) -> ParamSpec:
    items = entry.get("items", {})
    return ParamSpec(
        name=entry["name"],
        kinds=_kinds(entry.get("type")),
        item_kinds=_kinds(items.get("type")) if entry.get("type") == "array" else (),
        required=bool(entry.get("required", False)),
        minimum=entry.get("minimum"),
        maximum=entry.get("maximum"),
        min_length=entry.get("minLength"),
        max_length=entry.get("maxLength"),
        max_items=entry.get("maxItems"),
    )


# VK documents execute's `code` parameter (dev.vk.com/method/execute) but the schema omits it.
_EXECUTE_CODE = ParamSpec("code", ("string",), required=True)


def locate_schema_dir() -> Path | None:
    """Return the schema directory from the environment or next to the repository, if it exists."""
    configured = os.environ.get("VK_API_SCHEMA_DIR")
    if configured:
        candidate = Path(configured)
    else:
        candidate = Path(__file__).resolve().parents[2] / ".." / "shared" / "vk-api-schema"
    return candidate.resolve() if (candidate / "errors.json").is_file() else None


def load_contract(schema_dir: Path | None = None) -> ApiContract:
    """Read the contract from ``schema_dir`` (or the located one); fall back to the built-in table."""
    directory = schema_dir or locate_schema_dir()
    if directory is None:
        logger.warning("VK API schema not found; the sandbox uses its small built-in method table")
        return _builtin_contract()
    return _contract_from(directory.resolve())


@functools.lru_cache(maxsize=4)
def _contract_from(directory: Path) -> ApiContract:
    # Cached: the contract is immutable, and tests create many sandboxes.
    methods: dict[str, MethodSpec] = {}
    for section in sorted({name.split(".")[0] for name in SUPPORTED_METHODS}):
        document = json.loads((directory / section / "methods.json").read_text(encoding="utf-8"))
        for entry in document["methods"]:
            if entry["name"] not in SUPPORTED_METHODS:
                continue
            params = {param["name"]: _param_from_schema(param) for param in entry.get("parameters", [])}
            if entry["name"] == "execute":
                params.setdefault("code", _EXECUTE_CODE)
            methods[entry["name"]] = MethodSpec(entry["name"], frozenset(entry.get("access_token_type", [])), params)
    missing = set(SUPPORTED_METHODS) - set(methods)
    if missing:
        raise RuntimeError(f"VK API schema at {directory} lacks methods {sorted(missing)}")
    errors = json.loads((directory / "errors.json").read_text(encoding="utf-8"))["errors"]
    descriptions = {entry["code"]: entry["description"] for entry in errors.values()}
    return ApiContract(methods, descriptions, str(directory))


def _p(name: str, kind: str, item: str = "", **constraints: Any) -> ParamSpec:
    return ParamSpec(name, (kind,), (item,) if item else (), **constraints)


_USER, _GROUP, _SERVICE = "user", "group", "service"

# The fallback: the same methods with only the parameters the sandbox reads (see the module docstring).
_BUILTIN_METHODS: tuple[tuple[str, tuple[str, ...], tuple[ParamSpec, ...]], ...] = (
    ("messages.createChat", (_USER, _GROUP), (_p("user_ids", "array", "integer"), _p("title", "string"))),
    (
        "messages.addChatUser",
        (_USER,),
        (_p("chat_id", "integer", required=True, minimum=0), _p("user_id", "integer", minimum=0)),
    ),
    (
        "messages.removeChatUser",
        (_USER, _GROUP),
        (_p("chat_id", "integer", required=True), _p("user_id", "integer"), _p("member_id", "integer")),
    ),
    (
        "messages.getConversationMembers",
        (_USER, _GROUP),
        (
            _p("peer_id", "integer", required=True),
            _p("offset", "integer", minimum=0),
            _p("count", "integer", minimum=1, maximum=1000),
            _p("extended", "boolean"),
            _p("fields", "array", "string"),
            _p("member_ids", "array", "integer"),
        ),
    ),
    (
        "messages.getConversationsById",
        (_USER, _GROUP),
        (
            _p("peer_ids", "array", "integer", required=True, max_items=100),
            _p("extended", "boolean"),
            _p("fields", "array", "string"),
        ),
    ),
    (
        "messages.searchConversations",
        (_USER, _GROUP),
        (
            _p("q", "string"),
            _p("count", "integer", minimum=1, maximum=255),
            _p("extended", "boolean"),
            _p("fields", "array", "string"),
        ),
    ),
    ("messages.editChat", (_USER, _GROUP), (_p("chat_id", "integer", required=True), _p("title", "string"))),
    (
        "messages.getInviteLink",
        (_USER, _GROUP),
        (_p("peer_id", "integer", required=True), _p("reset", "boolean")),
    ),
    ("calls.start", (_USER,), (_p("group_id", "integer"),)),
    ("calls.forceFinish", (_USER,), (_p("call_id", "string", required=True, min_length=36, max_length=36),)),
    (
        "users.get",
        (_USER, _GROUP, _SERVICE),
        (ParamSpec("user_ids", ("array",), ("integer", "string")), _p("fields", "array", "string")),
    ),
    ("secure.checkToken", (_SERVICE,), (_p("token", "string"), _p("ip", "string"))),
    ("apps.get", (_USER, _SERVICE), (_p("app_id", "integer", minimum=0), _p("app_ids", "array", "integer"))),
    ("execute", (_USER, _GROUP), (_EXECUTE_CODE,)),
)

_BUILTIN_ERRORS: dict[int, str] = {
    1: "Unknown error occurred",
    3: "Unknown method passed",
    5: "User authorization failed",
    6: "Too many requests per second",
    8: "Invalid request",
    9: "Flood control",
    10: "Internal server error",
    12: "Unable to compile code",
    13: "Runtime error occurred during code invocation",
    15: "Access denied",
    27: "Group authorization failed",
    28: "Application authorization failed",
    29: "Rate limit reached",
    100: "One of the parameters specified was missing or invalid",
    113: "Invalid user id",
    917: "You don't have access to this chat",
    919: "You can't see invite link for this chat",
    925: "You are not admin of this chat",
    927: "Chat does not exist",
    935: "User not found in chat",
    936: "Contact not found",
}


def _builtin_contract() -> ApiContract:
    methods = {
        name: MethodSpec(name, frozenset(token_types), {param.name: param for param in params})
        for name, token_types, params in _BUILTIN_METHODS
    }
    return ApiContract(methods, dict(_BUILTIN_ERRORS), "built-in")
