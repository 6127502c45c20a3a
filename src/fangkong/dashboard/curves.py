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
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Q
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


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def reported_per_day(qs: Any, *, days: list[date], by: str = "") -> dict[tuple[str, date], int]:
    """Rows of ``qs`` per local report day (and per value of the column ``by``): one grouped
    query of one conditional count per day between local midnights, so the database compares
    indexed timestamps instead of converting each row's time to a local date (which SQLite does
    row by row in Python), and days stay right across daylight-saving changes."""
    if not days:
        return {}
    edges = [_midnight(d) for d in days] + [_midnight(days[-1] + timedelta(days=1))]
    counts = {
        f"d{i}": Count("id", filter=Q(reported_at__gte=edges[i], reported_at__lt=edges[i + 1]))
        for i in range(len(days))
    }
    rows = qs.filter(reported_at__gte=edges[0], reported_at__lt=edges[-1])
    rows = (rows.values(by) if by else rows.values()).order_by()
    found: dict[tuple[str, date], int] = {}
    for row in rows.annotate(**counts) if by else [rows.aggregate(**counts)]:
        key = row[by] if by else ""
        for i, day in enumerate(days):
            if row[f"d{i}"]:
                found[(key, day)] = row[f"d{i}"]
    return found


def epi_curve(filters: Filters, *, by: str) -> dict[str, Any]:
    """Cases per day and classification in the range, by ``onset`` or ``report``, with the
    cumulative infections."""
    if by not in {"onset", "report"}:
        raise ValueError(f"by must be onset or report, not {by!r}")
    counts: dict[str, dict[date, int]] = {str(c): defaultdict(int) for c in STACKED}
    cases = _cases(filters).filter(classification__in=STACKED)
    if by == "onset":
        rows = (
            cases.filter(onset_date__gte=filters.since, onset_date__lte=filters.until)
            .values("onset_date", "classification")
            .annotate(n=Count("id"))
            .order_by()
        )
        for row in rows:
            counts[row["classification"]][row["onset_date"]] += row["n"]
    else:
        for (classification, day), n in reported_per_day(
            cases, days=filters.days, by="classification"
        ).items():
            counts[classification][day] += n
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
    days = [since + timedelta(days=n) for n in range((filters.until - since).days + 1)]
    infections = _cases(filters).filter(classification__in=INFECTIONS)
    local: dict[date, int] = defaultdict(int)
    imported: dict[date, int] = defaultdict(int)
    with_onset = (
        infections.filter(onset_date__gte=since, onset_date__lte=filters.until)
        .values("onset_date", "origin")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in with_onset:
        (imported if row["origin"] == Origin.IMPORTED else local)[row["onset_date"]] += row["n"]
    without = reported_per_day(infections.filter(onset_date__isnull=True), days=days, by="origin")
    for (origin, day), n in without.items():
        (imported if origin == Origin.IMPORTED else local)[day] += n
    return days, [local[d] for d in days], [imported[d] for d in days]


def rt_series(filters: Filters) -> dict[str, Any]:
    """Rt per weekly window ending in the range (see the module), with its 95 % band."""
    from fangkong.dashboard.rt_bridge import estimate

    days, local, imported = daily_infections(filters, since=filters.since - timedelta(days=RT_HISTORY))
    return estimate(days=days, local=local, imported=imported, since=filters.since)


def doubling_times(filters: Filters) -> dict[str, Any]:
    """The doubling time on each day of the range (see the module), and the last one."""
    infections = _cases(filters).filter(classification__in=INFECTIONS)
    first = filters.since - timedelta(days=7)
    before = infections.filter(reported_at__lt=_midnight(first)).count()
    span = [first + timedelta(days=n) for n in range((filters.until - first).days + 1)]
    per_day = {day: n for (_key, day), n in reported_per_day(infections, days=span).items()}
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
