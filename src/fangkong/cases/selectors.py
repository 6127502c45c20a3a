"""Reads of cases and investigations, always through the scoping function."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from fangkong.cases.models import Case, CaseEvent, Investigation, ItineraryEntry
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import visible, visible_get
from fangkong.people.models import Person
from fangkong.people.selectors import person_search_filter


@dataclass(frozen=True)
class CaseFilters:
    classification: str = ""
    district_id: int | None = None
    reported_since: date | None = None
    reported_until: date | None = None
    q: str = ""


def case_list(*, actor: Any, filters: CaseFilters) -> QuerySet[Case]:
    """Cases in scope, newest report first; ``q`` is a case number or what finds the person."""
    qs = visible(actor, Case.objects.select_related("person", "org_unit", "district"), perm=Perm.CASES_VIEW)
    if filters.classification:
        qs = qs.filter(classification=filters.classification)
    if filters.district_id is not None:
        qs = qs.filter(district_id=filters.district_id)
    tz = timezone.get_current_timezone()
    if filters.reported_since:
        qs = qs.filter(reported_at__gte=datetime.combine(filters.reported_since, time.min, tzinfo=tz))
    if filters.reported_until:
        qs = qs.filter(reported_at__lte=datetime.combine(filters.reported_until, time.max, tzinfo=tz))
    if filters.q.strip():
        q = filters.q.strip()
        people = Person.objects.filter(person_search_filter(q)).values("pk")
        qs = qs.filter(Q(number__icontains=q) | Q(person__in=people))
    return qs


def case_get(*, actor: Any, case_id: int, perm: str = Perm.CASES_VIEW) -> Case:
    qs = Case.objects.select_related("person", "org_unit", "district")
    return visible_get(actor, qs, perm=perm, pk=case_id, what="case")


def case_timeline(*, case: Case) -> QuerySet[CaseEvent]:
    return case.events.select_related("actor").order_by("at", "id")


def investigation_of(*, case: Case) -> Investigation:
    return Investigation.objects.select_related("investigator").get(case=case)


def itinerary_of(*, investigation: Investigation) -> QuerySet[ItineraryEntry]:
    return investigation.itinerary.select_related("org_unit").order_by("start_at", "id")


def itinerary_entry_get(*, actor: Any, entry_id: int, perm: str = Perm.CASES_VIEW) -> ItineraryEntry:
    qs = ItineraryEntry.objects.select_related("investigation__case__org_unit")
    return visible_get(actor, qs, perm=perm, pk=entry_id, what="itinerary entry")
