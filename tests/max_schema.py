"""MAX's Bot API contract (the official OpenAPI 3.0 document, API version 0.0.32) as a test oracle.

Tests use this module to check that what the MAX client sends, and what it is fed, follow MAX's schema: the copy
vendored as data in the sandbox distribution (``sferum_sandbox/max/schema/openapi.json``, with its LICENSE and
PROVENANCE.md), loaded through ``importlib.resources``.  Nothing is built in: if the document is missing, importing
this module fails.  Validation is openapi-core's (path, method, query, path parameters, body; response bodies).

Public API:

- ``DOCUMENT`` — the vendored document, exactly as in the file.
- ``request_problems(request)`` / ``validate_request(request)`` — an ``httpx.Request`` against its operation.
- ``response_problems(method, path, status, body)`` / ``validate_response(...)`` — a reply body against the
  operation's response for ``status``.

The token: the document's ``securityScheme`` is an ``access_token`` *query* parameter, while MAX's own examples,
its official TypeScript client and this project send the token in the ``Authorization`` header only.  So a request
must carry ``Authorization``, must not carry ``access_token`` in its URL, and the header's value is handed to the
security check as the scheme's parameter.  A query parameter the operation does not declare is a problem too
(openapi-core ignores those).

The document does not validate as OpenAPI 3.0, and a few of its defects would make openapi-core test the wrong
thing.  They are mended in memory (the file stays byte for byte as published), each for a reason stated below:

1. ``GET /chats`` has neither parameters nor ``responses`` (MAX stopped supporting the method in June 2026): they
   are restored as the same repository's previous snapshot, ``schema_2026_06_02.json`` (commit c1524183), described
   them: ``count`` (1 to 100) and ``marker`` in the query, ``ChatList`` as the 200 reply.
2. Errors: ``info.description`` says every error is the HTTP status 400/401/404/405/429/503 with
   ``{"code", "message"}``, but most operations list only some statuses; those are added as ``Error`` replies.
3. ``GET /chats/{chatId}/members``' ``count`` has ``"default": "20"``, a string for an integer: it is made 20 (else
   every request without ``count`` fails on the default).
4. ``UserIdsList.user_ids`` is written like a parameter (``name``, ``required: true``, ``schema``), so it would
   accept anything: its own ``schema`` is used, with the 100 ids its description allows as ``maxItems``.
5. ``ChatType`` lists only ``chat`` although ``Chat.type`` describes ``chat``, ``channel`` and ``dialog``
   (a message to a person comes back with ``recipient.chat_type: dialog``): the three are allowed.
6. ``/chats/{chatLink}`` and ``/chats/{chatId}`` are one template (OpenAPI forbids that) and openapi-core matches
   ``/me`` by suffix inside ``/chats/{chatId}/members/me``: operations are found here by whole-path match, and a
   request is valid if it is valid for one of the matching operations.
7. Discriminators are not enforced by openapi-core, and the document's are broken (``Update``'s mapping values
   are objects and it has no ``message_chat_created``; ``Button``'s has no ``chat``): each update of a
   ``GET /updates`` reply and each button of a ``POST /messages`` body is also validated against its own schema
   (``BotStartedUpdate``, ``MessageChatCreatedUpdate``, ``ChatButton``...).
"""

from __future__ import annotations

import copy
import importlib.resources
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlparse

import httpx
from openapi_core import Config, OpenAPI
from openapi_core.templating.datatypes import TemplateResult
from openapi_core.templating.paths.datatypes import PathOperationServer
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from openapi_core.templating.paths.finders import BasePathFinder
from openapi_core.testing import MockRequest, MockResponse
from openapi_schema_validator import OAS30Validator, oas30_format_checker

__all__ = ["DOCUMENT", "request_problems", "response_problems", "validate_request", "validate_response"]

_RESOURCE = importlib.resources.files("sferum_sandbox") / "max" / "schema" / "openapi.json"
DOCUMENT: Mapping[str, Any] = json.loads(_RESOURCE.read_text(encoding="utf-8"))

# What info.description lists as error statuses ("HTTP response codes"), plus 403 and 500 from the paths.
_ERROR_STATUSES = ("400", "401", "403", "404", "405", "429", "500", "503")
_HOST = "https://platform-api2.max.ru"

# GET /chats as max-bot-api-schemas/schema_2026_06_02.json (commit c1524183) describes it (defect 1).
_GET_CHATS_2026_06_02: Mapping[str, Any] = {
    "parameters": [
        {
            "name": "count",
            "in": "query",
            "schema": {"type": "integer", "format": "int32", "minimum": 1, "maximum": 100},
        },
        {"name": "marker", "in": "query", "schema": {"$ref": "#/components/schemas/bigint"}},
    ],
    "responses": {
        "200": {
            "description": "ChatList",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ChatList"}}},
        }
    },
}


def _mended(document: Mapping[str, Any]) -> dict[str, Any]:
    """The document with the defects listed in the module docstring mended (1 to 5)."""
    doc = copy.deepcopy(dict(document))
    schemas = doc["components"]["schemas"]
    get_chats = doc["paths"]["/chats"]["get"]
    get_chats.setdefault("parameters", _GET_CHATS_2026_06_02["parameters"])
    get_chats.setdefault("responses", _GET_CHATS_2026_06_02["responses"])
    error = {
        "description": "Error",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    for item in doc["paths"].values():
        for operation in item.values():
            for status in _ERROR_STATUSES:
                operation["responses"].setdefault(status, error)
    for parameter in doc["paths"]["/chats/{chatId}/members"]["get"]["parameters"]:
        if parameter["name"] == "count":
            parameter["schema"]["default"] = int(parameter["schema"]["default"])
    user_ids = schemas["UserIdsList"]["properties"]["user_ids"]
    items = {key: value for key, value in user_ids["schema"]["items"].items() if key != "maxItems"}
    schemas["UserIdsList"]["properties"]["user_ids"] = {**user_ids["schema"], "items": items, "maxItems": 100}
    schemas["ChatType"]["enum"] = ["chat", "channel", "dialog"]
    return doc


_MENDED = _mended(DOCUMENT)


class _ExactPathFinder(BasePathFinder):
    """Return the operation of exactly the template the request names (its ``path_pattern``)."""

    def find(self, method: str, name: str) -> PathOperationServer:
        template = urlparse(name).path.replace("%7B", "{").replace("%7D", "}")
        path = self.spec / "paths" / template
        if not path.exists():
            raise PathNotFound(name)
        if method not in path:
            raise OperationNotFound(name, method)
        return PathOperationServer(path, path / method, None, TemplateResult(template, {}), {})


_API = OpenAPI.from_dict(_MENDED, config=Config(spec_validator_cls=None, path_finder_cls=_ExactPathFinder))


def _operations(method: str, path: str) -> Iterator[tuple[str, dict[str, str]]]:
    """Every template of the document matching the whole ``path`` that has ``method``, with its path values."""
    for template, item in DOCUMENT["paths"].items():
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
        match = re.fullmatch(pattern, path)
        if match and method.lower() in item:
            yield template, match.groupdict()


def _schema_problems(instance: object, schema_name: str, where: str) -> list[str]:
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": _MENDED["components"]}
    validator = OAS30Validator(schema, format_checker=oas30_format_checker)
    return [f"{where} ({schema_name}): {error.message}" for error in validator.iter_errors(instance)]


def _button_problems(body: object) -> list[str]:
    mapping = dict(DOCUMENT["components"]["schemas"]["Button"]["discriminator"]["mapping"])
    mapping["chat"] = "#/components/schemas/ChatButton"  # defect 7: the mapping lacks it
    problems = []
    attachments = body.get("attachments") if isinstance(body, dict) else None
    for attachment in attachments or []:
        if not isinstance(attachment, dict) or attachment.get("type") != "inline_keyboard":
            continue
        for row in attachment.get("payload", {}).get("buttons", []):
            for button in row:
                target = mapping.get(button.get("type"))
                if target is None:
                    problems.append(f"button of unknown type {button.get('type')!r}")
                else:
                    problems.extend(_schema_problems(button, target.rsplit("/", 1)[1], "button"))
    return problems


_UPDATE_MAPPING: Mapping[str, Mapping[str, str]] = DOCUMENT["components"]["schemas"]["Update"]["discriminator"][
    "mapping"
]


def _update_problems(body: object) -> list[str]:
    mapping = {kind: target["$ref"] for kind, target in _UPDATE_MAPPING.items()}
    mapping["message_chat_created"] = "#/components/schemas/MessageChatCreatedUpdate"  # defect 7: not mapped
    problems = []
    for update in body.get("updates", []) if isinstance(body, dict) else []:
        target = mapping.get(update.get("update_type"))
        if target is None:
            problems.append(f"update of unknown type {update.get('update_type')!r}")
        else:
            problems.extend(_schema_problems(update, target.rsplit("/", 1)[1], "update"))
    return problems


def _describe(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}"
    cause = error.__cause__
    return text if cause is None or str(cause) in text else f"{text} ({cause})"


def _undeclared_query(template: str, method: str, names: set[str]) -> list[str]:
    operation = _MENDED["paths"][template][method.lower()]
    declared = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
    return [f"{template}: query parameter {name!r} is not in the document" for name in sorted(names - declared)]


def request_problems(request: httpx.Request) -> list[str]:
    """What is wrong with ``request`` for MAX's document (an empty list when it is valid)."""
    problems: list[str] = []
    query = list(request.url.params.multi_items())
    if any(name == "access_token" for name, _ in query):
        problems.append("the token is in the URL (access_token); it goes only in the Authorization header")
    token = request.headers.get("Authorization")
    if not token:
        problems.append("no Authorization header")
    body = json.loads(request.content) if request.content else None
    candidates = list(_operations(request.method, request.url.path))
    if not candidates:
        return [*problems, f"the document has no operation {request.method} {request.url.path}"]
    per_operation: list[list[str]] = []
    for template, values in candidates:
        mock = MockRequest(
            _HOST,
            request.method,
            request.url.path,
            path_pattern=template,
            args=[*query, ("access_token", token or "")],  # type: ignore[arg-type]  # MultiDict takes pairs
            view_args=values,
            headers=dict(request.headers),
            data=request.content or None,
            content_type=request.headers.get("Content-Type", "application/json"),
        )
        found = [f"{template}: {_describe(error)}" for error in _API.unmarshal_request(mock).errors]
        found.extend(_undeclared_query(template, request.method, {name for name, _ in query} - {"access_token"}))
        if template == "/messages" and request.method == "POST":
            found.extend(_button_problems(body))
        per_operation.append(found)
    return problems + ([] if any(not found for found in per_operation) else [p for f in per_operation for p in f])


def response_problems(method: str, path: str, status: int, body: object) -> list[str]:
    """What is wrong with reply ``body`` (HTTP ``status``) to ``method path`` (an empty list when it is valid)."""
    candidates = list(_operations(method, path))
    if not candidates:
        return [f"the document has no operation {method} {path}"]
    per_operation: list[list[str]] = []
    for template, values in candidates:
        mock = MockRequest(_HOST, method, path, path_pattern=template, view_args=values)
        response = MockResponse(json.dumps(body).encode(), status_code=status, content_type="application/json")
        found = [f"{template}: {_describe(error)}" for error in _API.unmarshal_response(mock, response).errors]
        if template == "/updates" and status == 200:
            found.extend(_update_problems(body))
        per_operation.append(found)
    return [] if any(not found for found in per_operation) else [p for found in per_operation for p in found]


def validate_request(request: httpx.Request) -> None:
    """Fail the test if ``request`` does not follow MAX's document."""
    problems = request_problems(request)
    assert not problems, f"{request.method} {request.url.path}: " + "; ".join(problems)


def validate_response(method: str, path: str, status: int, body: object) -> None:
    """Fail the test if ``body`` is not what MAX's document describes for ``status``."""
    problems = response_problems(method, path, status, body)
    assert not problems, f"{method} {path} -> {status}: " + "; ".join(problems)
