"""The API's OpenAPI document: one schema per name, every error answer declared, and input with
NUL refused by field (the fuzz test in ``test_api_fuzz.py`` checks the same against the running
API with generated requests)."""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from collections.abc import Iterator
from typing import Any, get_args

import pytest
from django.test import Client
from pydantic import BaseModel

from fangkong.config.api import api
from fangkong.orgs.models import ApiToken
from fangkong.orgs.services import api_token_create

ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}


def _models(annotation: Any, found: set[type[BaseModel]]) -> None:
    for argument in get_args(annotation):
        _models(argument, found)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel) and annotation not in found:
        found.add(annotation)
        for model_field in annotation.model_fields.values():
            _models(model_field.annotation, found)


def _schema_classes() -> Iterator[type[BaseModel]]:
    """Every schema class the API reads or answers with (ninja's own wrappers left out)."""
    found: set[type[BaseModel]] = set()
    for _prefix, router in api._routers:
        for view in router.path_operations.values():
            for operation in view.operations:
                for model in [*operation.models, *operation.response_models.values()]:
                    if isinstance(model, type) and issubclass(model, BaseModel):
                        _models(model, found)
    return (model for model in found if not model.__module__.startswith("ninja"))


def test_schema_names_are_unique_across_the_api():
    """ninja files each schema under its class name: a second class of the same name silently
    replaces the first in the document (two ``CompleteIn`` once documented one route wrongly)."""
    by_name: dict[str, set[str]] = defaultdict(set)
    for model in _schema_classes():
        by_name[model.__name__].add(f"{model.__module__}.{model.__qualname__}")
    assert len(by_name) > 50  # the walk reached the API's schemas
    clashes = {name: sorted(where) for name, where in by_name.items() if len(where) > 1}
    assert not clashes, f"rename one of each: {clashes}"


@functools.cache
def _document() -> dict[str, Any]:
    return api.get_openapi_schema()


def _error_statuses(path: str, method: str) -> set[int]:
    return {
        int(status)
        for status, answer in _document()["paths"][path][method]["responses"].items()
        if answer.get("content", {}).get("application/json", {}).get("schema") == ERROR_REF
    }


def test_every_operation_declares_the_errors_of_the_layers_around_it():
    assert _error_statuses("/api/me", "get") == {401}  # no input, nothing named
    assert _error_statuses("/api/people/persons/{person_id}", "get") == {401, 404, 422}
    assert _error_statuses("/api/me/tokens", "post") == {400, 401, 403, 422}  # names no object
    assert _error_statuses("/api/cases/cases", "post") >= {400, 401, 403, 404, 409, 422}  # Id in body
    assert _error_statuses("/api/work/items", "get") >= {401, 404, 422}  # an Id filter
    assert 201 in _document()["paths"]["/api/cases/cases"]["post"]["responses"]  # the route's own stay
    for path, operations in _document()["paths"].items():
        for method, operation in operations.items():
            assert 401 in _error_statuses(path, method), f"{method} {path}"
            if operation.get("parameters") or operation.get("requestBody"):
                assert 422 in _error_statuses(path, method), f"{method} {path}"


@pytest.fixture
def auth(grid_worker: Any) -> dict[str, str]:
    _token, raw = api_token_create(actor=grid_worker, name="script")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_nul_in_a_json_body_is_refused_by_field(client: Client, auth: dict[str, str], grid_worker: Any):
    before = ApiToken.objects.filter(user=grid_worker).count()
    response = client.post(
        "/api/me/tokens",
        json.dumps({"name": "phone\x00", "days": 3}),
        content_type="application/json",
        **auth,
    )
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"name"}
    assert ApiToken.objects.filter(user=grid_worker).count() == before


def test_nul_in_a_query_is_refused_by_field(client: Client, auth: dict[str, str]):
    response = client.get("/api/work/items", {"kind": "people.verify\x00", "status": "open"}, **auth)
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"kind"}


def test_a_body_that_is_not_json_is_an_error_out_400(client: Client, auth: dict[str, str]):
    response = client.post("/api/me/tokens", b"{not json", content_type="application/json", **auth)
    assert response.status_code == 400
    assert set(response.json()) == {"detail"}
