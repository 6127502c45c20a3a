"""What mass testing shows the public: the open sampling sites with their queues, and a
resident's own recent results.

Rules for the result lookup: a resident gives an ID number and name (both must match), or opens
their 核酸码 link. Each address may look up :data:`LOOKUPS_PER_HOUR` times an hour, whether the
details match or not; the answer for details that match nobody is the same page as for a person
with no result (nothing tells whether the person exists). Only the masked name, the days sampled,
the results and their validity are shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from fangkong.contacts.handoff import person_by_document
from fangkong.people.models import Person
from fangkong.testing.models import QueueStatus, SamplingSite, TubeMember

LOOKUPS_PER_HOUR = 10
RECENT_DAYS = 14


def sites_open() -> QuerySet[SamplingSite]:
    """Open sites, busiest queue first within a community's order."""
    return (
        SamplingSite.objects.filter(active=True)
        .exclude(queue=QueueStatus.CLOSED)
        .select_related("org_unit__parent")
        .order_by("org_unit__path", "name")
    )


@dataclass(frozen=True)
class OwnResult:
    sampled_at: datetime
    result: str  # "" while waiting for the lab; "retest" for a positive pool
    valid_until: datetime | None
    kind: str


def person_matching(*, id_number: str, name: str) -> Person | None:
    """The person with this resident ID number and exactly this name, else None."""
    person = person_by_document(number=id_number.strip()[:40])
    if person is None or person.name != name.strip():
        return None
    return person


def own_results(*, person: Person | None, now: datetime | None = None) -> list[OwnResult]:
    """The person's swabs of the last :data:`RECENT_DAYS` days with the tube's result (a positive
    pool shows as "re-test needed": it names no one), newest first."""
    if person is None:
        return []
    now = now or timezone.now()
    members = (
        TubeMember.objects.filter(person=person, scanned_at__gte=now - timedelta(days=RECENT_DAYS))
        .select_related("tube__round")
        .order_by("-scanned_at")
    )
    shown = []
    for member in members:
        tube = member.tube
        pooled = tube.members_count > 1
        result = tube.result
        if result == "positive" and pooled:
            result = "retest"
        valid = member.scanned_at + timedelta(hours=tube.round.valid_hours) if result == "negative" else None
        shown.append(OwnResult(member.scanned_at, result, valid, tube.kind))
    return shown
