"""Where the work is late: timeliness KPIs, quarantine occupancy, overdue work by unit, help-desk
call backs, and the map of communities by recent cases and risk level.

Rules:

- **Timeliness** (the KPIs of ``contacts.timeliness``): of the cases confirmed in the range, the
  share whose investigation was complete, whose close contacts were all identified, and whose
  close contacts were all under control within 24 hours of confirmation. A case counts once it
  is done or its 24 hours have passed (one confirmed an hour ago is not late yet).
- **Overdue work** per unit one level below the dashboard's unit (the actor's top unit when none
  is chosen): open work items past their due time, and all open ones.
- **Map**: every community in scope with the cases (confirmed and asymptomatic) reported in the
  last 7 days of the range and the highest active risk level covering it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, F, Q
from django.utils import timezone

from fangkong.cases.models import Case, Classification
from fangkong.contacts.timeliness import WITHIN
from fangkong.dashboard.filters import Filters, scoped
from fangkong.helpdesk.selectors import sla_by_district
from fangkong.orgs.models import Level, OrgUnit
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import scope_roots
from fangkong.portal.models import LEVEL_RANK, RiskArea, RiskLevel
from fangkong.quarantine.selectors import site_occupancy
from fangkong.worklist.models import OPEN_STATUSES, WorkItem


def timeliness_kpis(filters: Filters, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """The three 24-hour shares over the cases confirmed in the range (see the module)."""
    now = now or timezone.now()
    late_after = now - WITHIN
    cases = scoped(filters, Case.objects.all(), perm=Perm.CASES_VIEW, path="org_unit__path").filter(
        classification=Classification.CONFIRMED, confirmed_at__gte=filters.start, confirmed_at__lt=filters.end
    )
    deadline = F("confirmed_at") + WITHIN
    done_at = {
        "investigated": "investigation__completed_at",
        "identified": "contacts_identified_at",
        "controlled": "contacts_controlled_at",
    }
    counts: dict[str, Any] = {"cases": Count("id")}
    for stage, field in done_at.items():
        counts[f"{stage}_within"] = Count("id", filter=Q(**{f"{field}__lte": deadline}))
        counts[f"{stage}_judged"] = Count(
            "id", filter=Q(**{f"{field}__isnull": False}) | Q(confirmed_at__lt=late_after)
        )
    sums = cases.aggregate(**counts)
    rows = [(stage, sums[f"{stage}_within"], sums[f"{stage}_judged"]) for stage in done_at]
    return [
        {
            "stage": stage,
            "cases": sums["cases"],
            "within": within,
            "judged": judged,
            "percent": round(100 * within / judged) if judged else None,
        }
        for stage, within, judged in rows
    ]


def occupancy(filters: Filters) -> list[dict[str, Any]]:
    """Beds and beds taken per quarantine site in scope (and under the unit, when chosen)."""
    rows = site_occupancy(actor=filters.actor)
    if filters.unit is not None:
        rows = [r for r in rows if r["site"].org_unit.path.startswith(filters.unit.path)]
    return [
        {
            "site": r["site"].name,
            "beds": r["beds"],
            "taken": r["taken"],
            "free": r["free"],
            "percent": r["percent"],
        }
        for r in rows
    ]


def _top_units(filters: Filters) -> list[OrgUnit]:
    if filters.unit is not None:
        return [filters.unit]
    roots = scope_roots(filters.actor, str(Perm.WORK_VIEW))
    if getattr(filters.actor, "is_superuser", False):
        return list(OrgUnit.objects.filter(parent__isnull=True))
    return sorted(roots, key=lambda u: u.path)


def overdue_by_unit(filters: Filters, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """Open and overdue work items per unit one level below the top (see the module)."""
    now = now or timezone.now()
    children = OrgUnit.objects.filter(parent__in=_top_units(filters)).order_by("path")
    open_items = scoped(filters, WorkItem.objects.all(), perm=Perm.WORK_VIEW, path="org_unit__path").filter(
        status__in=OPEN_STATUSES
    )
    rows = []
    for child in children:
        counts = open_items.filter(org_unit__path__startswith=child.path).aggregate(
            open=Count("id"), overdue=Count("id", filter=Q(due_at__lt=now))
        )
        rows.append({"unit": child.name, "open": counts["open"], "overdue": counts["overdue"]})
    return sorted(rows, key=lambda r: (-r["overdue"], -r["open"], r["unit"]))


def helpdesk_sla(filters: Filters, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """Call backs within the deadline per district, for requests submitted in the range."""
    now = now or timezone.now()
    rows = sla_by_district(actor=filters.actor, since=filters.start, now=now)
    if filters.unit is not None:
        rows = [
            r
            for r in rows
            if r.unit.path.startswith(filters.unit.path) or filters.unit.path.startswith(r.unit.path)
        ]
    return [
        {
            "district": r.unit.name,
            "submitted": r.submitted,
            "called_back": r.called_back,
            "within": r.within_sla,
            "late": r.late,
            "percent": None if r.share_within is None else round(100 * r.share_within),
        }
        for r in rows
    ]


def community_map(filters: Filters) -> dict[str, Any]:
    """GeoJSON of the communities in scope with their recent cases and risk level."""
    communities = scoped(
        filters, OrgUnit.objects.filter(level=Level.COMMUNITY), perm=Perm.CASES_VIEW, path="path"
    ).values("pk", "code", "name", "path", "geometry", "parent__name")
    week = filters.end - timedelta(days=7)
    recent = (
        scoped(filters, Case.objects.all(), perm=Perm.CASES_VIEW, path="org_unit__path")
        .filter(
            classification__in=(Classification.CONFIRMED, Classification.ASYMPTOMATIC),
            reported_at__gte=week,
            reported_at__lt=filters.end,
        )
        .values("org_unit__parent")
        .annotate(n=Count("id"))
        .order_by()
    )
    cases = {row["org_unit__parent"]: row["n"] for row in recent}
    levels: dict[str, str] = {}
    for path, level in RiskArea.objects.filter(active=True, place="").values_list("org_unit__path", "level"):
        held = levels.get(path)
        if held is None or LEVEL_RANK[RiskLevel(level)] > LEVEL_RANK[RiskLevel(held)]:
            levels[path] = level
    features = []
    for unit in communities:
        if not unit["geometry"]:
            continue
        codes = unit["path"].split("/")[:-1]
        covering = [
            levels[p] for p in ("/".join(codes[: i + 1]) + "/" for i in range(len(codes))) if p in levels
        ]
        risk = max(covering, key=lambda lv: LEVEL_RANK[RiskLevel(lv)]) if covering else None
        features.append(
            {
                "type": "Feature",
                "geometry": unit["geometry"],
                "properties": {
                    "code": unit["code"],
                    "name": unit["name"],
                    "parent": unit["parent__name"],
                    "cases": cases.get(unit["pk"], 0),
                    "risk": risk,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}
