"""The dashboard's mass-testing panel: the latest round under way or done over the actor's area
(``testing.selectors.round_current``), by district."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, F, Min, Q
from django.utils import timezone

from fangkong.common.protocol import active_profile
from fangkong.dashboard.filters import Filters
from fangkong.dashboard.operations import community_map, timeliness_kpis
from fangkong.orgs.models import OrgUnit
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import visible
from fangkong.testing.coverage import coverage_by_grid
from fangkong.testing.models import Recall, RecallStatus
from fangkong.testing.selectors import round_current


def mass_testing(filters: Filters) -> list[dict[str, Any]]:
    """Per district (under the unit, when chosen): residents expected, sampled, the share covered
    (sampled or tested in quarantine),
    resulted, positive, members of positive pools still to re-sample and those late."""
    the_round = round_current(actor=filters.actor)
    if the_round is None:
        return []
    rows: dict[str, dict[str, Any]] = {}
    for grid in coverage_by_grid(actor=filters.actor, the_round=the_round):
        if filters.unit is not None and not grid.grid.path.startswith(filters.unit.path):
            continue
        district = grid.grid.path.split("/")[1] if grid.grid.path.count("/") > 2 else grid.grid.path
        row = rows.setdefault(
            district,
            {
                "round": the_round.name,
                "district": district,
                "expected": 0,
                "sampled": 0,
                "quarantined": 0,
                "resulted": 0,
                "positive": 0,
            },
        )
        for key in ("expected", "sampled", "quarantined", "resulted", "positive"):
            row[key] += getattr(grid, key)
    now = timezone.now()
    waiting = (
        Recall.objects.filter(pool__round=the_round, status=RecallStatus.WAITING)
        .values("person__org_unit__path")
        .annotate(n=Count("id"), late=Count("id", filter=Q(due_at__lt=now)))
        .order_by()
    )
    for r in waiting:
        parts = r["person__org_unit__path"].split("/")
        found = rows.get(parts[1] if len(parts) > 2 else "")
        if found is not None:
            found["waiting"] = found.get("waiting", 0) + r["n"]
            found["late"] = found.get("late", 0) + r["late"]
    names = dict(OrgUnit.objects.filter(code__in=list(rows)).values_list("code", "name"))
    return [
        {
            **row,
            "district": names.get(code, code),
            "percent": round(100 * (row["sampled"] + row["quarantined"]) / row["expected"], 1)
            if row["expected"]
            else 100.0,
            "waiting": row.get("waiting", 0),
            "late": row.get("late", 0),
        }
        for code, row in sorted(rows.items())
    ]


def recall_timeliness(filters: Filters, *, now: datetime | None = None) -> dict[str, Any]:
    """The timeliness row of mass testing: positive pools resulted in the range (in the actor's
    area) whose every member was re-sampled within the protocol's hours. A pool is judged once
    all its members are re-sampled or its due time has passed."""
    now = now or timezone.now()
    hours = active_profile().testing.recall_hours
    pools = (
        visible(filters.actor, Recall.objects.all(), perm=Perm.TESTING_VIEW)
        .filter(pool__result_at__gte=filters.start, pool__result_at__lt=filters.end)
        .values("pool")
        .annotate(
            members=Count("id"),
            in_time=Count("id", filter=Q(resampled_at__isnull=False, resampled_at__lte=F("due_at"))),
            sampled=Count("id", filter=Q(resampled_at__isnull=False)),
            due=Min("due_at"),
        )
        .order_by()
    )
    judged = within = 0
    for pool in pools:
        if pool["sampled"] == pool["members"] or pool["due"] < now:
            judged += 1
            within += pool["in_time"] == pool["members"]
    return {
        "stage": "recalled",
        "hours": hours,
        "cases": len(pools),
        "judged": judged,
        "within": within,
        "percent": round(100 * within / judged, 1) if judged else None,
    }


def timeliness_with_recalls(filters: Filters, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """The dashboard's timeliness rows: the case steps, then the recall of positive pools."""
    return [*timeliness_kpis(filters, now=now), recall_timeliness(filters, now=now)]


def coverage_map(filters: Filters) -> dict[str, Any]:
    """GeoJSON of the communities in scope with the latest round's coverage (None: no round)."""
    geo = community_map(filters)
    the_round = round_current(actor=filters.actor)
    by_community: dict[int, list[int]] = {}
    if the_round is not None:
        for grid in coverage_by_grid(actor=filters.actor, the_round=the_round):
            total = by_community.setdefault(grid.grid.parent_id or 0, [0, 0])
            total[0] += grid.expected
            total[1] += grid.covered
    codes = dict(OrgUnit.objects.filter(level="community").values_list("code", "pk"))
    for feature in geo["features"]:
        p = feature["properties"]
        expected, covered = by_community.get(codes.get(p["code"], 0), [0, 0])
        p["expected"], p["covered"] = expected, covered
        p["coverage"] = round(100 * covered / expected, 1) if expected else None
    return geo


def coverage_map_table(geo: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    header = ["code", "name", "parent", "expected", "covered", "coverage"]
    return header, [[f["properties"][k] for k in header] for f in geo["features"]]
