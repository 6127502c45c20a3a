"""The timeliness KPIs (及时): per case and per district, how long from confirmation to
(1) investigation complete, (2) all close contacts identified, (3) all close contacts under control,
and the share done within 24 hours.

When a case's close contacts came under control is ``Case.contacts_controlled_at``, kept by
``fangkong.contacts.control`` (whose docstring states the rule); until then the case counts as not
yet.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from statistics import median
from typing import Any

from django.utils import timezone

from fangkong.cases.models import Case, Classification
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import visible

WITHIN = timedelta(hours=24)
STAGES = ("investigated", "identified", "controlled")


@dataclass
class CaseTimes:
    case: Case
    confirmed_at: datetime
    investigated: timedelta | None
    identified: timedelta | None
    controlled: timedelta | None


@dataclass
class DistrictRow:
    district: str
    cases: int = 0
    hours: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    within: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    judged: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def median(self, stage: str) -> float | None:
        values = self.hours.get(stage) or []
        return round(median(values), 1) if values else None

    def share(self, stage: str) -> int | None:
        """Per cent done within 24 h, of the cases that are done or whose 24 h have passed (a case
        confirmed an hour ago and not done yet is not late yet; one confirmed two days ago is)."""
        judged = self.judged.get(stage, 0)
        return round(100 * self.within.get(stage, 0) / judged) if judged else None


def case_times(*, actor: Any, since: date, until: date) -> list[CaseTimes]:
    """Confirmed cases (confirmed in the range, in the actor's scope) and their three delays."""
    tz = timezone.get_current_timezone()
    cases = list(
        visible(actor, Case.objects.select_related("district", "investigation"), perm=Perm.CASES_VIEW).filter(
            classification=Classification.CONFIRMED,
            confirmed_at__gte=datetime.combine(since, time.min, tzinfo=tz),
            confirmed_at__lte=datetime.combine(until, time.max, tzinfo=tz),
        )
    )

    def delay(end: datetime | None, start: datetime) -> timedelta | None:
        return max(end - start, timedelta(0)) if end else None

    rows = []
    for case in cases:
        start = case.confirmed_at
        assert start is not None
        rows.append(
            CaseTimes(
                case=case,
                confirmed_at=start,
                investigated=delay(case.investigation.completed_at, start),
                identified=delay(case.contacts_identified_at, start),
                controlled=delay(case.contacts_controlled_at, start),
            )
        )
    return rows


def district_rows(times: list[CaseTimes], *, now: datetime | None = None) -> list[DistrictRow]:
    now = now or timezone.now()
    rows: dict[str, DistrictRow] = {}
    for t in times:
        row = rows.setdefault(t.case.district.name, DistrictRow(district=t.case.district.name))
        row.cases += 1
        for stage in STAGES:
            value: timedelta | None = getattr(t, stage)
            if value is not None:
                row.hours[stage].append(value.total_seconds() / 3600)
                row.within[stage] += value <= WITHIN
            if value is not None or now - t.confirmed_at > WITHIN:
                row.judged[stage] += 1
    return sorted(rows.values(), key=lambda r: r.district)
