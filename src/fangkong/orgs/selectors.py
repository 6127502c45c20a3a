"""Reads of the org tree, always through the scoping function."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from fangkong.common.errors import NotFound
from fangkong.orgs.models import ApiToken, Level, OrgUnit
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import scope_roots, visible, visible_get


def org_unit_list(
    *, actor: Any, level: str = "", parent_id: int | None = None, q: str = "", perm: str = Perm.ORGS_VIEW
) -> QuerySet[OrgUnit]:
    qs = visible(actor, OrgUnit.objects.all(), perm=perm)
    if level:
        qs = qs.filter(level=level)
    if parent_id is not None:
        qs = qs.filter(parent_id=parent_id)
    if q:
        qs = qs.filter(name__contains=q) | qs.filter(code__startswith=q)
    return qs.order_by("path")


def org_unit_get(*, actor: Any, unit_id: int, perm: str = Perm.ORGS_VIEW) -> OrgUnit:
    return visible_get(
        actor, OrgUnit.objects.select_related("parent"), perm=perm, pk=unit_id, what="org unit"
    )


def org_unit_by_code(*, actor: Any, code: str, perm: str = Perm.ORGS_VIEW) -> OrgUnit:
    unit = visible(actor, OrgUnit.objects.all(), perm=perm).filter(code=code).first()
    if unit is None:
        raise NotFound("org unit")
    return unit


def org_unit_children(*, actor: Any, unit: OrgUnit | None) -> list[OrgUnit]:
    """Children of ``unit`` with their child counts; without a unit, the actor's own roots."""
    if unit is None:
        roots = (
            OrgUnit.objects.filter(parent__isnull=True)
            if actor.is_superuser
            else OrgUnit.objects.filter(pk__in=[root.pk for root in scope_roots(actor, Perm.ORGS_VIEW)])
        )
        return list(roots.annotate(child_count=Count("children")).order_by("path"))
    qs = visible(actor, OrgUnit.objects.filter(parent=unit), perm=Perm.ORGS_VIEW)
    return list(qs.annotate(child_count=Count("children")).order_by("code"))


def org_unit_ancestors(*, unit: OrgUnit) -> list[OrgUnit]:
    """The chain from the root down to ``unit``'s parent, in one query."""
    codes = [code for code in unit.path.split("/") if code][:-1]
    by_code = {u.code: u for u in OrgUnit.objects.filter(code__in=codes)}
    return [by_code[c] for c in codes if c in by_code]


def grids_for(*, actor: Any, perm: str) -> QuerySet[OrgUnit]:
    return visible(actor, OrgUnit.objects.filter(level=Level.GRID), perm=perm).order_by("path")


def api_token_list(*, actor: Any) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=actor).order_by("-created_at")


def org_unit_ancestor(*, unit: OrgUnit, level: str) -> OrgUnit | None:
    """The unit at ``level`` above (or equal to) ``unit``, found from the path in one query."""
    codes = [code for code in unit.path.split("/") if code]
    return OrgUnit.objects.filter(code__in=codes, level=level).first()
