"""The dashboard's mass-testing panel: the latest round over the actor's area, by district."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from fangkong.dashboard.filters import Filters
from fangkong.orgs.models import OrgUnit
from fangkong.testing.coverage import coverage_by_grid
from fangkong.testing.models import Recall, RecallStatus
from fangkong.testing.selectors import round_list


def mass_testing(filters: Filters) -> list[dict[str, Any]]:
    """Per district (under the unit, when chosen): residents expected, sampled, the share covered
    (sampled or tested in quarantine),
    resulted, positive, members of positive pools still to re-sample and those late."""
    the_round = round_list(actor=filters.actor).first()
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
