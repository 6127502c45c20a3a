"""Reads of the volunteer registry, always through the scoping function."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import DecimalField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from fangkong.common.errors import Invalid
from fangkong.orgs.models import Level, OrgUnit
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import visible, visible_get
from fangkong.volunteers.models import (
    Commendation,
    Dispatch,
    DispatchStatus,
    Skill,
    Volunteer,
    VolunteerStatus,
)
from fangkong.volunteers.validation import AREA_LEVELS
from fangkong.worklist.models import OPEN_STATUSES, WorkItem


def _with_hours(qs: QuerySet[Volunteer]) -> QuerySet[Volunteer]:
    """Each volunteer's total hours on dispatches marked done, as ``hours_total``."""
    return qs.annotate(
        hours_total=Coalesce(
            Sum("dispatches__hours", filter=Q(dispatches__status=DispatchStatus.DONE)),
            Value(Decimal("0")),
            output_field=DecimalField(max_digits=8, decimal_places=1),
        )
    )


def volunteer_list(*, actor: Any, status: str = "", skill: str = "", q: str = "") -> QuerySet[Volunteer]:
    """Volunteers in the actor's scope, newest applications first; filters by status, one skill and
    a name fragment (unknown status or skill values match nothing)."""
    qs = visible(actor, Volunteer.objects.select_related("org_unit"), perm=Perm.VOLUNTEERS_VIEW)
    if status:
        qs = qs.filter(status=status) if status in VolunteerStatus.values else qs.none()
    if skill:
        qs = qs.filter(skills__contains=f",{skill},") if skill in Skill.values else qs.none()
    if q.strip():
        qs = qs.filter(name__contains=q.strip())
    return _with_hours(qs).order_by("-created_at", "-id")


def volunteer_get(*, actor: Any, volunteer_id: int, perm: str = Perm.VOLUNTEERS_VIEW) -> Volunteer:
    qs = _with_hours(Volunteer.objects.select_related("org_unit", "decided_by"))
    return visible_get(actor, qs, perm=perm, pk=volunteer_id, what="volunteer")


def dispatchable_items(*, actor: Any, volunteer: Volunteer) -> QuerySet[WorkItem]:
    """Open work items the actor can see in the volunteer's area subtree, soonest due first."""
    qs = visible(actor, WorkItem.objects.select_related("org_unit"), perm=Perm.WORK_VIEW)
    return qs.filter(status__in=OPEN_STATUSES, org_unit__path__startswith=volunteer.org_unit.path).order_by(
        "due_at", "id"
    )


def work_item_for_dispatch(*, actor: Any, item_id: int | None) -> WorkItem:
    """The work item named on a dispatch form, if the actor may see it (``Invalid`` otherwise:
    it is a field of the form, not the page's object)."""
    item = (
        visible(actor, WorkItem.objects.select_related("org_unit"), perm=Perm.WORK_VIEW)
        .filter(pk=item_id)
        .first()
        if item_id is not None
        else None
    )
    if item is None:
        raise Invalid.field("work_item", _("Choose an open work item in the volunteer's area."))
    return item


def dispatch_list(*, actor: Any, volunteer: Volunteer) -> QuerySet[Dispatch]:
    qs = visible(actor, volunteer.dispatches.all(), perm=Perm.VOLUNTEERS_VIEW)
    return qs.select_related("work_item", "work_item__org_unit", "dispatched_by")


def dispatch_get(*, actor: Any, dispatch_id: int, perm: str = Perm.VOLUNTEERS_VIEW) -> Dispatch:
    qs = Dispatch.objects.select_related("volunteer", "volunteer__org_unit", "work_item")
    return visible_get(actor, qs, perm=perm, pk=dispatch_id, what="dispatch")


def commendation_list(*, actor: Any, volunteer: Volunteer | None = None) -> QuerySet[Commendation]:
    qs = visible(
        actor,
        Commendation.objects.select_related("volunteer", "volunteer__org_unit"),
        perm=Perm.VOLUNTEERS_VIEW,
    )
    if volunteer is not None:
        qs = qs.filter(volunteer=volunteer)
    return qs


def commendation_get(*, actor: Any, commendation_id: int, perm: str = Perm.VOLUNTEERS_VIEW) -> Commendation:
    qs = Commendation.objects.select_related("volunteer", "volunteer__org_unit")
    return visible_get(actor, qs, perm=perm, pk=commendation_id, what="commendation")


# --- public reads (no actor: only what is meant for everyone) --------------------------------


def public_commendations() -> QuerySet[Commendation]:
    """Published commendations of volunteers in good standing (approved), newest first."""
    return (
        Commendation.objects.filter(published=True, volunteer__status=VolunteerStatus.APPROVED)
        .select_related("volunteer", "volunteer__org_unit")
        .order_by("-commended_on", "-id")
    )


def signup_districts() -> QuerySet[OrgUnit]:
    return OrgUnit.objects.filter(level=Level.DISTRICT).order_by("path")


def signup_areas(*, district: OrgUnit | None = None) -> list[tuple[OrgUnit, list[OrgUnit]]]:
    """Streets and communities to choose from, grouped by district (one district when given)."""
    qs = OrgUnit.objects.filter(level__in=[lvl for lvl in AREA_LEVELS if lvl != Level.GRID])
    if district is not None:
        qs = qs.filter(path__startswith=district.path)
    districts = {d.path: d for d in signup_districts()}
    groups: dict[str, tuple[OrgUnit, list[OrgUnit]]] = {}
    for unit in qs.order_by("path"):
        owner = next((p for p in districts if unit.path.startswith(p)), None)
        if owner is None:
            continue
        groups.setdefault(owner, (districts[owner], []))[1].append(unit)
    return list(groups.values())
