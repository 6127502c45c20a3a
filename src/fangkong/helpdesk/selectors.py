"""Reads of the help desk, every one through the scope (``orgs.scope.visible``).

The queue puts what is still to be called back first, the nearest deadline (or the longest
overdue) on top; then requests being handled; resolved ones only when asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Value, When
from django.utils.translation import gettext as _

from fangkong.common.errors import NotFound
from fangkong.helpdesk.models import UNRESOLVED, HelpRequest, Status
from fangkong.helpdesk.services import normalise_ticket
from fangkong.orgs.models import Level, OrgUnit
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import visible, visible_get


@dataclass(frozen=True, slots=True)
class QueueFilter:
    status: str = "unresolved"  # unresolved | open | claimed | resolved | all
    urgency: str = ""
    category: str = ""
    mine: bool = False
    escalated: bool = False
    q: str = ""


def help_requests_visible(*, actor: Any) -> QuerySet[HelpRequest]:
    return visible(actor, HelpRequest.objects.all(), perm=Perm.HELPDESK_VIEW)


def help_request_queue(*, actor: Any, filters: QueueFilter) -> QuerySet[HelpRequest]:
    qs = help_requests_visible(actor=actor).select_related("org_unit", "claimed_by", "escalated_to")
    if filters.status == "unresolved":
        qs = qs.filter(status__in=UNRESOLVED)
    elif filters.status in Status.values:
        qs = qs.filter(status=filters.status)
    if filters.urgency:
        qs = qs.filter(urgency=filters.urgency)
    if filters.category:
        qs = qs.filter(category=filters.category)
    if filters.mine:
        qs = qs.filter(claimed_by=actor)
    if filters.escalated:
        qs = qs.filter(escalated_to__isnull=False)
    if filters.q.strip():
        text = filters.q.strip()
        qs = qs.filter(Q(ticket=normalise_ticket(text)) | Q(description__icontains=text) | Q(name=text))
    waiting = Case(
        When(called_back_at__isnull=True, status__in=UNRESOLVED, then=Value(0)),
        When(status__in=UNRESOLVED, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return qs.annotate(waiting=waiting).order_by("waiting", "due_at", "id")


def help_request_get(*, actor: Any, request_id: int) -> HelpRequest:
    return visible_get(
        actor,
        HelpRequest.objects.select_related("org_unit", "grid", "claimed_by", "escalated_to"),
        perm=Perm.HELPDESK_VIEW,
        pk=request_id,
        what=_("help request"),
    )


def help_request_by_ticket(*, ticket: str) -> HelpRequest:
    """The public lookup: the code is the only key (unguessable, and lookups are rate-limited)."""
    found = HelpRequest.objects.select_related("org_unit").filter(ticket=normalise_ticket(ticket)).first()
    if found is None:
        raise NotFound(_("ticket"))
    return found


@dataclass(frozen=True, slots=True)
class SlaRow:
    """How the call backs of one district's requests went (the rules: :func:`sla_by_district`)."""

    unit: OrgUnit
    submitted: int
    called_back: int
    within_sla: int
    late: int
    overdue_now: int
    escalated: int

    @property
    def share_within(self) -> float | None:
        """Reached in time, among the requests reached or already past their deadline."""
        measured = self.within_sla + self.late
        return None if measured == 0 else self.within_sla / measured


def sla_by_district(
    *, actor: Any, since: datetime, now: datetime, until: datetime | None = None, unit: OrgUnit | None = None
) -> list[SlaRow]:
    """Per district: the requests in the actor's scope submitted in ``[since, until)`` and how
    their call backs went, in one grouped query.

    The clock stops at the earliest call that **reached** the resident (``called_back_at``; an
    unanswered attempt does not count). ``called_back``: reached at all. ``within_sla``: reached
    at or before the deadline. ``late``: reached after the deadline, or not reached and the
    deadline before ``now`` (whatever the status: a request resolved without reaching the
    resident was not called back in time). ``overdue_now``: the late ones still waiting (not
    reached, unresolved). A request not reached whose deadline is still ahead is neither.

    A request is routed to a community, so its district is the community's grandparent. Districts
    in scope with no request show zeros; an actor scoped below a district sees the districts of
    the requests they hold. ``unit`` narrows the requests to its subtree (the rows stay districts)."""
    requests = help_requests_visible(actor=actor).filter(submitted_at__gte=since)
    if until is not None:
        requests = requests.filter(submitted_at__lt=until)
    if unit is not None:
        requests = requests.filter(org_unit__path__startswith=unit.path)
    reached = Q(called_back_at__isnull=False)
    missed = Q(called_back_at__isnull=True, due_at__lt=now)
    grouped = (
        requests.values("org_unit__parent__parent")
        .annotate(
            submitted=Count("id"),
            called_back=Count("id", filter=reached),
            within=Count("id", filter=reached & Q(called_back_at__lte=F("due_at"))),
            late=Count("id", filter=(reached & Q(called_back_at__gt=F("due_at"))) | missed),
            overdue_now=Count("id", filter=missed & Q(status__in=UNRESOLVED)),
            escalated=Count("id", filter=Q(escalated_to__isnull=False)),
        )
        .order_by()
    )
    counts = {row["org_unit__parent__parent"]: row for row in grouped}
    in_scope = visible(actor, OrgUnit.objects.filter(level=Level.DISTRICT), perm=Perm.HELPDESK_VIEW)
    districts = OrgUnit.objects.filter(Q(pk__in=in_scope.values("pk")) | Q(pk__in=list(counts))).order_by(
        "path"
    )
    empty = {"submitted": 0, "called_back": 0, "within": 0, "late": 0, "overdue_now": 0, "escalated": 0}
    return [
        SlaRow(
            unit=district,
            submitted=(c := counts.get(district.pk, empty))["submitted"],
            called_back=c["called_back"],
            within_sla=c["within"],
            late=c["late"],
            overdue_now=c["overdue_now"],
            escalated=c["escalated"],
        )
        for district in districts
    ]
