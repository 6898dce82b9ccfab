"""Parsing of form-encoded parameters against a method's declared types (error 100 on a mismatch).

VK's wire format: integers in decimal, booleans as ``0``/``1``, arrays as comma-separated items. An empty
value counts as absent, as it does on VK. Parameters the schema does not declare are ignored, like VK does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ._errors import VkApiError
from ._schema import MethodSpec, ParamSpec

_INTEGER = re.compile(r"-?\d{1,19}")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_PARAM_ERROR = 100


def _scalar(label: str, raw: str, kinds: tuple[str, ...], spec: ParamSpec) -> Any:
    if "integer" in kinds and _INTEGER.fullmatch(raw):
        number = int(raw)
        if spec.minimum is not None and number < spec.minimum:
            raise VkApiError(_PARAM_ERROR, f"{label} should be not less than {spec.minimum}")
        if spec.maximum is not None and number > spec.maximum:
            raise VkApiError(_PARAM_ERROR, f"{label} should be not greater than {spec.maximum}")
        return number
    if "number" in kinds and _NUMBER.fullmatch(raw):
        return float(raw)
    if "boolean" in kinds and raw in ("0", "1"):
        return raw == "1"
    if "string" in kinds:
        if spec.min_length is not None and len(raw) < spec.min_length:
            raise VkApiError(_PARAM_ERROR, f"{label} should be at least {spec.min_length} characters")
        if spec.max_length is not None and len(raw) > spec.max_length:
            raise VkApiError(_PARAM_ERROR, f"{label} should be at most {spec.max_length} characters")
        return raw
    raise VkApiError(_PARAM_ERROR, f"{label} should be {' or '.join(kinds)}")


def parse_params(method: MethodSpec, raw: Mapping[str, str]) -> dict[str, Any]:
    """Return the declared parameters of ``raw`` converted to Python values.

    :raises VkApiError: code 100 naming the parameter that is missing or malformed.
    """
    parsed: dict[str, Any] = {}
    for name, spec in method.params.items():
        value = raw.get(name, "")
        if value == "":
            if spec.required:
                raise VkApiError(_PARAM_ERROR, f"{name} is a required parameter")
            continue
        if "array" in spec.kinds:
            items = value.split(",")
            if spec.max_items is not None and len(items) > spec.max_items:
                raise VkApiError(_PARAM_ERROR, f"{name} should contain at most {spec.max_items} items")
            item_kinds = spec.item_kinds or ("string",)
            parsed[name] = [_scalar(f"{name} item", item.strip(), item_kinds, spec) for item in items]
        else:
            parsed[name] = _scalar(name, value, spec.kinds, spec)
    return parsed
