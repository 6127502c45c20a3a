"""Escalation of missed call-back deadlines (the SLA clock).

Rule: a request that nobody has called back by its deadline is raised to the unit above its
community (the street), and one level further up for each further SLA period that passes without
a call back (district, then city). Each raise gives the unit it reaches an urgent work item about
the request, due one SLA period later; the first call logged closes those items. A raise is one
conditional UPDATE, so two sweeps running at once raise a request once.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.audit.services import audit_record
from fangkong.helpdesk.models import ESCALATION_KIND, UNRESOLVED, HelpRequest
from fangkong.orgs.models import OrgUnit
from fangkong.orgs.selectors import org_unit_ancestors
from fangkong.worklist.models import Priority
from fangkong.worklist.services import work_item_create


def levels_due(request: HelpRequest, *, now: datetime) -> int:
    """How many levels above its community a request should stand at ``now`` (0 if not late)."""
    if request.called_back_at is not None or request.status not in UNRESOLVED or now <= request.due_at:
        return 0
    period = request.due_at - request.submitted_at
    late_periods = int((now - request.due_at) / period) if period.total_seconds() > 0 else 0
    return min(1 + late_periods, request.org_unit.depth)


def levels_raised(request: HelpRequest) -> int:
    """How many levels above its community a request stands now."""
    if request.escalated_to is None:
        return 0
    return request.org_unit.depth - request.escalated_to.depth


def _ancestor(unit: OrgUnit, steps: int) -> OrgUnit:
    return org_unit_ancestors(unit=unit)[-steps]


def help_requests_escalate(*, now: datetime | None = None) -> int:
    """Raise every late request to where it should stand; returns how many raises were made."""
    now = now or timezone.now()
    late = (
        HelpRequest.objects.filter(status__in=UNRESOLVED, called_back_at__isnull=True, due_at__lte=now)
        .select_related("org_unit", "escalated_to")
        .order_by("due_at")
    )
    raised = 0
    for request in late.iterator(chunk_size=500):
        target_steps, current = levels_due(request, now=now), levels_raised(request)
        if target_steps > current:
            raised += _raise(request, steps=target_steps, now=now)
    return raised


@transaction.atomic
def _raise(request: HelpRequest, *, steps: int, now: datetime) -> int:
    target = _ancestor(request.org_unit, steps)
    moved = HelpRequest.objects.filter(
        pk=request.pk, escalated_to=request.escalated_to, called_back_at__isnull=True
    ).update(escalated_to=target, escalated_at=now, updated_at=now)
    if not moved:  # another sweep raised it, or it was called back meanwhile
        return 0
    period = request.due_at - request.submitted_at
    before = request.escalated_to.name if request.escalated_to else request.org_unit.name
    request.escalated_to, request.escalated_at = target, now
    work_item_create(
        actor=None,
        kind=ESCALATION_KIND,
        title=_("Call back overdue: help request %(ticket)s (%(category)s)")
        % {"ticket": request.ticket_display, "category": request.get_category_display()},
        org_unit=target,
        due_at=now + period,
        subject=request,
        priority=Priority.URGENT,
        note=_("Not called back by %(due)s; raised from %(before)s.")
        % {"due": timezone.localtime(request.due_at).strftime("%Y-%m-%d %H:%M"), "before": before},
    )
    audit_record(
        actor=None,
        action="helpdesk.escalate",
        target=request,
        after={"to": target.code, "levels": steps},
    )
    return 1
