"""Where the outbreak is going: the epidemic curve, Rt, the doubling time, cases by district.

Rules:

- **Epidemic curve**: cases counted per local day, by symptom onset or by report, stacked by their
  current classification (confirmed, asymptomatic infection, suspected; excluded cases are not
  drawn). The cumulative line counts infections (confirmed and asymptomatic) from the first day
  of the range.
- **Rt** (Cori et al. 2013, ``engine.rt``): infections per day by onset (by report when the onset
  is unknown, as for asymptomatic infections), local and imported apart, over the range and the
  ``RT_HISTORY`` days before it; weekly sliding windows; serial interval gamma with mean 4.7 d and
  sd 2.9 d (Nishiura, Linton and Akhmetzhanov 2020). A window without an estimate carries the
  reason instead of a number.
- **Doubling time** on a day: ``7 · ln 2 / ln(C(d) / C(d − 7))`` with ``C`` the cumulative
  infections by report since the start of the data; none when ``C(d − 7)`` is 0 or nothing grew.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, DateField, F
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from fangkong.cases.models import Case, Classification, Origin
from fangkong.dashboard.filters import Filters, scoped
from fangkong.orgs.roles import Perm

STACKED = (Classification.CONFIRMED, Classification.ASYMPTOMATIC, Classification.SUSPECTED)
INFECTIONS = (Classification.CONFIRMED, Classification.ASYMPTOMATIC)
RT_HISTORY = 28
SI_MEAN, SI_SD = 4.7, 2.9


def _cases(filters: Filters) -> Any:
    return scoped(filters, Case.objects.all(), perm=Perm.CASES_VIEW, path="org_unit__path")


def _report_day() -> TruncDate:
    return TruncDate("reported_at", tzinfo=timezone.get_current_timezone())


def epi_curve(filters: Filters, *, by: str) -> dict[str, Any]:
    """Cases per day and classification in the range, by ``onset`` or ``report``, with the
    cumulative infections."""
    if by not in {"onset", "report"}:
        raise ValueError(f"by must be onset or report, not {by!r}")
    day = F("onset_date") if by == "onset" else _report_day()
    rows = (
        _cases(filters)
        .filter(classification__in=STACKED)
        .annotate(day=day)
        .filter(day__gte=filters.since, day__lte=filters.until)
        .values("day", "classification")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[str, dict[date, int]] = {str(c): defaultdict(int) for c in STACKED}
    for row in rows:
        counts[row["classification"]][row["day"]] += row["n"]
    days = filters.days
    series = {name: [by_day.get(d, 0) for d in days] for name, by_day in counts.items()}
    running, cumulative = 0, []
    for i in range(len(days)):
        running += sum(series[str(c)][i] for c in INFECTIONS)
        cumulative.append(running)
    return {"by": by, "days": [d.isoformat() for d in days], "series": series, "cumulative": cumulative}


def epi_curve_rows(curve: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """The curve as a table for CSV: day, one column per classification, cumulative."""
    header = ["day", *curve["series"], "cumulative_infections"]
    rows = [
        [day, *(curve["series"][name][i] for name in curve["series"]), curve["cumulative"][i]]
        for i, day in enumerate(curve["days"])
    ]
    return header, rows


def daily_infections(filters: Filters, *, since: date) -> tuple[list[date], list[int], list[int]]:
    """Local and imported infections per day from ``since`` to the end of the range, by onset
    (by report when the onset is unknown)."""
    day = Coalesce(F("onset_date"), _report_day(), output_field=DateField())
    rows = (
        _cases(filters)
        .filter(classification__in=INFECTIONS)
        .annotate(day=day)
        .filter(day__gte=since, day__lte=filters.until)
        .values("day", "origin")
        .annotate(n=Count("id"))
        .order_by()
    )
    days = [since + timedelta(days=n) for n in range((filters.until - since).days + 1)]
    local: dict[date, int] = defaultdict(int)
    imported: dict[date, int] = defaultdict(int)
    for row in rows:
        (imported if row["origin"] == Origin.IMPORTED else local)[row["day"]] += row["n"]
    return days, [local[d] for d in days], [imported[d] for d in days]


def rt_series(filters: Filters) -> dict[str, Any]:
    """Rt per weekly window ending in the range (see the module), with its 95 % band."""
    from fangkong.dashboard.rt_bridge import estimate

    days, local, imported = daily_infections(filters, since=filters.since - timedelta(days=RT_HISTORY))
    return estimate(days=days, local=local, imported=imported, since=filters.since)


def doubling_times(filters: Filters) -> dict[str, Any]:
    """The doubling time on each day of the range (see the module), and the last one."""
    before = (
        _cases(filters)
        .filter(classification__in=INFECTIONS)
        .annotate(day=_report_day())
        .filter(day__lt=filters.since - timedelta(days=7))
        .count()
    )
    rows = (
        _cases(filters)
        .filter(classification__in=INFECTIONS)
        .annotate(day=_report_day())
        .filter(day__gte=filters.since - timedelta(days=7), day__lte=filters.until)
        .values("day")
        .annotate(n=Count("id"))
        .order_by()
    )
    per_day = {row["day"]: row["n"] for row in rows}
    cumulative: dict[date, int] = {}
    running = before
    day = filters.since - timedelta(days=7)
    while day <= filters.until:
        running += per_day.get(day, 0)
        cumulative[day] = running
        day += timedelta(days=1)
    values: list[float | None] = []
    for d in filters.days:
        now, then = cumulative[d], cumulative[d - timedelta(days=7)]
        values.append(round(7 * math.log(2) / math.log(now / then), 1) if then and now > then else None)
    return {"days": [d.isoformat() for d in filters.days], "values": values, "last": values[-1]}


def cases_by_district(filters: Filters) -> list[dict[str, Any]]:
    """Cases reported in the range per district and classification, most cases first."""
    rows = (
        _cases(filters)
        .filter(classification__in=STACKED, reported_at__gte=filters.start, reported_at__lt=filters.end)
        .values("district__name", "classification")
        .annotate(n=Count("id"))
        .order_by()
    )
    table: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = table.setdefault(
            row["district__name"], {"district": row["district__name"], **{str(c): 0 for c in STACKED}}
        )
        entry[row["classification"]] += row["n"]
    ordered = sorted(table.values(), key=lambda r: (-sum(r[str(c)] for c in STACKED), r["district"]))
    return ordered
