"""Reads of contacts, through the scoping function (a contact is seen from the case's area and
from the contact's own grid)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, QuerySet

from fangkong.contacts.models import Contact, ContactEvidence, ContactImport, DiscoveryRun
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import visible, visible_get
from fangkong.quarantine.models import QuarantineOrder


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
