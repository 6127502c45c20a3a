"""Schemathesis over the whole OpenAPI document, as a scoped user (issue 16, "Fuzzing in CI").

Every operation of ``/api/`` gets a few generated requests of valid input (``positive``) and of
input the schema refuses (``negative``), sent through Django's WSGI application in process, with
a personal token of a user who holds every role in one district of the test tree (scoped: the
other district is out of reach). A path id or a body id sometimes names a real object, in the
district or in the other one. The run fails on:

- an error 500 (``not_a_server_error``);
- a status code the operation does not document (``status_code_conformance``);
- a content type or a body that breaks the documented response (``content_type_conformance``,
  ``response_schema_conformance``).

Bounded and reproducible: ``EXAMPLES`` per operation and mode, derandomized, no shrinking (the
first failing request of each operation is reported with a ``curl`` line to reproduce it). It
prints the operations, the cases and the statuses it got. How to run it: README, "API fuzzing".
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, reject, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from fangkong.config.api import api
from fangkong.orgs.roles import Role
from fangkong.orgs.services import api_token_create
from tests.config.test_scope_walk import MAKERS
from tests.orgs.factories import MembershipFactory, UserFactory, user_with_role

pytestmark = pytest.mark.django_db

# Examples per operation and generation mode: 12 × 2 × 88 operations ≈ 2,100 requests, about
# 45 s on SQLite and 60 s on PostgreSQL (2 cores). FANGKONG_FUZZ_EXAMPLES digs deeper by hand;
# FANGKONG_FUZZ_SEED draws other examples than the fixed ones CI sends.
EXAMPLES = int(os.environ.get("FANGKONG_FUZZ_EXAMPLES", "12"))
SEED = int(os.environ["FANGKONG_FUZZ_SEED"]) if os.environ.get("FANGKONG_FUZZ_SEED") else None
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@dataclass
class Run:
    """What the fuzzer sent and what broke (the first failure of each operation)."""

    cases: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: dict[str, str] = field(default_factory=dict)


@contextmanager
def _test_transaction_kept() -> Iterator[None]:
    """Django's WSGI handler closes the database connection at the start and the end of each
    request, which would end the test's transaction; its test client unhooks the same signal."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@dataclass
class World:
    """The fuzzing user's token and the ids of real objects, by path parameter name."""

    raw_token: str
    own_token: int
    ids: dict[str, list[int]]


def _world(tree: Any) -> World:
    """A user who holds every role in one district (so each route gets past its permission) and
    objects for every path id: one set in that district, one in the other (made by the scope
    walk's makers, which that test keeps complete for every route)."""
    user = UserFactory(username="fuzzer")
    for role in Role:
        MembershipFactory(user=user, org_unit=tree.district, role=role.value)
    token, raw = api_token_create(actor=user, name="fuzz")
    ids: dict[str, list[int]] = {"token_id": [api_token_create(actor=user, name="to revoke")[0].pk]}
    for ctx in (
        {"tree": tree, "far_user": user_with_role("grid_worker", tree.grid_far, username="far")},
        {"tree": _InDistrict(tree), "far_user": user_with_role("grid_worker", tree.grid_a, username="near")},
    ):
        for name, make in MAKERS.items():
            ids.setdefault(name, []).append(int(make(ctx)))
    return World(raw_token=raw, own_token=token.pk, ids=ids)


class _InDistrict:
    """The test tree as the scope walk's makers read it, with their "far" grid and district moved
    into the fuzzing user's district."""

    def __init__(self, tree: Any) -> None:
        self.grid_far = tree.grid_a
        self.other_district = tree.district


# A body field that names an object of a path parameter's kind.
BODY_IDS = {"org_unit_id": "unit_id", "drop_id": "person_id", "work_item_id": "item_id"}


def _aim(case: Any, data: Any, known: dict[str, list[int]]) -> None:
    """Point some generated ids at real objects (in the district or outside it): a path id, or an
    id at the top of a JSON body; the rest stay as generated (mostly unknown: 404)."""
    for name in case.path_parameters or {}:
        if name in known and data.draw(st.booleans()):
            case.path_parameters[name] = data.draw(st.sampled_from(known[name]))
    if isinstance(case.body, dict):
        for name, value in case.body.items():
            kind = BODY_IDS.get(name, name)
            if kind in known and isinstance(value, int) and data.draw(st.booleans()):
                case.body[name] = data.draw(st.sampled_from(known[kind]))


def _fuzz(operation: Any, mode: GenerationMode, *, auth: dict[str, str], world: World, run: Run) -> None:
    label = f"{operation.label} [{mode.value}]"

    @settings(
        max_examples=EXAMPLES,
        derandomize=SEED is None,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    def send(case: Any, data: Any) -> None:
        if mode is GenerationMode.POSITIVE:
            _aim(case, data, world.ids)
        if (case.path_parameters or {}).get("token_id") == world.own_token:
            reject()  # the fuzzer's own token stays valid
        response = case.call(headers=auth)
        run.cases += 1
        run.statuses[response.status_code] += 1
        case.validate_response(response, checks=CHECKS)

    if SEED is not None:
        send = seed(SEED)(send)
    try:
        send()
    except (Exception, BaseExceptionGroup) as error:  # the first failure of each operation; go on
        run.failures[label] = str(error)[:3000]


def test_the_api_holds_under_fuzzing(tree: Any, capsys: pytest.CaptureFixture[str]) -> None:
    world = _world(tree)
    schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
    schema.app = WSGIHandler()
    operations = [result.ok() for result in schema.get_all_operations()]
    auth = {"Authorization": f"Bearer {world.raw_token}"}
    run = Run()
    started = time.monotonic()
    with _test_transaction_kept():
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                _fuzz(operation, mode, auth=auth, world=world, run=run)
    seconds = time.monotonic() - started
    with capsys.disabled():
        print(
            f"\nAPI fuzz: {len(operations)} operations, {run.cases} cases in {seconds:.0f} s "
            f"({EXAMPLES} examples per operation and mode); statuses {dict(sorted(run.statuses.items()))}; "
            f"{len(run.failures)} failing"
        )
    assert len(operations) >= 80  # the whole document was read
    assert run.statuses[200] and run.statuses[404] and run.statuses[422]  # it reached real objects, too
    assert not run.failures, "\n\n".join(f"== {label}\n{text}" for label, text in run.failures.items())
