"""Every staff page and every API route that names an object answers 404 for an object of
another grid — without this test being edited when a route is added.

Routes are discovered from the URL resolver and the OpenAPI schema. Each URL parameter name maps
to a maker below that creates an object *outside* the grid worker's grid; a new parameter name
fails the test until its maker is added, so no scoped route can slip through unchecked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from fangkong.cases.investigations import ItineraryData, itinerary_add
from fangkong.cases.services import case_register
from fangkong.config.api import api
from fangkong.contacts.models import ContactImport, DiscoveryRun, ProposalDecision
from fangkong.contacts.services import contact_register
from fangkong.dashboard.models import ExportFile
from fangkong.notify.services import Sms, sms_queue
from fangkong.orgs.services import api_token_create
from fangkong.people.models import PersonImport
from fangkong.quarantine.models import LabResultImport, QuarantineOrder
from fangkong.worklist.services import work_item_create
from tests.orgs.factories import UserFactory, user_with_role
from tests.people.factories import make_person

pytestmark = pytest.mark.django_db

SKIPPED_NAMESPACES = {"admin"}  # Django admin is for operators (is_staff), not scoped users
# Public pages (no login): what they show is published or reached by an unguessable code, tested in
# their own apps. Staff pages of the same apps live in other namespaces and are walked.
PUBLIC_NAMESPACES = {"portal", "help", "volunteer", "testing-public"}


def _far_person(ctx: dict[str, Any]) -> Any:
    if "person" not in ctx:
        ctx["person"] = make_person(actor=ctx["far_user"], grid=ctx["tree"].grid_far)
    return ctx["person"]


def _far_case(ctx: dict[str, Any]) -> Any:
    if "case" not in ctx:
        ctx["far_epi"] = ctx.get("far_epi") or user_with_role("epidemiologist", ctx["tree"].other_district)
        ctx["case"] = case_register(
            actor=ctx["far_epi"],
            person=_far_person(ctx),
            classification="suspected",
            reported_at=timezone.now(),
        )
    return ctx["case"]


def _far_tube(ctx: dict[str, Any]) -> Any:
    """A resulted pooled tube of a far site, with the far person in it and recalled."""
    if "tube" not in ctx:
        from fangkong.testing.models import Recall, Round, SamplingSite, Tube, TubeMember

        now = timezone.now()
        community = ctx["tree"].grid_far.parent
        far_round = Round.objects.create(
            name="theirs",
            org_unit=ctx["tree"].other_district,
            starts_at=now,
            ends_at=now,
            valid_hours=48,
            protocol="china-9",
            created_by=ctx["far_user"],
        )
        site = SamplingSite.objects.create(
            org_unit=community, name="theirs", address="x", lon=114.0, lat=22.5, hours="全天"
        )
        tube = Tube.objects.create(
            barcode=f"FAR{community.pk:09d}",  # one tube per tree the makers are given
            round=far_round,
            site=site,
            capacity=10,
            opened_by=ctx["far_user"],
            status="resulted",
            result="positive",
            members_count=1,
        )
        member = TubeMember.objects.create(
            tube=tube, round=far_round, person=_far_person(ctx), scanned_at=now, scanned_by=ctx["far_user"]
        )
        ctx["recall"] = Recall.objects.create(member=member, pool=tube, person=member.person, due_at=now)
        ctx["tube"] = tube
    return ctx["tube"]


def _far_tube_report(ctx: dict[str, Any]) -> Any:
    from fangkong.testing.models import TubeResult

    return TubeResult.objects.create(
        tube=_far_tube(ctx),
        result="negative",
        tested_at=timezone.now(),
        lab="theirs",
        status="conflict",
        reported_by=ctx["far_user"],
    )


def _far_tube_import(ctx: dict[str, Any]) -> Any:
    from fangkong.testing.models import TubeResultImport

    return TubeResultImport.objects.create(
        created_by=ctx["far_user"], org_unit=ctx["tree"].other_district, file_name="theirs.csv", content=b"x"
    )


def _far_entry(ctx: dict[str, Any]) -> Any:
    case = _far_case(ctx)
    data = ItineraryData(start="2022-05-01 08:00", place="超市")
    return itinerary_add(actor=ctx["far_epi"], investigation=case.investigation, data=data)


def _far_contact(ctx: dict[str, Any]) -> Any:
    if "contact" not in ctx:
        case = _far_case(ctx)
        person = make_person(actor=ctx["far_user"], grid=ctx["tree"].grid_far)
        last = timezone.now() - timedelta(hours=3)
        ctx["contact"] = contact_register(
            actor=ctx["far_epi"],
            case=case,
            person=person,
            exposure_type="household",
            first_exposure=last - timedelta(hours=1),
            last_exposure=last,
        )
    return ctx["contact"]


def _far_volunteer(ctx: dict[str, Any]) -> Any:
    """An approved volunteer serving grid_far, with one dispatch and one commendation."""
    if "volunteer" not in ctx:
        from fangkong.volunteers.services import commendation_create, dispatch_create, volunteer_decide
        from tests.volunteers.factories import make_volunteer

        coordinator = user_with_role("volunteer_coordinator", ctx["tree"].grid_far.parent.parent)
        volunteer = make_volunteer(area=ctx["tree"].grid_far)
        volunteer_decide(actor=coordinator, volunteer=volunteer, decision="approve")
        item = work_item_create(
            actor=None,
            kind="quarantine.notice",
            title="送告知书",
            org_unit=ctx["tree"].grid_far,
            due_at=timezone.now() + timedelta(hours=2),
        )
        ctx["volunteer"] = volunteer
        ctx["dispatch"] = dispatch_create(actor=coordinator, volunteer=volunteer, work_item=item)
        ctx["commendation"] = commendation_create(
            actor=coordinator, volunteer=volunteer, citation="好", commended_on=timezone.localdate()
        )
    return ctx["volunteer"]


def _far_order(ctx: dict[str, Any]) -> Any:
    return QuarantineOrder.objects.filter(contact=_far_contact(ctx), status="active").get()


def _far_portal(ctx: dict[str, Any], role: str) -> Any:
    key = f"far_{role}"
    if key not in ctx:
        ctx[key] = user_with_role(role, ctx["tree"].other_district)
    return ctx[key]


def _far_area(ctx: dict[str, Any]) -> Any:
    from datetime import date

    from fangkong.portal.risk import risk_area_designate

    if "area" not in ctx:
        ctx["area"] = risk_area_designate(
            actor=_far_portal(ctx, "commander"),
            unit=ctx["tree"].grid_far,
            level="high",
            since=date(2022, 5, 1),
            reason="theirs",
        )
    return ctx["area"]


def _far_proposal(ctx: dict[str, Any]) -> Any:
    from fangkong.portal.models import RiskAreaChange

    area = _far_area(ctx)
    if "proposal" not in ctx:
        ctx["proposal"] = RiskAreaChange.objects.create(
            area=area,
            kind="proposed",
            from_level="high",
            to_level="medium",
            day=area.since,
            reason="14 days without a new case",  # as the daily sweep writes it
        )
    return ctx["proposal"]


def _far_bulletin(ctx: dict[str, Any]) -> Any:
    from datetime import date

    from fangkong.portal.services import bulletin_draft

    if "bulletin" not in ctx:
        ctx["bulletin"] = bulletin_draft(
            actor=_far_portal(ctx, "publisher"), unit=ctx["tree"].other_district, day=date(2022, 5, 1)
        )
    return ctx["bulletin"]


def _far_rebuttal(ctx: dict[str, Any]) -> Any:
    from fangkong.portal.content import RebuttalData, rebuttal_create

    data = RebuttalData(claim="theirs", verdict="false", explanation="x")
    return rebuttal_create(actor=_far_portal(ctx, "publisher"), unit=ctx["tree"].other_district, data=data)


def _far_article(ctx: dict[str, Any]) -> Any:
    from fangkong.portal.content import ArticleData, article_create

    data = ArticleData(title="theirs", body="x")
    return article_create(actor=_far_portal(ctx, "publisher"), unit=ctx["tree"].other_district, data=data)


def _far_help_request(ctx: dict[str, Any]) -> Any:
    from tests.helpdesk.factories import make_request

    return make_request(community=ctx["tree"].grid_far.parent)


MAKERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    # mass testing
    "tube_id": lambda ctx: _far_tube(ctx).pk,
    "round_id": lambda ctx: _far_tube(ctx).round_id,
    "recall_id": lambda ctx: (_far_tube(ctx), ctx["recall"])[1].pk,
    "report_id": lambda ctx: _far_tube_report(ctx).pk,
    "tube_import_id": lambda ctx: _far_tube_import(ctx).pk,
    # portal (staff side, namespace "publish")
    "bulletin_id": lambda ctx: _far_bulletin(ctx).pk,
    "area_id": lambda ctx: _far_area(ctx).pk,
    "change_id": lambda ctx: _far_proposal(ctx).pk,
    "rebuttal_id": lambda ctx: _far_rebuttal(ctx).pk,
    "article_id": lambda ctx: _far_article(ctx).pk,
    "person_id": lambda ctx: _far_person(ctx).pk,
    "household_id": lambda ctx: _far_person(ctx).household_id,
    "unit_id": lambda ctx: ctx["tree"].grid_far.pk,
    "item_id": lambda ctx: (
        work_item_create(
            actor=None,
            kind="people.verify",
            title="打电话",
            org_unit=ctx["tree"].grid_far,
            due_at=timezone.now() + timedelta(hours=2),
        ).pk
    ),
    "token_id": lambda ctx: api_token_create(actor=ctx["far_user"], name="theirs")[0].pk,
    "case_id": lambda ctx: _far_case(ctx).pk,
    "contact_import_id": lambda ctx: (
        ContactImport.objects.create(
            case=_far_case(ctx), created_by=ctx["far_epi"], file_name="theirs.csv", content=b"x"
        ).pk
    ),
    "contact_id": lambda ctx: _far_contact(ctx).pk,
    "run_id": lambda ctx: (
        DiscoveryRun.objects.create(
            case=_far_case(ctx),
            created_by=ctx["far_epi"],
            range_start=timezone.now() - timedelta(days=2),
            range_end=timezone.now(),
            backend="duckdb",
        ).pk
    ),
    "decision_id": lambda ctx: (
        ProposalDecision.objects.create(
            case=_far_case(ctx), created_by=ctx["far_epi"], decision="confirm", contact_ids=[1]
        ).pk
    ),
    "file_id": lambda ctx: ExportFile.objects.create(created_by=ctx["far_epi"], kind="cases").pk,
    "order_id": lambda ctx: _far_order(ctx).pk,
    "lab_import_id": lambda ctx: (
        LabResultImport.objects.create(
            org_unit=ctx["tree"].grid_far, created_by=ctx["far_user"], file_name="theirs.csv", content=b"x"
        ).pk
    ),
    "test_id": lambda ctx: _far_order(ctx).tests.first().pk,
    "entry_id": lambda ctx: _far_entry(ctx).pk,
    "volunteer_id": lambda ctx: _far_volunteer(ctx).pk,
    "request_id": lambda ctx: _far_help_request(ctx).pk,
    "dispatch_id": lambda ctx: (_far_volunteer(ctx), ctx["dispatch"])[1].pk,
    "commendation_id": lambda ctx: (_far_volunteer(ctx), ctx["commendation"])[1].pk,
    "message_id": lambda ctx: (
        sms_queue(
            actor=None,
            template="self_report",
            messages=[Sms(phone="13800138000", params={"link": "x"}, org_unit_id=ctx["tree"].grid_far.pk)],
        )
        .queued[0]
        .pk
    ),
    "import_id": lambda ctx: (
        PersonImport.objects.create(
            org_unit=ctx["tree"].grid_far, created_by=ctx["far_user"], file_name="theirs.csv", content=b"x"
        ).pk
    ),
}
NON_OBJECT_PARAMS: dict[str, str] = {
    "action": "complete",
    "decision": "confirm",
}  # any value: the lookup comes first


def _walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or namespace
            if ns in SKIPPED_NAMESPACES | PUBLIC_NAMESPACES or str(entry.pattern).startswith("api/"):
                continue
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        else:
            yield prefix + str(entry.pattern), entry


# Public pages authorised by a signed token rather than by scope (tested in their own apps).
TOKEN_PAGES = {"self_report"}


def _staff_routes() -> list[tuple[str, URLPattern]]:
    return [
        (route, p)
        for route, p in _walk(get_resolver().url_patterns)
        if p.pattern.converters and p.callback.__name__ not in TOKEN_PAGES
    ]


def _fill(route: str, params: dict[str, str]) -> str:
    import re

    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: params[m.group(1)], route)


def _params(names: list[str], ctx: dict[str, Any]) -> dict[str, str]:
    missing = [n for n in names if n not in MAKERS and n not in NON_OBJECT_PARAMS]
    assert not missing, f"add a maker for URL parameter(s) {missing} to MAKERS in {__file__}"
    return {n: str(MAKERS[n](ctx)) if n in MAKERS else NON_OBJECT_PARAMS[n] for n in names}


@pytest.fixture
def ctx(tree: Any, grid_worker: Any) -> dict[str, Any]:
    far_user = user_with_role("grid_worker", tree.grid_far, username="far")
    return {"tree": tree, "far_user": far_user, "grid_worker": grid_worker}


def test_staff_routes_are_discovered():
    routes = {route for route, _ in _staff_routes()}
    assert "people/<int:person_id>/" in routes
    assert len(routes) >= 8


def test_every_staff_page_with_an_object_is_404_outside_scope(ctx, client: Client):
    client.force_login(ctx["grid_worker"])
    checked = 0
    for route, pattern in _staff_routes():
        url = _fill(route, _params(list(pattern.pattern.converters), ctx))
        # A POST-only action answers GET with 405 before any lookup, which reveals nothing.
        assert client.get(url).status_code in {404, 405}, f"GET {url} ({route})"
        response = client.post(url)
        assert response.status_code == 404, f"POST {url} ({route}) → {response.status_code}"
        checked += 1
    assert checked >= 8


def test_the_same_pages_open_for_someone_in_scope(ctx, client: Client):
    """The walk above would pass vacuously if the objects did not exist: they do."""
    client.force_login(UserFactory(is_superuser=True))
    for route, pattern in _staff_routes():
        url = _fill(route, _params(list(pattern.pattern.converters), ctx))
        assert client.get(url).status_code in {200, 302, 405}, url  # 405: a POST-only action


# --- API -------------------------------------------------------------------------------------


def _schema() -> dict[str, Any]:
    return api.get_openapi_schema()


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].split("/")[-1]]
    return node


def _example(schema: dict[str, Any], node: dict[str, Any]) -> Any:
    """A value that satisfies the JSON schema's types (not its meaning): enough to reach the view."""
    node = _resolve(schema, node)
    if "anyOf" in node:
        choices = [c for c in node["anyOf"] if c.get("type") != "null"]
        return _example(schema, choices[0]) if choices else None
    kind = node.get("type")
    if kind == "object":
        return {
            k: _example(schema, v)
            for k, v in node.get("properties", {}).items()
            if k in node.get("required", [])
        }
    if kind == "array":  # as many items as it must have (a batch of at least one)
        return [_example(schema, node.get("items", {})) for _ in range(node.get("minItems", 0))]
    if kind == "integer":
        return 1
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return False
    if node.get("format") == "date-time":
        return timezone.now().isoformat()
    if node.get("format") == "date":
        return "2022-05-03"
    return "x"


def _api_operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    schema = _schema()
    for path, operations in schema["paths"].items():
        if "{" not in path:
            continue
        for method, operation in operations.items():
            yield path, method, operation


def test_api_routes_are_discovered():
    paths = {path for path, _, _ in _api_operations()}
    assert "/api/people/persons/{person_id}" in paths
    assert len(paths) >= 7


def test_every_api_route_with_an_object_is_404_outside_scope(ctx, client: Client):
    schema = _schema()
    _token, raw = api_token_create(actor=ctx["grid_worker"], name="walker")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    checked = 0
    for path, method, operation in _api_operations():
        names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
        url = path.format(**_params(names, ctx))
        body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        payload = _example(schema, body) if body else None
        response = client.generic(
            method.upper(),
            url,
            data=__import__("json").dumps(payload) if payload is not None else "",
            content_type="application/json",
            **auth,
        )
        assert response.status_code == 404, (
            f"{method.upper()} {url} → {response.status_code} {response.content[:200]!r}"
        )
        assert response.json() == {"detail": "Not Found"}
        checked += 1
    assert checked >= 10


def test_the_same_api_objects_are_found_by_someone_in_scope(ctx, client: Client):
    client.force_login(UserFactory(is_superuser=True))
    for path, method, operation in _api_operations():
        if method != "get":
            continue
        names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
        url = path.format(**_params(names, ctx))
        assert client.get(url).status_code == 200, url


def test_every_api_list_answers_an_actor_in_scope(ctx, client: Client):
    """Routes without an object in the path (lists, "me") answer 200 and keep to their schema."""
    client.force_login(ctx["grid_worker"])
    _far_person(ctx)
    lists = [path for path, ops in _schema()["paths"].items() if "{" not in path and "get" in ops]
    assert len(lists) >= 5
    for path in lists:
        response = client.get(path)
        assert response.status_code == 200, f"GET {path} → {response.status_code} {response.content[:300]!r}"
