"""The timeliness KPIs (及时): per case and per district, how long from confirmation to
(1) investigation complete, (2) all close contacts identified, (3) all close contacts under control,
and the share done within 24 hours.

A close contact is under control when the first step of its first order is done: the transfer to a
site (centralised quarantine) or the delivery of the notice (home quarantine); a contact who was
already in quarantine (whose order was extended) is under control when confirmed. The case's
contacts are under control when every confirmed close contact is; until then the case counts as
not yet.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from statistics import median
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from fangkong.cases.models import Case, Classification
from fangkong.contacts.models import Contact, ContactKind, ContactStatus
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import visible
from fangkong.worklist.models import Status, WorkItem

FIRST_STEPS = ("quarantine.transfer", "quarantine.notice")
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


def controlled_at(case_ids: list[int]) -> dict[int, datetime | None]:
    """When every confirmed close contact of each case came under control (None: not all yet)."""
    contacts = Contact.objects.filter(
        source_case_id__in=case_ids, kind=ContactKind.CLOSE, status=ContactStatus.CONFIRMED
    ).values_list("pk", "source_case_id", "decided_at")
    by_case: dict[int, list[int]] = defaultdict(list)
    decided: dict[int, datetime | None] = {}
    for contact_id, case_id, decided_at in contacts:
        by_case[case_id].append(contact_id)
        decided[contact_id] = decided_at
    steps: dict[int, datetime | None] = {}
    first_orders = (
        Contact.objects.filter(pk__in=[c for ids in by_case.values() for c in ids])
        .values_list("pk", "orders__pk")
        .order_by("pk", "orders__pk")
    )
    first_order_of: dict[int, int | None] = {}
    for contact_id, order_id in first_orders:
        first_order_of.setdefault(contact_id, order_id)
    items = WorkItem.objects.filter(
        kind__in=FIRST_STEPS, subject_id__in=[str(o) for o in first_order_of.values() if o is not None]
    ).values_list("subject_id", "status", "done_at")
    done_at = {int(subject): (when if status == Status.DONE else None) for subject, status, when in items}
    for case_id, contact_ids in by_case.items():
        # a contact already in quarantine got no order of its own: under control when confirmed
        times = [
            done_at.get(o) if (o := first_order_of.get(c)) is not None else decided[c] for c in contact_ids
        ]
        steps[case_id] = None if any(t is None for t in times) else max(t for t in times if t is not None)
    return steps


CONTROLLED_SQL = """
SELECT k.source_case_id,
       COUNT(*) AS contacts,
       COUNT(CASE WHEN f.first_id IS NULL THEN k.decided_at WHEN w.status = %s THEN w.done_at END),
       MAX(CASE WHEN f.first_id IS NULL THEN k.decided_at WHEN w.status = %s THEN w.done_at END)
FROM {contact} k
LEFT JOIN (
    SELECT o.contact_id, MIN(o.id) AS first_id FROM {order} o
    WHERE o.contact_id IN (SELECT c.id FROM {contact} c WHERE c.source_case_id IN ({cases}))
    GROUP BY o.contact_id
) f ON f.contact_id = k.id
LEFT JOIN {item} w  -- by the (subject_id, kind) index; the status is read, not searched
       ON w.subject_id = CAST(f.first_id AS VARCHAR(64)) AND w.kind IN (%s, %s)
WHERE k.kind = %s AND k.status = %s AND k.source_case_id IN ({cases})
GROUP BY k.source_case_id
"""


def _moment(value: Any) -> datetime | None:
    """A timestamp from a raw query: SQLite gives text in UTC, PostgreSQL an aware datetime."""
    if value is None or isinstance(value, datetime):
        return value if value is None or timezone.is_aware(value) else timezone.make_aware(value, UTC)
    parsed = parse_datetime(str(value))
    assert parsed is not None, value
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, UTC)


def controlled_by_case(cases: QuerySet[Case]) -> dict[int, datetime | None]:
    """:func:`controlled_at` for every case of ``cases`` in one grouped query, done by the
    database (no id lists through Python): the same rule, for dashboards over many cases."""
    from fangkong.quarantine.models import QuarantineOrder

    case_sql, case_params = cases.values("pk").query.sql_with_params()
    sql = CONTROLLED_SQL.format(
        contact=Contact._meta.db_table,
        order=QuarantineOrder._meta.db_table,
        item=WorkItem._meta.db_table,
        cases=case_sql,
    )
    params = [
        Status.DONE,
        Status.DONE,
        *case_params,
        *FIRST_STEPS,
        ContactKind.CLOSE,
        ContactStatus.CONFIRMED,
        *case_params,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return {case_id: (_moment(last) if done == count else None) for case_id, count, done, last in rows}


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
    controlled = controlled_at([c.pk for c in cases])

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
                controlled=delay(controlled.get(case.pk), start),
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
