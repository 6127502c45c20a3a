"""Where the work is late: timeliness KPIs, quarantine occupancy, overdue work by unit and kind,
help-desk call backs, and the map of communities by recent cases and risk level.

Rules:

- **Timeliness** (the rules of ``contacts.timeliness``, counted here in one grouped query): of the
  cases confirmed in the range, the share whose investigation was complete, whose close contacts
  were all identified, and whose close contacts were all under control within the protocol's hours
  for that step after confirmation. A case is judged on a step once the step is done or its hours
  have passed (one confirmed an hour ago is not late yet); a case whose identification is complete
  with no confirmed close contact is not judged on control (nobody to control).
- **Overdue work**: a work item is overdue when it is open (open or in progress) and its due time
  is before now. Per unit one level below the dashboard's unit (the actor's top units when none is
  chosen), with the items the top unit holds itself on a row of their own, and per kind of work
  within each: the overdue items and all open ones. Done and cancelled items never count.
- **Help desk**: see ``helpdesk.selectors.sla_by_district`` (the call that reached the resident).
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
from django.utils.translation import gettext as _

from fangkong.cases.models import Case, Classification
from fangkong.contacts.timeliness import has_close_contacts, stage_limits
from fangkong.dashboard.filters import Filters, scoped, scoped_by_unit
from fangkong.helpdesk.selectors import sla_by_district
from fangkong.orgs.models import Level, OrgUnit
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import scope_roots
from fangkong.portal.models import LEVEL_RANK, RiskArea, RiskLevel
from fangkong.quarantine.selectors import site_occupancy
from fangkong.worklist.kinds import KINDS
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
    """The three shares within the protocol's hours over the cases confirmed in the range (see
    the module); each row carries its step's ``hours``."""
    now = now or timezone.now()
    limits = stage_limits()
    cases = scoped_by_unit(filters, Case.objects.all(), perm=Perm.CASES_VIEW).filter(
        classification=Classification.CONFIRMED, confirmed_at__gte=filters.start, confirmed_at__lt=filters.end
    )
    done_at = {
        "investigated": "investigation__completed_at",
        "identified": "contacts_identified_at",
        "controlled": "contacts_controlled_at",
    }
    nobody_to_control = Q(contacts_identified_at__isnull=False) & ~Q(has_close_contacts())
    counts: dict[str, Any] = {"cases": Count("id")}
    for stage, field in done_at.items():
        limit = limits[stage]
        judged = Q(**{f"{field}__isnull": False}) | Q(confirmed_at__lt=now - limit)
        if stage == "controlled":  # done implies a close contact (``contacts.control``)
            judged = Q(**{f"{field}__isnull": False}) | (Q(confirmed_at__lt=now - limit) & ~nobody_to_control)
        counts[f"{stage}_within"] = Count("id", filter=within(done=field, start="confirmed_at", limit=limit))
        counts[f"{stage}_judged"] = Count("id", filter=judged)
    sums = cases.aggregate(**counts)
    return [
        {
            "stage": stage,
            "hours": int(limits[stage].total_seconds() // 3600),
            "cases": sums["cases"],
            "within": sums[f"{stage}_within"],
            "judged": sums[f"{stage}_judged"],
            "percent": (
                round(100 * sums[f"{stage}_within"] / sums[f"{stage}_judged"])
                if sums[f"{stage}_judged"]
                else None
            ),
        }
        for stage in done_at
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
    """Open and overdue work items per unit one level below the top, and per kind within each
    unit (``kinds``: ``{kind: (overdue, open)}``), from one grouped query (see the module). The
    items a top unit holds itself (a district's investigations) are a row named for it; the rows'
    overdue counts add up to every overdue item in view. Most overdue first."""
    now = now or timezone.now()
    tops = _top_units(filters)
    children = list(OrgUnit.objects.filter(parent__in=tops).order_by("path"))
    grouped = (
        scoped_by_unit(filters, WorkItem.objects.all(), perm=Perm.WORK_VIEW)
        .filter(open_condition())
        .values("org_unit_id", "kind")
        .annotate(open=Count("id"), overdue=Count("id", filter=Q(due_at__lt=now)))
        .order_by()
    )
    per_unit: dict[int, list[tuple[str, int, int]]] = defaultdict(list)
    for r in grouped:
        per_unit[r["org_unit_id"]].append((r["kind"], r["overdue"], r["open"]))
    paths = dict(OrgUnit.objects.filter(pk__in=list(per_unit)).values_list("pk", "path"))
    rows = []
    for unit, own in [(child, False) for child in children] + [(top, True) for top in tops]:
        kinds: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for pk, path in paths.items():
            mine = pk == unit.pk if own else path.startswith(unit.path)
            for kind, overdue, open_ in per_unit[pk] if mine else ():
                kinds[kind][0] += overdue
                kinds[kind][1] += open_
        if own and not kinds:
            continue
        rows.append(
            {
                "unit": _("%(unit)s (its own work)") % {"unit": unit.name} if own else unit.name,
                "overdue": sum(late for late, _open in kinds.values()),
                "open": sum(open_ for _late, open_ in kinds.values()),
                "kinds": {kind: (late, open_) for kind, (late, open_) in kinds.items()},
            }
        )
    return sorted(rows, key=lambda r: (-r["overdue"], -r["open"], r["unit"]))


def overdue_kinds(rows: list[dict[str, Any]]) -> list[str]:
    """The kinds with overdue work in ``rows`` (of :func:`overdue_by_unit`), in the order of the
    table of kinds, then any kind outside it by name: the columns of the roll-up."""
    late = {kind for row in rows for kind, (overdue, _open) in row["kinds"].items() if overdue}
    order = {kind: i for i, kind in enumerate(KINDS)}
    return sorted(late, key=lambda kind: (order.get(kind, len(order)), kind))


def overdue_table(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    """The roll-up as a CSV table: unit, overdue, open, then the overdue items of each kind
    (columns ``overdue:<kind>``, the kinds of :func:`overdue_kinds`)."""
    kinds = overdue_kinds(rows)
    header = ["unit", "overdue", "open", *(f"overdue:{kind}" for kind in kinds)]
    return header, [
        [row["unit"], row["overdue"], row["open"], *(row["kinds"].get(kind, (0, 0))[0] for kind in kinds)]
        for row in rows
    ]


def helpdesk_sla(filters: Filters, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """Call backs within the deadline per district, for requests submitted in the range (under
    the unit, when chosen); the rules are those of ``sla_by_district``."""
    now = now or timezone.now()
    rows = sla_by_district(
        actor=filters.actor, since=filters.start, until=filters.end, now=now, unit=filters.unit
    )
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
