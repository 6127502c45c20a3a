"""The timeliness KPIs (及时): per case and per district, how long from confirmation to
(1) investigation complete, (2) all close contacts identified, (3) all close contacts under control,
and the share done within the protocol's hours for each step.

Rules (the dashboard's ``timeliness_kpis`` counts by the same ones, in SQL):

- The cases are the **confirmed** ones, by the time of their confirmation.
- Each step has its own limit, from the active protocol (``timeliness.investigation_hours``,
  ``contact_identification_hours``, ``contact_control_hours``; 24 h each in china-9).
- A step is **done** when its time is recorded: ``Investigation.completed_at``,
  ``Case.contacts_identified_at``, ``Case.contacts_controlled_at``. A step done before the
  confirmation (an investigation of the suspected case) took 0 hours.
- A case is **judged** on a step once the step is done or its limit has passed: a case still within
  its hours and not done is not late yet, and is left out of the share.
- **Within**: done no later than the limit after confirmation; the share is within / judged.
- Control: when a case's close contacts came under control is ``Case.contacts_controlled_at``, kept
  by ``fangkong.contacts.control`` (whose docstring states the rule). A case whose identification is
  complete with no confirmed close contact has nobody to control: it is not judged on that step.
  One whose identification is not complete is judged like any other (contacts may still come).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from statistics import median
from typing import Any

from django.db.models import Exists, OuterRef
from django.utils import timezone

from fangkong.cases.models import Case, Classification
from fangkong.common.protocol import active_profile
from fangkong.contacts.models import Contact, ContactKind, ContactStatus
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import visible

STAGES = ("investigated", "identified", "controlled")


def stage_limits() -> dict[str, timedelta]:
    """The hours each step must be done within after confirmation, by the active protocol."""
    rule = active_profile().timeliness
    return {
        "investigated": timedelta(hours=rule.investigation_hours),
        "identified": timedelta(hours=rule.contact_identification_hours),
        "controlled": timedelta(hours=rule.contact_control_hours),
    }


def has_close_contacts() -> Exists:
    """A case (the outer row) has at least one confirmed close contact."""
    return Exists(
        Contact.objects.filter(
            source_case=OuterRef("pk"), kind=ContactKind.CLOSE, status=ContactStatus.CONFIRMED
        )
    )


@dataclass
class CaseTimes:
    case: Case
    confirmed_at: datetime
    investigated: timedelta | None
    identified: timedelta | None
    controlled: timedelta | None
    nobody_to_control: bool = False  # identification complete, no confirmed close contact


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
        """Per cent done within the step's hours, of the cases judged on it (see the module)."""
        judged = self.judged.get(stage, 0)
        return round(100 * self.within.get(stage, 0) / judged) if judged else None


def case_times(*, actor: Any, since: date, until: date) -> list[CaseTimes]:
    """Confirmed cases (confirmed in the local days ``[since, until]``, in the actor's scope) and
    their three delays."""
    tz = timezone.get_current_timezone()
    cases = list(
        visible(actor, Case.objects.select_related("district", "investigation"), perm=Perm.CASES_VIEW)
        .filter(
            classification=Classification.CONFIRMED,
            confirmed_at__gte=datetime.combine(since, time.min, tzinfo=tz),
            confirmed_at__lt=datetime.combine(until + timedelta(days=1), time.min, tzinfo=tz),
        )
        .annotate(has_contacts=has_close_contacts())
    )

    def delay(end: datetime | None, start: datetime) -> timedelta | None:
        return max(end - start, timedelta(0)) if end else None

    rows = []
    for case in cases:
        start = case.confirmed_at
        assert start is not None
        investigation = getattr(case, "investigation", None)
        rows.append(
            CaseTimes(
                case=case,
                confirmed_at=start,
                investigated=delay(investigation.completed_at if investigation else None, start),
                identified=delay(case.contacts_identified_at, start),
                controlled=delay(case.contacts_controlled_at, start),
                nobody_to_control=case.contacts_identified_at is not None and not case.has_contacts,
            )
        )
    return rows


def district_rows(times: list[CaseTimes], *, now: datetime | None = None) -> list[DistrictRow]:
    """Per district: cases, median hours and the share within each step's hours (see the module)."""
    now = now or timezone.now()
    limits = stage_limits()
    rows: dict[str, DistrictRow] = {}
    for t in times:
        row = rows.setdefault(t.case.district.name, DistrictRow(district=t.case.district.name))
        row.cases += 1
        for stage in STAGES:
            if stage == "controlled" and t.nobody_to_control:
                continue
            value: timedelta | None = getattr(t, stage)
            if value is not None:
                row.hours[stage].append(value.total_seconds() / 3600)
                row.within[stage] += value <= limits[stage]
            if value is not None or now - t.confirmed_at > limits[stage]:
                row.judged[stage] += 1
    return sorted(rows.values(), key=lambda r: r.district)
