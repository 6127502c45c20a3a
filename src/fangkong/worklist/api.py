"""API of the worklist."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.responses import Status

from fangkong.common.api import ErrorOut, Id, PageNumber, PageOut, Search, actor_of, page_out
from fangkong.common.errors import NotFound
from fangkong.common.pagination import paginate
from fangkong.orgs.selectors import org_unit_get
from fangkong.worklist import selectors, services
from fangkong.worklist.models import WorkItem

router = Router()


class WorkItemOut(Schema):
    id: int
    kind: str
    title: str
    priority: str
    status: str
    org_unit_id: int
    assignee: str | None
    due_at: datetime
    done_at: datetime | None
    overdue: bool
    subject_type: str
    subject_id: str
    note: str

    @staticmethod
    def resolve_assignee(obj: WorkItem) -> str | None:
        return obj.assignee.get_username() if obj.assignee else None

    @staticmethod
    def resolve_overdue(obj: WorkItem) -> bool:
        return obj.is_overdue


class WorkItemIn(Schema):
    kind: str
    title: str
    org_unit_id: Id
    due_at: datetime
    priority: str = "normal"
    note: str = ""


class AssignIn(Schema):
    assignee: str | None = None


class WorkItemCompleteIn(Schema):
    note: str = ""


class CancelIn(Schema):
    reason: str


class KindCountOut(Schema):
    kind: str
    label: str
    total: int
    overdue: int


class WorkItemsCompleteIn(Schema):
    ids: list[Id] = Field(..., min_length=1, max_length=500)
    note: str = Field("", max_length=500)


class WorkItemsCompletedOut(Schema):
    done: int
    refused_outside_scope: int
    refused_closed: int
    done_ids: list[int]


def _filters(request: HttpRequest, **given: Any) -> selectors.QueueFilters:
    return selectors.queue_filters(actor=actor_of(request), **given)


@router.get("/items", response=PageOut[WorkItemOut])
def item_list(
    request: HttpRequest,
    status: str = "open",
    mine: bool = False,
    kind: str = "",
    unit: Id | None = None,
    due: str = "",
    assigned: str = "",
    q: Search = "",
    sort: str = "",
    page: PageNumber = 1,
) -> Any:
    """The caller's queue: the kinds of their roles in their scope (every kind for commanders),
    overdue first. ``due``: today | overdue; ``assigned``: me | unassigned (``mine`` = assigned to me);
    ``q`` searches titles (masked names, case numbers, tickets) and subject ids; ``unit`` an org unit id."""
    filters = _filters(
        request,
        status=status,
        kind=kind,
        unit_id=unit,
        due=due,
        assigned=assigned or ("me" if mine else ""),
        q=q,
        sort=sort,
    )
    return page_out(paginate(selectors.work_queue(actor=actor_of(request), filters=filters), page=page))


@router.get("/counts", response=list[KindCountOut])
def item_counts(
    request: HttpRequest,
    status: str = "open",
    unit: Id | None = None,
    due: str = "",
    assigned: str = "",
    q: Search = "",
) -> Any:
    """Items and overdue items per kind of the caller's queue, under the same filters as ``/items``."""
    filters = _filters(request, status=status, unit_id=unit, due=due, assigned=assigned, q=q)
    return selectors.work_queue_counts(actor=actor_of(request), filters=filters)


@router.post("/items/complete", response={200: WorkItemsCompletedOut, 404: ErrorOut})
def items_complete(request: HttpRequest, payload: WorkItemsCompleteIn) -> Any:
    """Complete many items with one note. Items outside the caller's scope (or unknown) and items
    already closed are refused and counted, never silently; when none is in scope the answer is 404."""
    actor = actor_of(request)
    visible = selectors.work_items_visible(actor=actor, ids=payload.ids)
    if not visible:
        raise NotFound("work item")
    result = services.work_items_complete(actor=actor, items=visible, note=payload.note)
    return {
        "done": len(result.done),
        "refused_outside_scope": len(set(payload.ids)) - len(visible) + result.not_allowed,
        "refused_closed": result.already_closed,
        "done_ids": [item.pk for item in result.done],
    }


@router.post("/items", response={201: WorkItemOut, 422: ErrorOut})
def item_create(request: HttpRequest, payload: WorkItemIn) -> Any:
    actor = actor_of(request)
    unit = org_unit_get(actor=actor, unit_id=payload.org_unit_id)
    item = services.work_item_create(
        actor=actor,
        kind=payload.kind,
        title=payload.title,
        org_unit=unit,
        due_at=payload.due_at,
        priority=payload.priority,
        note=payload.note,
    )
    return Status(201, item)


@router.get("/items/{item_id}", response=WorkItemOut)
def item_detail(request: HttpRequest, item_id: int) -> Any:
    return selectors.work_item_get(actor=actor_of(request), item_id=item_id)


@router.post("/items/{item_id}/assign", response={200: WorkItemOut, 409: ErrorOut, 422: ErrorOut})
def item_assign(request: HttpRequest, item_id: int, payload: AssignIn) -> Any:
    actor = actor_of(request)
    item = selectors.work_item_get(actor=actor, item_id=item_id)
    assignee = services.user_by_username(payload.assignee) if payload.assignee else None
    return services.work_item_assign(actor=actor, item=item, assignee=assignee)


@router.post("/items/{item_id}/complete", response={200: WorkItemOut, 409: ErrorOut})
def item_complete(request: HttpRequest, item_id: int, payload: WorkItemCompleteIn) -> Any:
    actor = actor_of(request)
    item = selectors.work_item_get(actor=actor, item_id=item_id)
    return services.work_item_complete(actor=actor, item=item, note=payload.note)


@router.post("/items/{item_id}/cancel", response={200: WorkItemOut, 409: ErrorOut, 422: ErrorOut})
def item_cancel(request: HttpRequest, item_id: int, payload: CancelIn) -> Any:
    actor = actor_of(request)
    item = selectors.work_item_get(actor=actor, item_id=item_id)
    return services.work_item_cancel(actor=actor, item=item, reason=payload.reason)
