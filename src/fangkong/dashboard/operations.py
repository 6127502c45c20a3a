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

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, F, FloatField, Func, Q, Value
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

from fangkong.cases.models import Case, Classification
from fangkong.contacts.timeliness import WITHIN
from fangkong.dashboard.filters import Filters, scoped, scoped_by_unit
from fangkong.helpdesk.selectors import sla_by_district
from fangkong.orgs.models import Level, OrgUnit
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import scope_roots
from fangkong.portal.models import LEVEL_RANK, RiskArea, RiskLevel
from fangkong.quarantine.selectors import site_occupancy
from fangkong.worklist.models import WorkItem, open_condition


class _DaysBetween(Func):
    """SQLite: days from the first time to the second (``julianday``, to the millisecond)."""

    template = "(julianday(%(expressions)s))"
    arg_joiner = ") - julianday("
    output_field = FloatField()


MILLISECOND_IN_DAYS = 1e-3 / 86400


def within(*, done: str, start: str, limit: timedelta) -> Any:
    """``done`` no later than ``limit`` after ``start``. SQLite would add the time in a Python
    function per row; there the days between are compared in SQL instead, to the millisecond."""
    if connection.vendor == "sqlite":
        bound = limit / timedelta(days=1) + MILLISECOND_IN_DAYS / 2  # float error is far below
        return LessThanOrEqual(_DaysBetween(done, start), Value(bound))
    return Q(**{f"{done}__lte": F(start) + limit})


def timeliness_kpis(filters: Filters, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """The three 24-hour shares over the cases confirmed in the range (see the module)."""
    now = now or timezone.now()
    late_after = now - WITHIN
    cases = scoped_by_unit(filters, Case.objects.all(), perm=Perm.CASES_VIEW).filter(
        classification=Classification.CONFIRMED, confirmed_at__gte=filters.start, confirmed_at__lt=filters.end
    )
    done_at = {
        "investigated": "investigation__completed_at",
        "identified": "contacts_identified_at",
        "controlled": "contacts_controlled_at",
    }
    counts: dict[str, Any] = {"cases": Count("id")}
    for stage, field in done_at.items():
        counts[f"{stage}_within"] = Count("id", filter=within(done=field, start="confirmed_at", limit=WITHIN))
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
    children = list(OrgUnit.objects.filter(parent__in=_top_units(filters)).order_by("path"))
    per_unit = (
        scoped_by_unit(filters, WorkItem.objects.all(), perm=Perm.WORK_VIEW)
        .filter(open_condition())
        .values("org_unit_id")
        .annotate(open=Count("id"), overdue=Count("id", filter=Q(due_at__lt=now)))
        .order_by()
    )
    counts = {r["org_unit_id"]: (r["open"], r["overdue"]) for r in per_unit}
    paths = dict(OrgUnit.objects.filter(pk__in=list(counts)).values_list("pk", "path"))
    rows = []
    for child in children:
        mine = [counts[pk] for pk, path in paths.items() if path.startswith(child.path)]
        rows.append(
            {"unit": child.name, "open": sum(o for o, _ in mine), "overdue": sum(late for _, late in mine)}
        )
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
        scoped_by_unit(filters, Case.objects.all(), perm=Perm.CASES_VIEW)
        .filter(
            classification__in=(Classification.CONFIRMED, Classification.ASYMPTOMATIC),
            reported_at__gte=week,
            reported_at__lt=filters.end,
        )
        .values("org_unit_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    per_grid = {row["org_unit_id"]: row["n"] for row in recent}
    cases: dict[int, int] = defaultdict(int)  # per community: the grids' parent
    for grid, parent in OrgUnit.objects.filter(pk__in=list(per_grid)).values_list("pk", "parent_id"):
        cases[parent] += per_grid[grid]
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
