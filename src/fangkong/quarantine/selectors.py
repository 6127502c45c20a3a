"""Reads of quarantine: orders, occupancy, early-release proposals."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import visible, visible_get
from fangkong.quarantine.models import (
    LIVE_STATUSES,
    OrderStatus,
    QuarantineOrder,
    Room,
    Site,
    TestAppointment,
)


def order_list(
    *, actor: Any, status: str = "live", person_id: int | None = None
) -> QuerySet[QuarantineOrder]:
    qs = visible(
        actor,
        QuarantineOrder.objects.select_related("person", "org_unit", "site", "room__site"),
        perm=Perm.QUARANTINE_VIEW,
    )
    if status == "live":
        qs = qs.filter(status__in=LIVE_STATUSES)
    elif status:
        qs = qs.filter(status=status)
    if person_id is not None:
        qs = qs.filter(person_id=person_id)
    return qs.order_by("planned_end", "id")


def order_get(*, actor: Any, order_id: int) -> QuarantineOrder:
    qs = QuarantineOrder.objects.select_related(
        "person", "org_unit", "site__org_unit", "room", "contact__source_case"
    )
    return visible_get(actor, qs, perm=Perm.QUARANTINE_VIEW, pk=order_id, what="quarantine order")


def test_get(*, actor: Any, test_id: int) -> TestAppointment:
    qs = TestAppointment.objects.select_related("order__person", "order__org_unit", "order__site__org_unit")
    return visible_get(actor, qs, perm=Perm.QUARANTINE_VIEW, pk=test_id, what="test")


def early_release_proposals(*, actor: Any) -> QuerySet[QuarantineOrder]:
    """Live orders whose case was excluded after its contacts were isolated: propose ending them."""
    return order_list(actor=actor, status=OrderStatus.ACTIVE).filter(
        contact__source_case__classification="excluded"
    )


def free_rooms(*, site: Site) -> list[Room]:
    rooms = site.rooms.annotate(taken=Count("orders", filter=Q(orders__status=OrderStatus.ACTIVE)))
    return [room for room in rooms if room.taken < room.capacity]


def site_occupancy(*, actor: Any) -> list[dict[str, Any]]:
    """Per site in scope: rooms, beds, beds taken by active orders, and the share taken."""
    sites = visible(actor, Site.objects.select_related("org_unit"), perm=Perm.QUARANTINE_VIEW).order_by(
        "name"
    )
    beds = dict(
        Room.objects.filter(site__in=sites)
        .values("site")
        .annotate(beds=Sum("capacity"))
        .values_list("site", "beds")
    )
    rooms = dict(
        Room.objects.filter(site__in=sites).values("site").annotate(n=Count("id")).values_list("site", "n")
    )
    taken = dict(
        QuarantineOrder.objects.filter(  # by the rooms: only the orders in a bed are read
            room__in=Room.objects.filter(site__in=sites), status=OrderStatus.ACTIVE
        )
        .values("room__site")
        .annotate(n=Count("id"))
        .values_list("room__site", "n")
    )
    rows = []
    for site in sites:
        total, used = beds.get(site.pk) or 0, taken.get(site.pk) or 0
        rows.append(
            {
                "site": site,
                "rooms": rooms.get(site.pk) or 0,
                "beds": total,
                "taken": used,
                "free": total - used,
                "percent": round(100 * used / total) if total else 0,
            }
        )
    return rows
