"""API of volunteers: the registry (masked), decisions, dispatch to work items, hours."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.responses import Status

from fangkong.common.api import ErrorOut, Id, PageNumber, PageOut, Search, actor_of, page_out
from fangkong.common.pagination import paginate
from fangkong.volunteers import selectors, services
from fangkong.volunteers.models import Dispatch, Volunteer

router = Router()
ERRORS: dict[int, Any] = {403: ErrorOut, 409: ErrorOut, 422: ErrorOut}


class VolunteerOut(Schema):
    id: int
    name: str
    phone: str
    org_unit_id: int
    skills: list[str]
    availability: str
    availability_note: str
    status: str
    decided_at: datetime | None
    hours_total: Decimal
    created_at: datetime

    @staticmethod
    def resolve_name(obj: Volunteer) -> str:
        return obj.masked_name

    @staticmethod
    def resolve_phone(obj: Volunteer) -> str:
        return obj.phone_masked

    @staticmethod
    def resolve_skills(obj: Volunteer) -> list[str]:
        return obj.skill_list

    @staticmethod
    def resolve_hours_total(obj: Volunteer) -> Decimal:
        return getattr(obj, "hours_total", None) or Decimal(0)


class DecisionIn(Schema):
    decision: str
    note: str = ""


class DispatchIn(Schema):
    work_item_id: Id
    note: str = ""


class HoursIn(Schema):
    hours: Decimal
    note: str = ""


class DispatchOut(Schema):
    id: int
    volunteer_id: int
    work_item_id: int
    status: str
    dispatched_at: datetime
    hours: Decimal | None
    done_at: datetime | None
    note: str


@router.get("/volunteers", response=PageOut[VolunteerOut])
def volunteer_list(
    request: HttpRequest, status: str = "", skill: str = "", q: Search = "", page: PageNumber = 1
) -> Any:
    qs = selectors.volunteer_list(actor=actor_of(request), status=status, skill=skill, q=q)
    return page_out(paginate(qs, page=page))


@router.get("/volunteers/{volunteer_id}", response=VolunteerOut)
def volunteer_detail(request: HttpRequest, volunteer_id: int) -> Any:
    return selectors.volunteer_get(actor=actor_of(request), volunteer_id=volunteer_id)


@router.post("/volunteers/{volunteer_id}/decision", response={200: VolunteerOut, **ERRORS})
def volunteer_decide(request: HttpRequest, volunteer_id: int, payload: DecisionIn) -> Any:
    actor = actor_of(request)
    volunteer = selectors.volunteer_get(actor=actor, volunteer_id=volunteer_id)
    services.volunteer_decide(actor=actor, volunteer=volunteer, decision=payload.decision, note=payload.note)
    return selectors.volunteer_get(actor=actor, volunteer_id=volunteer_id)


@router.post("/volunteers/{volunteer_id}/dispatches", response={201: DispatchOut, **ERRORS})
def volunteer_dispatch(request: HttpRequest, volunteer_id: int, payload: DispatchIn) -> Any:
    actor = actor_of(request)
    volunteer = selectors.volunteer_get(actor=actor, volunteer_id=volunteer_id)
    item = selectors.work_item_for_dispatch(actor=actor, item_id=payload.work_item_id)
    dispatch: Dispatch = services.dispatch_create(
        actor=actor, volunteer=volunteer, work_item=item, note=payload.note
    )
    return Status(201, dispatch)


@router.post("/dispatches/{dispatch_id}/hours", response={200: DispatchOut, **ERRORS})
def dispatch_hours(request: HttpRequest, dispatch_id: int, payload: HoursIn) -> Any:
    actor = actor_of(request)
    dispatch = selectors.dispatch_get(actor=actor, dispatch_id=dispatch_id)
    return services.dispatch_complete(actor=actor, dispatch=dispatch, hours=payload.hours, note=payload.note)
