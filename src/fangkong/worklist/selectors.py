"""Reads of the worklist: what a user has to do, overdue first.

"My work" is a queue per role (``work_queue``): a membership shows the kinds of work its role
does (``worklist.kinds.KINDS``) in the subtree of its unit; commanders and administrators see
every kind, as the platform's superusers do. A user with several memberships sees the union, each
role's kinds only where that role is held.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Substr
from django.utils import timezone

from fangkong.common.masking import mask_name
from fangkong.orgs.models import Membership, OrgUnit
from fangkong.orgs.roles import Perm, Role, role_grants
from fangkong.orgs.scope import scope_roots, visible, visible_get
from fangkong.orgs.selectors import org_unit_ancestors, org_unit_children, org_unit_get
from fangkong.worklist.kinds import KINDS, kind_label, kinds_for_roles
from fangkong.worklist.models import OPEN_STATUSES, Status, WorkItem

# Roles whose queue holds every kind: they oversee the work rather than do one part of it.
ALL_KINDS_ROLES = frozenset({Role.COMMANDER, Role.ADMIN})
DUE_CHOICES = ("today", "overdue")
ASSIGNED_CHOICES = ("me", "unassigned")
SORTS = ("", "due", "-due", "kind", "unit")  # "" is overdue first, then urgent, then by due time
STATUSES = ("open", "all", *Status.values)


def work_item_list(
    *, actor: Any, status: str = "open", mine_only: bool = False, kind: str = "", org_unit_path: str = ""
) -> QuerySet[WorkItem]:
    """Items in the actor's scope, of every kind. Open ones: overdue first, then urgent, then by due time.

    ``status`` is ``open`` (open or in progress), ``all``, or one status value. "My work" and
    the API list use ``work_queue``, which keeps to the kinds of the actor's roles.
    """
    qs = visible(actor, WorkItem.objects.select_related("org_unit", "assignee"), perm=Perm.WORK_VIEW)
    qs = _with_status(qs, status)
    if mine_only:
        qs = qs.filter(assignee=actor)
    if kind:
        qs = qs.filter(kind=kind)
    if org_unit_path:
        qs = qs.filter(org_unit__path__startswith=org_unit_path)
    return _overdue_first(qs)


def _with_status(qs: QuerySet[WorkItem], status: str) -> QuerySet[WorkItem]:
    if status == "open":
        return qs.filter(status__in=OPEN_STATUSES)
    if status != "all":
        return qs.filter(status=status)
    return qs


def _overdue_first(qs: QuerySet[WorkItem]) -> QuerySet[WorkItem]:
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


# --- the queue of a user's roles -------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilters:
    """What "My work" and ``GET /api/work/items`` narrow the queue by (all optional).

    ``due``: ``today`` (due today, local time) or ``overdue`` (open and past due); ``assigned``:
    ``me`` or ``unassigned``; ``q`` searches titles (they carry the masked name, the case number or
    the ticket) and the subject's id; ``unit`` keeps its subtree.
    """

    kind: str = ""
    unit: OrgUnit | None = None
    due: str = ""
    assigned: str = ""
    q: str = ""
    sort: str = ""
    status: str = "open"


def queue_filters(
    *,
    actor: Any,
    kind: str = "",
    unit_id: int | None = None,
    due: str = "",
    assigned: str = "",
    q: str = "",
    sort: str = "",
    status: str = "open",
) -> QueueFilters:
    """Filters from what a page or an API call sent: unknown choices count as absent; a unit
    outside the actor's scope is ``NotFound`` (it is not confirmed to exist)."""
    unit = org_unit_get(actor=actor, unit_id=unit_id, perm=Perm.WORK_VIEW) if unit_id else None
    return QueueFilters(
        kind=kind.strip()[:64],
        unit=unit,
        due=due if due in DUE_CHOICES else "",
        assigned=assigned if assigned in ASSIGNED_CHOICES else "",
        q=q.strip()[:100],
        sort=sort if sort in SORTS else "",
        status=status if status in STATUSES else "open",
    )


def _queue_memberships(actor: Any) -> list[Membership]:
    """The actor's memberships whose role sees work: read once per request by the scoping
    function, which keeps them on the actor (``orgs.scope.forget_memberships`` drops them)."""
    scope_roots(actor, Perm.WORK_VIEW)
    held: list[Membership] = actor.__dict__.get("_fangkong_memberships") or []
    return [m for m in held if role_grants(m.role, Perm.WORK_VIEW)]


def _is_superuser(actor: Any) -> bool:
    return bool(getattr(actor, "is_superuser", False) and actor.is_active)


def queue_kinds(*, actor: Any) -> list[str]:
    """The kinds the actor's queue can hold, in the table's order (every kind for those who oversee)."""
    memberships = _queue_memberships(actor)
    if _is_superuser(actor) or any(m.role in ALL_KINDS_ROLES for m in memberships):
        return list(KINDS)
    return kinds_for_roles({m.role for m in memberships})


def _queue_condition(actor: Any) -> Q | None:
    """Per membership: its role's kinds within its unit's subtree; None when nothing is held back."""
    if _is_superuser(actor):
        return None
    memberships = _queue_memberships(actor)
    parts: list[Q] = []
    for m in memberships:
        within = Q(org_unit__path__startswith=m.org_unit.path)
        if m.role in ALL_KINDS_ROLES:
            parts.append(within)
        elif kinds := kinds_for_roles({m.role}):
            parts.append(within & Q(kind__in=kinds))
    return reduce(or_, parts) if parts else Q(pk__in=[])


def _search(q: str) -> Q:
    """Titles carry masked names ("张*明"): a full name typed is searched in its masked form too."""
    text = q.strip()[:100]
    found = Q(title__icontains=text) | Q(subject_id=text)
    if 2 <= len(text) <= 6 and "*" not in text and all("\u4e00" <= ch <= "\u9fff" for ch in text):
        found |= Q(title__contains=mask_name(text))
    return found


def _queue_base(*, actor: Any, filters: QueueFilters) -> QuerySet[WorkItem]:
    """The queue with every filter but the kind (the counts per kind are taken from it)."""
    qs = visible(actor, WorkItem.objects.select_related("org_unit", "assignee"), perm=Perm.WORK_VIEW)
    condition = _queue_condition(actor)
    if condition is not None:
        qs = qs.filter(condition)
    qs = _with_status(qs, filters.status)
    if filters.unit is not None:
        qs = qs.filter(org_unit__path__startswith=filters.unit.path)
    now = timezone.now()
    if filters.due == "overdue":
        qs = qs.filter(status__in=OPEN_STATUSES, due_at__lt=now)
    elif filters.due == "today":
        start = datetime.combine(timezone.localdate(now), time.min, tzinfo=timezone.get_current_timezone())
        qs = qs.filter(due_at__gte=start, due_at__lt=start + timedelta(days=1))
    if filters.assigned == "me":
        qs = qs.filter(assignee=actor)
    elif filters.assigned == "unassigned":
        qs = qs.filter(assignee__isnull=True)
    if filters.q.strip():
        qs = qs.filter(_search(filters.q))
    return qs


def work_queue(*, actor: Any, filters: QueueFilters) -> QuerySet[WorkItem]:
    """The actor's queue: the kinds of their roles in their scope, filtered and sorted.

    Sorted overdue first, then urgent, then by due time unless ``filters.sort`` says otherwise
    (``due``, ``-due``, ``kind``, ``unit``; the id breaks ties so pages never overlap).
    """
    qs = _queue_base(actor=actor, filters=filters)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.sort == "due":
        return qs.order_by("due_at", "id")
    if filters.sort == "-due":
        return qs.order_by("-due_at", "-id")
    if filters.sort == "kind":
        return qs.order_by("kind", "due_at", "id")
    if filters.sort == "unit":
        return qs.order_by("org_unit__path", "due_at", "id")
    return _overdue_first(qs)


@dataclass(frozen=True)
class KindCount:
    kind: str
    label: str
    total: int
    overdue: int


def work_queue_counts(*, actor: Any, filters: QueueFilters) -> list[KindCount]:
    """Items and overdue items per kind of the queue under every filter but the kind, in one query.

    Every kind the queue can hold has its count (0 included), in the table's order; a kind not in
    the table (an item from before it) follows, so the counts add up to the list.
    """
    now = timezone.now()
    rows = (
        _queue_base(actor=actor, filters=filters)
        .order_by()
        .values("kind")
        .annotate(total=Count("id"), overdue=Count("id", filter=Q(status__in=OPEN_STATUSES, due_at__lt=now)))
    )
    found = {row["kind"]: (row["total"], row["overdue"]) for row in rows}
    kinds = queue_kinds(actor=actor)
    kinds += sorted(set(found) - set(kinds))
    return [KindCount(k, kind_label(k), *found.get(k, (0, 0))) for k in kinds]


def overdue_rollup(*, actor: Any, filters: QueueFilters, units: list[OrgUnit]) -> list[dict[str, Any]]:
    """Overdue items of the queue per unit of ``units`` (siblings: one level of the tree) and per
    kind, in one query: ``[{"unit": unit, "kinds": [(label, n)], "total": n}]``, most overdue first.

    ``filters.due`` is ignored (the roll-up is of overdue work by definition).
    """
    if not units:
        return []
    length = len(units[0].path)
    base = _queue_base(actor=actor, filters=QueueFilters(**{**filters.__dict__, "due": "overdue"}))
    rows = (
        base.order_by()
        .annotate(branch=Substr("org_unit__path", 1, length))
        .values("branch", "kind")
        .annotate(n=Count("id"))
    )
    by_path: dict[str, dict[str, int]] = {}
    for row in rows:
        by_path.setdefault(row["branch"], {})[row["kind"]] = row["n"]
    order = {kind: i for i, kind in enumerate(KINDS)}
    result = []
    for unit in units:
        counts = by_path.get(unit.path, {})
        kinds = sorted(counts, key=lambda k: (order.get(k, len(order)), k))
        result.append(
            {
                "unit": unit,
                "kinds": [(kind_label(k), counts[k]) for k in kinds],
                "total": sum(counts.values()),
            }
        )
    return sorted(result, key=lambda r: (-r["total"], r["unit"].path))


@dataclass(frozen=True)
class UnitPicker:
    """One step of the cascade over the org tree: the chain down to the unit in view, and its
    children to narrow to (a few dozen at most at any level, never the whole tree)."""

    crumbs: list[OrgUnit]
    current: OrgUnit | None
    choices: list[OrgUnit]


def unit_picker(*, actor: Any, unit: OrgUnit | None) -> UnitPicker:
    """The cascade for ``unit`` (None: the top of the actor's scope for work)."""
    if unit is None:
        roots = (
            list(OrgUnit.objects.filter(parent__isnull=True).order_by("path"))
            if _is_superuser(actor)
            else scope_roots(actor, Perm.WORK_VIEW)
        )
        if len(roots) != 1:
            return UnitPicker(crumbs=[], current=None, choices=roots)
        top = roots[0]
        return UnitPicker(crumbs=[top], current=top, choices=org_unit_children(actor=actor, unit=top))
    tops = [r.path for r in scope_roots(actor, Perm.WORK_VIEW)]
    above = [
        a
        for a in org_unit_ancestors(unit=unit)
        if _is_superuser(actor) or any(a.path.startswith(t) for t in tops)
    ]
    return UnitPicker(crumbs=[*above, unit], current=unit, choices=org_unit_children(actor=actor, unit=unit))


# --- single items and batches ----------------------------------------------------------------


def work_item_get(*, actor: Any, item_id: int) -> WorkItem:
    qs = WorkItem.objects.select_related("org_unit", "assignee")
    return visible_get(actor, qs, perm=Perm.WORK_VIEW, pk=item_id, what="work item")


def work_items_visible(*, actor: Any, ids: Iterable[int]) -> list[WorkItem]:
    """The items among ``ids`` that the actor may see, in one query (the rest are out of scope or
    do not exist: a bulk action counts them as refused without saying which is which)."""
    wanted = sorted({int(pk) for pk in ids})
    if not wanted:
        return []
    qs = visible(actor, WorkItem.objects.select_related("org_unit"), perm=Perm.WORK_VIEW)
    return list(qs.filter(pk__in=wanted).order_by("pk"))


def colleagues_for(*, item: WorkItem) -> list[Any]:
    """Users who may be given ``item``: they hold, over its unit, a role that does this kind of work
    (the table of kinds: its role and those that see it too) — a fever follow-up goes to a grid
    worker, not to the lab. A kind outside the table may go to anyone who sees work there."""
    rule = KINDS.get(item.kind)
    roles = (
        [rule.role, *rule.also] if rule is not None else [r for r in Role if role_grants(r, Perm.WORK_VIEW)]
    )
    memberships = Membership.objects.filter(
        org_unit__path__in=item.org_unit.lineage_paths, role__in=roles, user__is_active=True
    ).select_related("user")
    users = {m.user_id: m.user for m in memberships}
    return sorted(users.values(), key=lambda user: user.get_username())


def overdue_count(*, actor: Any) -> int:
    return work_item_list(actor=actor).filter(due_at__lt=timezone.now()).count()


def urgent_open(*, actor: Any) -> QuerySet[WorkItem]:
    """Open urgent items of the actor's queue, newest first: a fresh alert (a fever) is seen at once,
    above the list, however many older items are overdue."""
    qs = visible(actor, WorkItem.objects.select_related("org_unit"), perm=Perm.WORK_VIEW)
    condition = _queue_condition(actor)
    if condition is not None:
        qs = qs.filter(condition)
    return qs.filter(status__in=OPEN_STATUSES, priority="urgent").order_by("-created_at", "-id")
