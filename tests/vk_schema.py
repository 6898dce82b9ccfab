"""The VK API contract (official JSON schema, version 5.199) as a test oracle.

Tests use this module to check that what the gateway sends and what the sandbox answers follow VK's schema: the copy
vendored as data in the sandbox distribution (``sferum_sandbox.SCHEMA_DIR``, i.e.
``sandbox/src/sferum_sandbox/vk/schema/`` with its LICENSE and PROVENANCE.md); ``VK_API_SCHEMA_DIR`` points at another
copy. It never falls back to anything built in: if the schema is missing, importing this module raises
``RuntimeError``.

Public API (kept stable for every test package):

- ``SCHEMA_DIR`` — the schema directory.
- ``method(name)`` — the method's entry from ``<section>/methods.json``.
- ``check_request(name, params)`` — the problems of a form-encoded request (an empty list when it is valid).
- ``validate_response(name, body)`` — validates a reply body ``{"response": ...}`` against the schema.
- ``error_codes()`` — ``{code: description}`` from ``errors.json``.

Two facts about the schema files shape this module:

- They are "draft-07" by declaration but mark required properties draft-03 style (``"required": true`` inside
  the property). jsonschema would crash on that, so the documents are rewritten on load into draft-07
  ``required`` arrays on the parent object.
- ``execute`` is described without its ``code`` parameter, although VK documents it (dev.vk.com/method/execute).
  ``_SCHEMA_GAPS`` adds it; nothing else is added.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import jsonschema
import sferum_sandbox
from referencing import Registry
from referencing.jsonschema import DRAFT7

__all__ = ["SCHEMA_DIR", "check_request", "error_codes", "method", "validate_response"]


def _locate_schema_dir() -> Path:
    configured = os.environ.get("VK_API_SCHEMA_DIR")
    candidate = (Path(configured) if configured else sferum_sandbox.SCHEMA_DIR).resolve()
    if not (candidate / "errors.json").is_file():
        raise RuntimeError(
            f"VK API schema not found at {candidate}: the tests need the official schema (version 5.199), "
            "vendored in the sferum-sandbox distribution (sandbox/src/sferum_sandbox/vk/schema), or its path in "
            "VK_API_SCHEMA_DIR"
        )
    return candidate


SCHEMA_DIR: Path = _locate_schema_dir()

# Parameters every method accepts; they are not listed per method in the schema.
_COMMON_PARAMS = frozenset({"access_token", "v"})

# Documented by VK but missing from the schema's methods.json (see the module docstring).
_SCHEMA_GAPS: dict[str, list[dict[str, Any]]] = {
    "execute": [{"name": "code", "type": "string", "required": True}],
}

_INTEGER = re.compile(r"-?\d+")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def _draft7_required(node: Any) -> Any:
    """Return a copy of ``node`` with draft-03 ``"required": true`` rewritten as draft-07 arrays."""
    if isinstance(node, list):
        return [_draft7_required(item) for item in node]
    if not isinstance(node, dict):
        return node
    result = {key: _draft7_required(value) for key, value in node.items()}
    if isinstance(result.get("required"), bool):
        del result["required"]
    properties = node.get("properties")
    if isinstance(properties, dict):
        required = [
            name for name, schema in properties.items() if isinstance(schema, dict) and schema.get("required") is True
        ]
        if required:
            result["required"] = required
    return result


@functools.cache
def _document(relative: str) -> dict[str, Any]:
    with (SCHEMA_DIR / relative).open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = json.load(handle)
    return loaded


@functools.cache
def _methods_index() -> dict[str, tuple[str, dict[str, Any]]]:
    """Map method name to (section file, entry) over every ``<section>/methods.json``."""
    index: dict[str, tuple[str, dict[str, Any]]] = {}
    for path in sorted(SCHEMA_DIR.glob("*/methods.json")):
        relative = path.relative_to(SCHEMA_DIR).as_posix()
        for entry in _document(relative)["methods"]:
            index[entry["name"]] = (relative, entry)
    return index


def method(name: str) -> dict[str, Any]:
    """Return the schema entry of VK API method ``name`` (a deep copy, safe to modify).

    :raises KeyError: the schema has no such method.
    """
    try:
        return copy.deepcopy(_methods_index()[name][1])
    except KeyError:
        raise KeyError(f"VK API method {name!r} is not in the schema at {SCHEMA_DIR}") from None


def _parameters(name: str) -> dict[str, dict[str, Any]]:
    entry = method(name)
    declared = entry.get("parameters", []) + _SCHEMA_GAPS.get(name, [])
    return {param["name"]: param for param in declared}


def _resolve_local(relative_file: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Follow one ``$ref`` of a parameter item (e.g. to ``users_fields``) and merge it under ``spec``."""
    ref = spec.get("$ref")
    if not isinstance(ref, str):
        return spec
    target_file, _, pointer = urljoin(relative_file, ref).partition("#")
    node: Any = _document(target_file)
    for part in pointer.strip("/").split("/"):
        node = node[part]
    merged = dict(node)
    merged.update({key: value for key, value in spec.items() if key != "$ref"})
    return merged


def _value_problems(label: str, raw: str, spec: dict[str, Any]) -> list[str]:
    kind = spec.get("type", "string")
    kinds = kind if isinstance(kind, list) else [kind]
    if "integer" in kinds and _INTEGER.fullmatch(raw):
        number = int(raw)
        if "minimum" in spec and number < spec["minimum"]:
            return [f"{label}={raw!r} is below the minimum {spec['minimum']}"]
        if "maximum" in spec and number > spec["maximum"]:
            return [f"{label}={raw!r} is above the maximum {spec['maximum']}"]
        return []
    if "number" in kinds and _NUMBER.fullmatch(raw):
        return []
    if "boolean" in kinds and raw in ("0", "1"):
        return []
    if "string" in kinds:
        problems = []
        if "minLength" in spec and len(raw) < spec["minLength"]:
            problems.append(f"{label}={raw!r} is shorter than {spec['minLength']} characters")
        if "maxLength" in spec and len(raw) > spec["maxLength"]:
            problems.append(f"{label}={raw!r} is longer than {spec['maxLength']} characters")
        allowed = spec.get("enum")
        # The schema spells some enums in another case than VK accepts ("Nom" for "nom").
        if allowed and raw.lower() not in {str(item).lower() for item in allowed}:
            problems.append(f"{label}={raw!r} is not one of the allowed values")
        return problems
    return [f"{label}={raw!r} is not a valid {' or '.join(kinds)}"]


def check_request(name: str, params: Mapping[str, str]) -> list[str]:
    """Return the problems of a form-encoded request to ``name`` (empty when it follows the schema).

    Checks: known method, known parameters (``access_token`` and ``v`` are always allowed), required
    parameters present and not empty, values parseable as the declared type (integer, number, boolean as
    ``0``/``1``, array as comma-separated items of the item type, string lengths and enums, integer bounds).
    """
    if name not in _methods_index():
        return [f"unknown method {name!r}"]
    section_file = _methods_index()[name][0]
    declared = _parameters(name)
    problems: list[str] = []
    for key in params:
        if key not in declared and key not in _COMMON_PARAMS:
            problems.append(f"unknown parameter {key!r} for {name}")
    for key, spec in declared.items():
        raw = params.get(key)
        if raw is None or raw == "":
            if spec.get("required"):
                problems.append(f"missing required parameter {key!r} for {name}")
            continue
        spec = _resolve_local(section_file, spec)
        if spec.get("type") == "array":
            items = raw.split(",")
            if "maxItems" in spec and len(items) > spec["maxItems"]:
                problems.append(f"{key} has {len(items)} items, more than {spec['maxItems']}")
            if "minItems" in spec and len(items) < spec["minItems"]:
                problems.append(f"{key} has {len(items)} items, fewer than {spec['minItems']}")
            item_spec = _resolve_local(section_file, spec.get("items", {}))
            for item in items:
                problems.extend(_value_problems(f"{key} item", item, item_spec))
        else:
            problems.extend(_value_problems(key, raw, spec))
    return problems


def _file_uri(relative: str) -> str:
    return (SCHEMA_DIR / relative).as_uri()


@functools.cache
def _registry() -> Registry[Any]:
    resources = []
    for path in [*sorted(SCHEMA_DIR.glob("*/*.json")), SCHEMA_DIR / "errors.json"]:
        contents = _draft7_required(_document(path.relative_to(SCHEMA_DIR).as_posix()))
        contents.pop("$schema", None)
        resources.append((path.as_uri(), DRAFT7.create_resource(contents)))
    registry: Registry[Any] = Registry().with_resources(resources)
    return registry


def _response_refs(name: str) -> dict[str, str]:
    """Map each response variant of ``name`` ("response", "extendedResponse", ...) to an absolute ``$ref``."""
    section_file, entry = _methods_index()[name]
    refs = {}
    for variant, schema in entry.get("responses", {}).items():
        refs[variant] = urljoin(_file_uri(section_file), schema["$ref"])
    return refs


def validate_response(name: str, body: dict[str, Any], *, variant: str | None = None) -> None:
    """Validate a reply body ``{"response": ...}`` of method ``name`` against the schema.

    :param variant: the schema's response variant to use ("response", "extendedResponse", ...); by default
        the body must match at least one of the method's variants.
    :raises jsonschema.ValidationError: the body does not match (the error of the first variant is raised).
    :raises KeyError: unknown method or variant.
    """
    refs = _response_refs(method(name)["name"])
    chosen = [refs[variant]] if variant is not None else list(refs.values())
    first_error: jsonschema.ValidationError | None = None
    for ref in chosen:
        validator = jsonschema.Draft7Validator({"$ref": ref}, registry=_registry())
        error = jsonschema.exceptions.best_match(validator.iter_errors(body))
        if error is None:
            return
        first_error = first_error or error
    assert first_error is not None
    raise first_error


def error_codes() -> dict[int, str]:
    """Return ``{error code: description}`` for every error in ``errors.json``."""
    errors = _document("errors.json")["errors"]
    return {entry["code"]: entry["description"] for entry in errors.values()}
