"""Where the outbreak is going: the epidemic curve, Rt, the doubling time, cases by district.

Rules:

- **Epidemic curve**: cases counted per local day, by symptom onset or by report, stacked by their
  current classification (confirmed, asymptomatic infection, suspected; excluded cases are not
  drawn). The cumulative line counts infections (confirmed and asymptomatic) from the first day
  of the range.
- **Rt** (Cori et al. 2013, ``engine.rt``): infections per day by onset (by report when the onset
  is unknown, as for asymptomatic infections), local and imported apart, over the range and the
  ``RT_HISTORY`` days before it; weekly sliding windows; the serial interval of the protocol in
  force (``[epidemiology]``: gamma, mean and sd in days). A window without an estimate carries the
  reason instead of a number.
- **Doubling time** on a day: ``7 · ln 2 / ln(C(d) / C(d − 7))`` with ``C`` the cumulative
  infections by report since the start of the data; none when nothing grew or when ``C(d − 7)``
  is under ``DOUBLING_FROM`` (from one case to two is noise, not a doubling time).

All of them are read from the case tallies of ``dashboard.tally`` (two grouped queries and a count
per view).
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from fangkong.cases.models import Classification, Origin
from fangkong.dashboard.filters import Filters
from fangkong.dashboard.tally import HISTORY, INFECTIONS, tally
from fangkong.orgs.models import OrgUnit

STACKED = (Classification.CONFIRMED, Classification.ASYMPTOMATIC, Classification.SUSPECTED)
RT_HISTORY = HISTORY
DOUBLING_FROM = 10


def epi_curve(filters: Filters, *, by: str) -> dict[str, Any]:
    """Cases per day and classification in the range, by ``onset`` or ``report``, with the
    cumulative infections."""
    if by not in {"onset", "report"}:
        raise ValueError(f"by must be onset or report, not {by!r}")
    counts: dict[str, dict[date, int]] = {str(c): defaultdict(int) for c in STACKED}
    counted = tally(filters)
    rows = counted.onsets if by == "onset" else counted.reports
    for row in rows:
        if row.classification in counts and filters.since <= row.day <= filters.until:
            counts[row.classification][row.day] += row.n
    days = filters.days
    series = {name: [by_day.get(d, 0) for d in days] for name, by_day in counts.items()}
    running, cumulative = 0, []
    for i in range(len(days)):
        running += sum(series[str(c)][i] for c in INFECTIONS)
        cumulative.append(running)
    no_onset = sum(  # reported in the range without an onset date: not on the curve by onset
        r.n
        for r in counted.reports
        if not r.onset_known and r.classification in STACKED and filters.since <= r.day <= filters.until
    )
    return {
        "by": by,
        "days": [d.isoformat() for d in days],
        "series": series,
        "cumulative": cumulative,
        "without_onset": no_onset if by == "onset" else 0,
    }


def epi_curve_rows(curve: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """The curve as a table for CSV: day, one column per classification, cumulative."""
    header = ["day", *curve["series"], "cumulative_infections"]
    rows = [
        [day, *(curve["series"][name][i] for name in curve["series"]), curve["cumulative"][i]]
        for i, day in enumerate(curve["days"])
    ]
    return header, rows


def daily_infections(filters: Filters, *, since: date) -> tuple[list[date], list[int], list[int]]:
    """Local and imported infections per day from ``since`` (at most ``RT_HISTORY`` days before the
    range) to the end of the range, by onset (by report when the onset is unknown)."""
    counted = tally(filters)
    if since < counted.first:
        raise ValueError(f"the tallies start on {counted.first}, not {since}")
    days = [since + timedelta(days=n) for n in range((filters.until - since).days + 1)]
    local: dict[date, int] = defaultdict(int)
    imported: dict[date, int] = defaultdict(int)
    by_day = [(r.day, r.classification, r.origin, r.n) for r in counted.onsets]
    by_day += [(r.day, r.classification, r.origin, r.n) for r in counted.reports if not r.onset_known]
    for day, classification, origin, n in by_day:
        if classification in INFECTIONS and since <= day <= filters.until:
            (imported if origin == Origin.IMPORTED else local)[day] += n
    return days, [local[d] for d in days], [imported[d] for d in days]


def rt_series(filters: Filters) -> dict[str, Any]:
    """Rt per weekly window ending in the range (see the module), with its 95 % band."""
    from fangkong.dashboard.rt_bridge import estimate

    days, local, imported = daily_infections(filters, since=filters.since - timedelta(days=RT_HISTORY))
    return estimate(days=days, local=local, imported=imported, since=filters.since)


def doubling_times(filters: Filters) -> dict[str, Any]:
    """The doubling time on each day of the range (see the module), and the last one."""
    counted = tally(filters)
    per_day: dict[date, int] = defaultdict(int)
    for row in counted.reports:
        if row.classification in INFECTIONS:
            per_day[row.day] += row.n
    cumulative: dict[date, int] = {}
    running, day = counted.earlier_infections, counted.first
    while day <= filters.until:
        running += per_day.get(day, 0)
        cumulative[day] = running
        day += timedelta(days=1)
    values: list[float | None] = []
    for d in filters.days:
        now, then = cumulative[d], cumulative[d - timedelta(days=7)]
        grew = then >= DOUBLING_FROM and now > then
        values.append(round(7 * math.log(2) / math.log(now / then), 1) if grew else None)
    return {"days": [d.isoformat() for d in filters.days], "values": values, "last": values[-1]}


def cases_by_district(filters: Filters) -> list[dict[str, Any]]:
    """Cases reported in the range per district and classification, most cases first."""
    counts: dict[int, dict[str, int]] = defaultdict(lambda: {str(c): 0 for c in STACKED})
    for row in tally(filters).reports:
        if row.classification in STACKED and filters.since <= row.day <= filters.until:
            counts[row.district_id][row.classification] += row.n
    names = dict(OrgUnit.objects.filter(pk__in=list(counts)).values_list("pk", "name"))
    table = [{"district": names[pk], **by_class} for pk, by_class in counts.items()]
    return sorted(table, key=lambda r: (-sum(r[str(c)] for c in STACKED), r["district"]))
