"""Reads of the worklist: what a user has to do, overdue first."""

from __future__ import annotations

from typing import Any

from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.utils import timezone

from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import visible, visible_get
from fangkong.worklist.models import OPEN_STATUSES, WorkItem


def work_item_list(
    *, actor: Any, status: str = "open", mine_only: bool = False, kind: str = "", org_unit_path: str = ""
) -> QuerySet[WorkItem]:
    """Items in the actor's scope. Open ones: overdue first, then urgent, then by due time.

    ``status`` is ``open`` (open or in progress), ``all``, or one status value.
    """
    qs = visible(actor, WorkItem.objects.select_related("org_unit", "assignee"), perm=Perm.WORK_VIEW)
    if status == "open":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif status != "all":
        qs = qs.filter(status=status)
    if mine_only:
        qs = qs.filter(assignee=actor)
    if kind:
        qs = qs.filter(kind=kind)
    if org_unit_path:
        qs = qs.filter(org_unit__path__startswith=org_unit_path)
    now = timezone.now()
    return qs.annotate(
        overdue_rank=Case(
            When(status__in=OPEN_STATUSES, due_at__lt=now, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        ),
        urgent_rank=Case(
            When(priority="urgent", then=Value(0)), default=Value(1), output_field=IntegerField()
        ),
    ).order_by("overdue_rank", "urgent_rank", "due_at", "id")


def work_item_get(*, actor: Any, item_id: int) -> WorkItem:
    qs = WorkItem.objects.select_related("org_unit", "assignee")
    return visible_get(actor, qs, perm=Perm.WORK_VIEW, pk=item_id, what="work item")


def overdue_count(*, actor: Any) -> int:
    return work_item_list(actor=actor).filter(due_at__lt=timezone.now()).count()


def urgent_open(*, actor: Any) -> QuerySet[WorkItem]:
    """Open urgent items in scope, newest first: a fresh alert (a fever) is seen at once, above the
    list, however many older items are overdue."""
    qs = visible(actor, WorkItem.objects.select_related("org_unit"), perm=Perm.WORK_VIEW)
    return qs.filter(status__in=OPEN_STATUSES, priority="urgent").order_by("-created_at", "-id")
