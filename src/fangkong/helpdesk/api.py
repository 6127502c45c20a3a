"""API of the help desk for operators: the queue, a request, claim, calls, resolution."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.responses import Status

from fangkong.common.api import ErrorOut, PageNumber, PageOut, actor_of, page_out
from fangkong.common.pagination import paginate
from fangkong.helpdesk import selectors, services
from fangkong.people.masking import mask_name

router = Router()
ERRORS: dict[int, Any] = {403: ErrorOut, 409: ErrorOut, 422: ErrorOut}


class HelpRequestOut(Schema):
    id: int
    ticket: str
    name_masked: str
    phone_masked: str
    org_unit_id: int
    grid_id: int | None
    category: str
    urgency: str
    description: str
    status: str
    submitted_at: datetime
    due_at: datetime
    claimed_by_id: int | None
    called_back_at: datetime | None
    resolved_at: datetime | None
    resolution: str
    escalated_to_id: int | None
    rating: int | None

    @staticmethod
    def resolve_name_masked(obj: Any) -> str:
        return mask_name(obj.name)


class CallIn(Schema):
    outcome: str
    note: str = ""
    called_at: datetime | None = None


class CallOut(Schema):
    id: int
    called_at: datetime
    outcome: str
    note: str
    operator_id: int


class ResolveIn(Schema):
    resolution: str


@router.get("/requests", response=PageOut[HelpRequestOut])
def queue(
    request: HttpRequest,
    status: str = "unresolved",
    urgency: str = "",
    category: str = "",
    page: PageNumber = 1,
) -> Any:
    filters = selectors.QueueFilter(status=status, urgency=urgency, category=category)
    return page_out(
        paginate(selectors.help_request_queue(actor=actor_of(request), filters=filters), page=page)
    )


@router.get("/requests/{request_id}", response=HelpRequestOut)
def detail(request: HttpRequest, request_id: int) -> Any:
    return selectors.help_request_get(actor=actor_of(request), request_id=request_id)


@router.post("/requests/{request_id}/claim", response={200: HelpRequestOut, **ERRORS})
def claim(request: HttpRequest, request_id: int) -> Any:
    actor = actor_of(request)
    found = selectors.help_request_get(actor=actor, request_id=request_id)
    return services.help_request_claim(actor=actor, request=found)


@router.post("/requests/{request_id}/calls", response={201: CallOut, **ERRORS})
def call(request: HttpRequest, request_id: int, payload: CallIn) -> Any:
    actor = actor_of(request)
    found = selectors.help_request_get(actor=actor, request_id=request_id)
    return Status(
        201,
        services.call_log(
            actor=actor,
            request=found,
            outcome=payload.outcome,
            note=payload.note,
            called_at=payload.called_at,
        ),
    )


@router.post("/requests/{request_id}/resolve", response={200: HelpRequestOut, **ERRORS})
def resolve(request: HttpRequest, request_id: int, payload: ResolveIn) -> Any:
    actor = actor_of(request)
    found = selectors.help_request_get(actor=actor, request_id=request_id)
    return services.help_request_resolve(actor=actor, request=found, resolution=payload.resolution)
