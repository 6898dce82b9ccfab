"""The API contract the sandbox enforces, read from VK's official JSON schema at startup.

The schema is vendored into this package (``schema/``, :data:`SCHEMA_DIR`); ``$VK_API_SCHEMA_DIR`` or the
``schema_dir`` argument point at another copy (say, a newer one from VKCOM/vk-api-schema). Only the entries of the
methods the sandbox implements are read: their parameters (type, required, bounds) and ``access_token_type``, plus
every error description from ``errors.json``.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

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


SCHEMA_DIR: Path = Path(__file__).resolve().parent / "schema"
"""VK's official API schema (version 5.199), vendored into this package as data (see ``schema/PROVENANCE.md``)."""


def locate_schema_dir() -> Path:
    """Return ``$VK_API_SCHEMA_DIR`` when it is set, else the vendored :data:`SCHEMA_DIR`."""
    configured = os.environ.get("VK_API_SCHEMA_DIR")
    return Path(configured).resolve() if configured else SCHEMA_DIR


def load_contract(schema_dir: Path | None = None) -> ApiContract:
    """Read the contract from ``schema_dir`` (default: :func:`locate_schema_dir`).

    :raises RuntimeError: the directory holds no VK API schema, or one that lacks a method the sandbox serves.
    """
    directory = (schema_dir or locate_schema_dir()).resolve()
    if not (directory / "errors.json").is_file():
        raise RuntimeError(f"VK API schema not found at {directory} (no errors.json)")
    return _contract_from(directory)


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
