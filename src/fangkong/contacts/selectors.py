"""Reads of contacts, through the scoping function (a contact is seen from the case's area and
from the contact's own grid)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from fangkong.common.bounds import ascii_int
from fangkong.contacts.models import (
    CompanionTest,
    Contact,
    ContactEvidence,
    ContactImport,
    ContactKind,
    ContactStatus,
    DiscoveredBy,
    DiscoveryRun,
    ExposureType,
    ProposalDecision,
)
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can, visible, visible_get
from fangkong.people.models import Person
from fangkong.people.selectors import DOCUMENT, person_list, person_search_filter
from fangkong.quarantine.models import LIVE_STATUSES, QuarantineOrder

HOUSEHOLD = Q(kind=ContactKind.SECONDARY) | Q(discovered_by=DiscoveredBy.HOUSEHOLD)
"""A proposal that comes from a confirmed close contact's household (次密接), reviewed on its own tab."""

TABS: dict[str, Q] = {
    "proposed": Q(status=ContactStatus.PROPOSED) & ~HOUSEHOLD,
    "household": Q(status=ContactStatus.PROPOSED) & HOUSEHOLD,
    "confirmed": Q(status=ContactStatus.CONFIRMED) & ~Q(kind=ContactKind.COMPANION),
    "companions": Q(kind=ContactKind.COMPANION),
    "handed_off": Q(status=ContactStatus.HANDED_OFF),
    "dismissed": Q(status=ContactStatus.DISMISSED) & ~Q(kind=ContactKind.COMPANION),
    "all": Q(),
}
"""The review page's tabs: what each shows of a case's contacts."""

SORTS: dict[str, tuple[str, ...]] = {
    "score": ("-score", "-last_exposure", "id"),
    "last_exposure": ("-last_exposure", "id"),
    "name": ("person__name", "id"),
}
REVIEWED = frozenset({"proposed", "household"})
"""Tabs whose default order is the score, highest first (the rest: the latest exposure first)."""


@dataclass(frozen=True)
class ReviewFilters:
    """What the review page shows: one tab, its order and its filters (all optional)."""

    tab: str = "proposed"
    sort: str = ""
    found_by: str = ""
    min_score: int | None = None
    exposure_type: str = ""
    q: str = ""

    @property
    def order(self) -> str:
        """The sort in force: the one chosen, else the tab's default."""
        if self.sort in SORTS:
            return self.sort
        return "score" if self.tab in REVIEWED else "last_exposure"

    @property
    def narrowed(self) -> bool:
        return bool(self.found_by or self.min_score or self.exposure_type or self.q)

    @classmethod
    def parse(cls, params: Any, *, default_tab: str) -> ReviewFilters:
        """Filters from a query string; an unknown value counts as absent."""
        tab = params.get("tab", "")
        try:
            min_score: int | None = max(0, min(100, int(params.get("min_score", ""))))
        except ValueError:
            min_score = None
        found_by = params.get("found_by", "")
        exposure_type = params.get("exposure_type", "")
        return cls(
            tab=tab if tab in TABS else default_tab,
            sort=params.get("sort", "") if params.get("sort", "") in SORTS else "",
            found_by=found_by if found_by in DiscoveredBy.values else "",
            min_score=min_score or None,
            exposure_type=exposure_type if exposure_type in ExposureType.values else "",
            q=params.get("q", "").strip()[:50],
        )


def contact_list(*, actor: Any, case_id: int | None = None, status: str = "") -> QuerySet[Contact]:
    orders = Prefetch("orders", queryset=QuarantineOrder.objects.order_by("day_one", "id"))
    evidence = Prefetch("evidence", queryset=ContactEvidence.objects.order_by("-minutes", "start"))
    qs = Contact.objects.select_related("person", "source_case", "via_contact__person").prefetch_related(
        orders, evidence
    )
    qs = visible(actor, qs, perm=Perm.CASES_VIEW)
    if case_id is not None:
        qs = qs.filter(source_case_id=case_id)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("kind", "-last_exposure", "id")


def contact_review_list(*, actor: Any, case_id: int, filters: ReviewFilters) -> QuerySet[Contact]:
    """The contacts of a case on one tab of the review page, filtered and sorted. Evidence, orders,
    companion tests and the hand-off come by prefetch for the rows of the page taken (only)."""
    orders = Prefetch("orders", queryset=QuarantineOrder.objects.order_by("day_one", "id"))
    evidence = Prefetch("evidence", queryset=ContactEvidence.objects.order_by("-minutes", "start", "id"))
    qs = Contact.objects.filter(source_case_id=case_id).filter(TABS[filters.tab])
    if filters.found_by:
        qs = qs.filter(discovered_by=filters.found_by)
    if filters.min_score:
        qs = qs.filter(score__gte=filters.min_score)
    if filters.exposure_type:
        qs = qs.filter(exposure_type=filters.exposure_type)
    if filters.q:
        qs = qs.filter(person__in=_people_matching(actor, filters.q))
    qs = visible(actor, qs, perm=Perm.CASES_VIEW)
    live = QuarantineOrder.objects.filter(person=OuterRef("person_id"), status__in=LIVE_STATUSES)
    return (
        qs.annotate(person_quarantined=Exists(live))
        .select_related("person__org_unit", "via_contact__person__org_unit", "handoff")
        .prefetch_related(orders, evidence, "companion_tests")
        .order_by(*SORTS[filters.order])
    )


def _people_matching(actor: Any, q: str) -> QuerySet[Person]:
    """People a search names: a document number or a mobile exactly (anyone: a hand-off's person
    too), a record number, or a name fragment among the people the actor may see (a name is not
    searched outside the actor's area, where the page shows it masked)."""
    compact = re.sub(r"[\s-]", "", q)
    record = ascii_int(compact) if len(compact) <= 10 else None
    if DOCUMENT.match(compact) and record is None:
        return Person.objects.filter(person_search_filter(compact)).values("pk")  # type: ignore[return-value]
    if record is not None:
        return person_list(actor=actor).filter(pk=record).values("pk")  # type: ignore[return-value]
    return person_list(actor=actor).filter(name__contains=q).values("pk")  # type: ignore[return-value]


def contact_tab_counts(*, actor: Any, case_id: int) -> dict[str, int]:
    """How many contacts of the case the actor sees on each tab of the review page (one query)."""
    qs = visible(actor, Contact.objects.filter(source_case_id=case_id), perm=Perm.CASES_VIEW)
    return qs.aggregate(**{tab: Count("id", filter=condition) for tab, condition in TABS.items()})


def people_in_view(*, actor: Any, contacts: list[Contact]) -> None:
    """Mark each contact (and the contact it came through) with whether the actor may see the
    person (``person_in_view``): outside that, the page shows the masked name only, with no link."""
    for contact in contacts:
        contact.person_in_view = can(actor, Perm.PEOPLE_VIEW, contact.person.org_unit)  # type: ignore[attr-defined]
        via = contact.via_contact
        if via is not None:
            via.person_in_view = can(actor, Perm.PEOPLE_VIEW, via.person.org_unit)  # type: ignore[attr-defined]


def contact_counts(*, actor: Any, case_id: int) -> dict[str, int]:
    """How many contacts of the case the actor sees, per status."""
    qs = visible(actor, Contact.objects.filter(source_case_id=case_id), perm=Perm.CASES_VIEW)
    return dict(qs.values("status").annotate(n=Count("id")).values_list("status", "n").order_by())


def contact_get(*, actor: Any, contact_id: int) -> Contact:
    qs = Contact.objects.select_related("person", "source_case__org_unit", "person__household")
    return visible_get(actor, qs, perm=Perm.CASES_VIEW, pk=contact_id, what="contact")


def contact_import_get(*, actor: Any, import_id: int) -> ContactImport:
    qs = ContactImport.objects.select_related("case", "created_by").defer("content")
    return visible_get(actor, qs, perm=Perm.CASES_CHANGE, pk=import_id, what="contact import")


def discovery_run_list(*, actor: Any, case_id: int) -> QuerySet[DiscoveryRun]:
    """The discovery runs of a case, newest first."""
    qs = DiscoveryRun.objects.select_related("created_by").filter(case_id=case_id)
    return visible(actor, qs, perm=Perm.CASES_VIEW).order_by("-created_at", "-id")


def discovery_run_get(*, actor: Any, run_id: int) -> DiscoveryRun:
    qs = DiscoveryRun.objects.select_related("case__org_unit", "created_by")
    return visible_get(actor, qs, perm=Perm.CASES_VIEW, pk=run_id, what="contact discovery")


def proposal_decision_get(*, actor: Any, decision_id: int) -> ProposalDecision:
    qs = ProposalDecision.objects.select_related("case__org_unit", "created_by")
    return visible_get(actor, qs, perm=Perm.CASES_VIEW, pk=decision_id, what="decision on proposals")


def companion_tests_waiting(*, actor: Any, due_by: date, q: str = "") -> QuerySet[CompanionTest]:
    """The tests spatiotemporal companions still owe, due by ``due_by`` (overdue included), of the
    companions whose tests the actor may record (``quarantine.change`` over their grid): earliest
    due first. A companion who became a contact or a case owes none (their tests are ended)."""
    companions = visible(
        actor,
        Contact.objects.filter(
            kind=ContactKind.COMPANION, status=ContactStatus.CONFIRMED, became_case__isnull=True
        ),
        perm=Perm.QUARANTINE_CHANGE,
    )
    if q:
        companions = companions.filter(person__in=_people_matching(actor, q))
    return (
        CompanionTest.objects.filter(
            contact__in=companions.values("pk"), tested_at__isnull=True, result="", due_on__lte=due_by
        )
        .select_related("contact__person__org_unit", "contact__source_case")
        .order_by("due_on", "contact__person__org_unit__path", "contact_id", "number")
    )
