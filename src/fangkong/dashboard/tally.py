"""Case counts behind the curves, read once per view and shared by every curve that needs them.

Rules:

- A case's **report day** is the local date of ``reported_at``. PostgreSQL converts with the time
  zone itself (``AT TIME ZONE``). SQLite's only time-zone conversion is a Python function called
  per row, so when the zone's UTC offset is the same over the whole span (China's always is) the
  offset is added in SQL instead; a span across a daylight-saving change takes the per-row way.
- The **report tally** counts the cases in view reported from ``HISTORY`` days before the range to
  its end, per report day, classification, origin, district and whether the onset is known.
- The **onset tally** counts the cases in view with an onset in the same span, per onset day,
  classification and origin.
- **Earlier infections**: the confirmed and asymptomatic cases in view reported before the span,
  one count (the doubling time's running total starts from them).

Both tallies are grouped queries that the covering indexes ``case_report_tally`` and
``case_onset_tally`` answer without reading the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Count, DateField, ExpressionWrapper, Func, Q, Value
from django.db.models.functions import TruncDate
from django.utils import timezone

from fangkong.cases.models import Case, Classification
from fangkong.dashboard.filters import Filters, memoised, scoped_by_unit
from fangkong.orgs.roles import Perm

HISTORY = 28  # days before the range: Rt's look-back; the doubling time needs 7
INFECTIONS = (Classification.CONFIRMED, Classification.ASYMPTOMATIC)


@dataclass(frozen=True)
class ReportRow:
    day: date
    classification: str
    origin: str
    district_id: int
    onset_known: bool
    n: int


@dataclass(frozen=True)
class OnsetRow:
    day: date
    classification: str
    origin: str
    n: int


@dataclass(frozen=True)
class Tally:
    first: date  # the first day counted
    reports: list[ReportRow]
    onsets: list[OnsetRow]
    earlier_infections: int


class _ShiftedDate(Func):
    """SQLite: the date of a stored UTC time moved by a fixed number of minutes."""

    function = "date"
    output_field = DateField()


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def local_day(field: str, *, first: date, last: date) -> Any:
    """The local date of the timestamp ``field``, for rows between ``first`` and ``last``."""
    tz = timezone.get_current_timezone()
    if connection.vendor != "sqlite":
        return TruncDate(field, tzinfo=tz)
    offsets = {
        datetime.combine(first + timedelta(days=n), at, tzinfo=tz).utcoffset()
        for n in range((last - first).days + 2)
        for at in (time.min, time(12))
    }
    if len(offsets) != 1:
        return TruncDate(field, tzinfo=tz)
    (offset,) = offsets
    assert offset is not None
    return _ShiftedDate(field, Value(f"{int(offset.total_seconds() // 60):+d} minutes"))


def cases_in_view(filters: Filters) -> Any:
    """The cases the actor sees, under the chosen unit."""
    return scoped_by_unit(filters, Case.objects.all(), perm=Perm.CASES_VIEW)


def tally(filters: Filters) -> Tally:
    """The tallies of the module for ``filters`` (computed once per filters object)."""
    return memoised(filters, "case-tally", lambda: _count(filters))


def _count(filters: Filters) -> Tally:
    first, last = filters.since - timedelta(days=HISTORY), filters.until
    cases = cases_in_view(filters)
    start, end = _midnight(first), _midnight(last + timedelta(days=1))
    reported = (
        cases.filter(reported_at__gte=start, reported_at__lt=end)
        .annotate(
            day=local_day("reported_at", first=first, last=last),
            onset_known=ExpressionWrapper(Q(onset_date__isnull=False), output_field=BooleanField()),
        )
        .values("day", "classification", "origin", "district_id", "onset_known")
        .annotate(n=Count("id"))
        .order_by()
    )
    onsets = (
        cases.filter(onset_date__gte=first, onset_date__lte=last)
        .values("onset_date", "classification", "origin")
        .annotate(n=Count("id"))
        .order_by()
    )
    earlier = cases.filter(classification__in=INFECTIONS, reported_at__lt=start).count()
    return Tally(
        first=first,
        reports=[
            ReportRow(
                r["day"], r["classification"], r["origin"], r["district_id"], bool(r["onset_known"]), r["n"]
            )
            for r in reported
        ],
        onsets=[OnsetRow(r["onset_date"], r["classification"], r["origin"], r["n"]) for r in onsets],
        earlier_infections=earlier,
    )
