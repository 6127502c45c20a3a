"""API of quarantine: orders, tests, checks, rooms, release, the self-report link."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from ninja import Router, Schema
from ninja.responses import Status

from fangkong.common.api import ErrorOut, PageOut, actor_of, page_out
from fangkong.common.errors import Invalid
from fangkong.common.pagination import paginate
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import visible
from fangkong.quarantine import monitoring, selectors, services
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
    room_id: int


class ReleaseIn(Schema):
    early: bool = False
    reason: str = ""


class ResultIn(Schema):
    result: str


class LinkOut(Schema):
    url: str


@router.get("/orders", response=PageOut[OrderOut])
def order_list(request: HttpRequest, status: str = "live", person: int | None = None, page: int = 1) -> Any:
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
def test_result(request: HttpRequest, test_id: int, payload: ResultIn) -> Any:
    actor = actor_of(request)
    test = selectors.test_get(actor=actor, test_id=test_id)
    return services.lab_result_record(actor=actor, appointment=test, result=payload.result)
