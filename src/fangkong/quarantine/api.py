"""API of quarantine: orders, tests, checks, rooms, release, the self-report link."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from ninja import File, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status

from fangkong.common.api import Day, ErrorOut, Id, PageNumber, PageOut, Search, actor_of, page_out
from fangkong.common.errors import Invalid
from fangkong.common.pagination import paginate
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import visible
from fangkong.people.masking import mask_name
from fangkong.quarantine import lab, lab_imports, monitoring, selectors, services
from fangkong.quarantine.models import Room, Site

router = Router()
ERRORS: dict[int, Any] = {409: ErrorOut, 422: ErrorOut}


class TestOut(Schema):
    id: int
    day: int
    date: date
    result: str
    result_at: datetime | None


class OrderOut(Schema):
    id: int
    person_id: int
    contact_id: int | None
    org_unit_id: int
    kind: str
    status: str
    protocol: str
    last_exposure: datetime
    day_one: date
    planned_end: datetime
    follows_id: int | None
    site_id: int | None
    room_id: int | None
    ended_at: datetime | None
    converted_case_id: int | None


class OrderDetailOut(OrderOut):
    tests: list[TestOut]

    @staticmethod
    def resolve_tests(obj: Any) -> Any:
        return list(obj.tests.all())


class CheckIn(Schema):
    temperature: str
    symptoms: list[str] = []


class CheckOut(Schema):
    id: int
    date: date
    temperature: float
    symptoms: str
    source: str


class RoomIn(Schema):
    room_id: Id


class ReleaseIn(Schema):
    early: bool = False
    reason: str = ""


class AppointmentResultIn(Schema):
    result: str


class LinkOut(Schema):
    url: str


@router.get("/orders", response=PageOut[OrderOut])
def order_list(
    request: HttpRequest, status: str = "live", person: Id | None = None, page: PageNumber = 1
) -> Any:
    return page_out(
        paginate(selectors.order_list(actor=actor_of(request), status=status, person_id=person), page=page)
    )


@router.get("/orders/{order_id}", response=OrderDetailOut)
def order_detail(request: HttpRequest, order_id: int) -> Any:
    return selectors.order_get(actor=actor_of(request), order_id=order_id)


@router.post("/orders/{order_id}/checks", response={201: CheckOut, **ERRORS})
def check_record(request: HttpRequest, order_id: int, payload: CheckIn) -> Any:
    actor = actor_of(request)
    order = selectors.order_get(actor=actor, order_id=order_id)
    check = monitoring.daily_check_record(
        actor=actor, order=order, temperature=payload.temperature, symptoms=payload.symptoms
    )
    return Status(201, check)


@router.post("/orders/{order_id}/room", response={200: OrderOut, **ERRORS})
def room_assign(request: HttpRequest, order_id: int, payload: RoomIn) -> Any:
    actor = actor_of(request)
    order = selectors.order_get(actor=actor, order_id=order_id)
    room = Room.objects.filter(
        pk=payload.room_id, site__in=visible(actor, Site.objects.all(), perm=Perm.QUARANTINE_VIEW)
    ).first()
    if room is None:
        raise Invalid.field("room_id", "Unknown room.")
    return services.order_assign_room(actor=actor, order=order, room=room)


@router.post("/orders/{order_id}/release", response={200: OrderOut, **ERRORS})
def order_release(request: HttpRequest, order_id: int, payload: ReleaseIn) -> Any:
    actor = actor_of(request)
    order = selectors.order_get(actor=actor, order_id=order_id)
    return services.order_release(actor=actor, order=order, early=payload.early, reason=payload.reason)


@router.get("/orders/{order_id}/self-report-link", response=LinkOut)
def self_report_link(request: HttpRequest, order_id: int) -> Any:
    order = selectors.order_get(actor=actor_of(request), order_id=order_id)
    token = monitoring.self_report_token(order=order)
    return {"url": request.build_absolute_uri(reverse("self-report", args=[token]))}


@router.post("/tests/{test_id}/result", response={200: TestOut, **ERRORS})
def test_result(request: HttpRequest, test_id: int, payload: AppointmentResultIn) -> Any:
    actor = actor_of(request)
    test = selectors.test_get(actor=actor, test_id=test_id)
    return services.lab_result_record(actor=actor, appointment=test, result=payload.result)


# --- the lab: tests due, results in bulk, corrections, result imports -----------------------------


class DueOut(Schema):
    id: int
    order_id: int
    day: int
    date: date
    person: str
    org_unit_id: int
    site_id: int | None

    @staticmethod
    def resolve_person(obj: Any) -> str:
        return mask_name(obj.order.person.name)

    @staticmethod
    def resolve_org_unit_id(obj: Any) -> int:
        return int(obj.order.org_unit_id)

    @staticmethod
    def resolve_site_id(obj: Any) -> int | None:
        return int(obj.order.site_id) if obj.order.site_id is not None else None


class AppointmentResultsIn(Schema):
    tests: list[Id]
    result: str


class AppointmentResultsOut(Schema):
    result: str
    recorded: list[int]
    cases: list[str]
    refused: dict[str, int]


class CorrectIn(Schema):
    result: str
    reason: str


class LabImportOut(Schema):
    id: int
    file_name: str
    status: str
    total_rows: int
    processed_rows: int
    created_count: int
    unchanged_count: int
    cases: list[str]
    errors: list[dict[str, Any]]


@router.get("/tests/due", response=PageOut[DueOut])
def tests_due(
    request: HttpRequest,
    on: Day | None = None,
    only_day: bool = False,
    site: Id | None = None,
    unit: str = "",
    q: Search = "",
    sort: str = "date",
    page: PageNumber = 1,
) -> Any:
    actor = actor_of(request)
    today = timezone.localdate()
    qs = lab.tests_due(
        actor=actor,
        on=on if on is not None and 2000 <= on.year <= 2100 else today,
        only_day=only_day,
        site_id=site,
        unit=lab.unit_find(actor=actor, text=unit),
        q=q[:100],
        sort=sort,
    )
    return page_out(paginate(qs, page=max(1, min(page, 10**6))))


@router.post("/tests/results", response={200: AppointmentResultsOut, **ERRORS})
def results_record(request: HttpRequest, payload: AppointmentResultsIn) -> Any:
    batch = lab.lab_results_record(
        actor=actor_of(request),
        appointment_ids=[t for t in payload.tests if 0 < t < 2**63],
        result=payload.result,
    )
    return {
        "result": batch.result,
        "recorded": [t.pk for t in batch.recorded],
        "cases": [c.number for c in batch.cases],
        "refused": dict(batch.refused),
    }


@router.post("/tests/{test_id}/correct", response={200: TestOut, **ERRORS})
def result_correct(request: HttpRequest, test_id: int, payload: CorrectIn) -> Any:
    actor = actor_of(request)
    test = selectors.test_get(actor=actor, test_id=test_id)
    lab.lab_result_correct(actor=actor, appointment=test, result=payload.result, reason=payload.reason)
    test.refresh_from_db()
    return test


@router.post("/lab-imports", response={201: LabImportOut, **ERRORS})
def lab_import_create(request: HttpRequest, file: File[UploadedFile]) -> Any:
    job = lab_imports.lab_import_create(
        actor=actor_of(request), file_name=file.name or "", content=file.read()
    )
    return Status(201, job)


@router.get("/lab-imports/{lab_import_id}", response=LabImportOut)
def lab_import_detail(request: HttpRequest, lab_import_id: int) -> Any:
    return lab.lab_import_get(actor=actor_of(request), import_id=lab_import_id)
