"""The error answers of the API, written into its OpenAPI document (``ErrorOut`` for each).

A route declares what its own services refuse (409 for a state change that is not allowed, 403
where a role may see but not act, 422 for input a service refuses). What the layers around every
route answer is added here, from the shape of the operation, so that no route can forget it:

- 401: any operation that needs a caller (a token or a session);
- 403: a write that a session may make (the CSRF check of a session without its token);
- 404: an operation that names an object (a path id, or the shared ``Id`` type in its query or
  body): one that does not exist or lies outside the caller's scope is "Not Found";
- 422: an operation that takes input (the schema refuses it: ``detail`` a sentence, ``errors``
  the messages by field);
- 400: an operation with a body that is not JSON at all.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fangkong.common.api import ErrorOut
from fangkong.common.bounds import MAX_ID

WRITES = {"post", "put", "patch", "delete"}
ERROR_SCHEMA = "ErrorOut"


def errors_documented(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` (an OpenAPI document, changed in place) with the error answers above added to
    every operation; a route's own declaration of a status is kept."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault(
        ERROR_SCHEMA, ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    )
    answer = {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}}}
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            declared = {int(code) for code in responses if str(code).isdigit()}
            for status in sorted(_framework_statuses(schema, method, operation) - declared):
                responses[status] = {"description": HTTPStatus(status).phrase, "content": answer}
    return schema


def _framework_statuses(schema: dict[str, Any], method: str, operation: dict[str, Any]) -> set[int]:
    security = operation.get("security") or []
    parameters = operation.get("parameters") or []
    body = operation.get("requestBody")
    statuses: set[int] = set()
    if security:
        statuses.add(401)
    if method in WRITES and any("SessionAuth" in requirement for requirement in security):
        statuses.add(403)
    inputs = [p.get("schema", {}) for p in parameters]
    if body:
        inputs += [media.get("schema", {}) for media in body.get("content", {}).values()]
    if any(p.get("in") == "path" for p in parameters) or any(_names_an_object(schema, s) for s in inputs):
        statuses.add(404)
    if parameters or body:
        statuses.add(422)
    if body:
        statuses.add(400)
    return statuses


def _names_an_object(schema: dict[str, Any], node: Any, seen: frozenset[str] = frozenset()) -> bool:
    """Whether the JSON schema ``node`` holds the shared ``Id`` type anywhere (a whole number up
    to ``MAX_ID``), following ``$ref``s into the document's components once each."""
    if isinstance(node, list):
        return any(_names_an_object(schema, item, seen) for item in node)
    if not isinstance(node, dict):
        return False
    ref = node.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        if name in seen:
            return False
        target = schema.get("components", {}).get("schemas", {}).get(name, {})
        return _names_an_object(schema, target, seen | {name})
    if node.get("type") == "integer" and node.get("maximum") == MAX_ID:
        return True
    return any(_names_an_object(schema, value, seen) for value in node.values())
