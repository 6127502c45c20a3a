"""API of the org tree and of the caller's own account (memberships, permissions, tokens)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.responses import Status

from fangkong.common.api import Id, PageNumber, PageOut, Search, actor_of, page_out
from fangkong.common.pagination import paginate
from fangkong.orgs import selectors, services
from fangkong.orgs.roles import PERMISSIONS, Role
from fangkong.orgs.scope import forget_memberships

router = Router()
me_router = Router()


class OrgUnitOut(Schema):
    id: int
    code: str
    name: str
    level: str
    parent_id: int | None
    path: str


@router.get("/units", response=PageOut[OrgUnitOut])
def unit_list(
    request: HttpRequest, level: str = "", parent: Id | None = None, q: Search = "", page: PageNumber = 1
) -> Any:
    qs = selectors.org_unit_list(actor=actor_of(request), level=level, parent_id=parent, q=q)
    return page_out(paginate(qs, page=page))


@router.get("/units/{unit_id}", response=OrgUnitOut)
def unit_detail(request: HttpRequest, unit_id: int) -> Any:
    return selectors.org_unit_get(actor=actor_of(request), unit_id=unit_id)


@router.get("/units/{unit_id}/children", response=list[OrgUnitOut])
def unit_children(request: HttpRequest, unit_id: int) -> Any:
    actor = actor_of(request)
    unit = selectors.org_unit_get(actor=actor, unit_id=unit_id)
    return selectors.org_unit_children(actor=actor, unit=unit)


class MembershipOut(Schema):
    org_unit: OrgUnitOut
    role: str
    permissions: list[str]


class MeOut(Schema):
    username: str
    memberships: list[MembershipOut]


@me_router.get("", response=MeOut)
def me(request: HttpRequest) -> Any:
    actor = actor_of(request)
    forget_memberships(actor)
    memberships = [
        {"org_unit": m.org_unit, "role": m.role, "permissions": sorted(PERMISSIONS[Role(m.role)])}
        for m in actor.memberships.select_related("org_unit")
    ]
    return {"username": actor.get_username(), "memberships": memberships}


class TokenIn(Schema):
    name: str
    days: int | None = None


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class NewTokenOut(TokenOut):
    token: str


@me_router.get("/tokens", response=list[TokenOut])
def token_list(request: HttpRequest) -> Any:
    return selectors.api_token_list(actor=actor_of(request))


@me_router.post("/tokens", response={201: NewTokenOut})
def token_create(request: HttpRequest, payload: TokenIn) -> Any:
    actor = actor_of(request)
    token, raw = services.api_token_create(
        actor=actor, name=payload.name, days=payload.days, via=getattr(actor, "api_token", None)
    )
    return Status(201, {**TokenOut.from_orm(token).dict(), "token": raw})


@me_router.delete("/tokens/{token_id}", response=TokenOut)
def token_revoke(request: HttpRequest, token_id: int) -> Any:
    return services.api_token_revoke(actor=actor_of(request), token_id=token_id)
