"""API of the portal's staff side: bulletins, risk areas and proposals, rebuttals (scoped)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from fangkong.common.api import ErrorOut, PageNumber, PageOut, Search, actor_of, page_out
from fangkong.common.pagination import paginate
from fangkong.portal import content, risk, selectors, services

router = Router()
ERRORS: dict[int, Any] = {403: ErrorOut, 409: ErrorOut, 422: ErrorOut}


class BulletinOut(Schema):
    id: int
    org_unit_id: int
    for_date: date
    title: str
    body: str
    status: str
    approved_at: datetime | None
    published_at: datetime | None


class AreaOut(Schema):
    id: int
    org_unit_id: int
    name: str
    place: str
    level: str
    since: date
    reason: str
    active: bool


class ProposalOut(Schema):
    id: int
    area_id: int
    from_level: str
    to_level: str
    day: date
    reason: str


class RebuttalOut(Schema):
    id: int
    claim: str
    verdict: str
    explanation: str
    sources: str
    date: date
    status: str
    published_at: datetime | None


@router.get("/bulletins", response=PageOut[BulletinOut])
def bulletin_list(request: HttpRequest, status: str = "", page: PageNumber = 1) -> Any:
    return page_out(paginate(selectors.bulletin_list(actor=actor_of(request), status=status), page=page))


@router.get("/bulletins/{bulletin_id}", response=BulletinOut)
def bulletin_detail(request: HttpRequest, bulletin_id: int) -> Any:
    return selectors.bulletin_get(actor=actor_of(request), bulletin_id=bulletin_id)


@router.post("/bulletins/{bulletin_id}/approve", response={200: BulletinOut, **ERRORS})
def bulletin_approve(request: HttpRequest, bulletin_id: int) -> Any:
    actor = actor_of(request)
    bulletin = selectors.bulletin_get(actor=actor, bulletin_id=bulletin_id)
    return services.bulletin_approve(actor=actor, bulletin=bulletin)


@router.post("/bulletins/{bulletin_id}/publish", response={200: BulletinOut, **ERRORS})
def bulletin_publish(request: HttpRequest, bulletin_id: int) -> Any:
    actor = actor_of(request)
    bulletin = selectors.bulletin_get(actor=actor, bulletin_id=bulletin_id)
    return services.bulletin_publish(actor=actor, bulletin=bulletin)


@router.get("/risk-areas", response=PageOut[AreaOut])
def area_list(request: HttpRequest, page: PageNumber = 1) -> Any:
    return page_out(paginate(selectors.risk_area_list(actor=actor_of(request)), page=page))


@router.get("/risk-areas/{area_id}", response=AreaOut)
def area_detail(request: HttpRequest, area_id: int) -> Any:
    return selectors.risk_area_get(actor=actor_of(request), area_id=area_id)


@router.get("/risk-proposals", response=list[ProposalOut])
def proposal_list(request: HttpRequest) -> Any:
    return list(selectors.risk_proposals_pending(actor=actor_of(request))[:200])


@router.post("/risk-proposals/{change_id}/approve", response={200: AreaOut, **ERRORS})
def proposal_approve(request: HttpRequest, change_id: int) -> Any:
    actor = actor_of(request)
    proposal = selectors.risk_proposal_get(actor=actor, change_id=change_id)
    return risk.risk_proposal_approve(actor=actor, proposal=proposal)


@router.get("/rebuttals", response=PageOut[RebuttalOut])
def rebuttal_list(request: HttpRequest, q: Search = "", page: PageNumber = 1) -> Any:
    return page_out(paginate(selectors.rebuttal_list(actor=actor_of(request), q=q), page=page))


@router.get("/rebuttals/{rebuttal_id}", response=RebuttalOut)
def rebuttal_detail(request: HttpRequest, rebuttal_id: int) -> Any:
    return selectors.rebuttal_get(actor=actor_of(request), rebuttal_id=rebuttal_id)


@router.post("/rebuttals/{rebuttal_id}/publish", response={200: RebuttalOut, **ERRORS})
def rebuttal_publish(request: HttpRequest, rebuttal_id: int) -> Any:
    actor = actor_of(request)
    rebuttal = selectors.rebuttal_get(actor=actor, rebuttal_id=rebuttal_id)
    return content.rebuttal_publish(actor=actor, rebuttal=rebuttal)
