"""The invariant of the work about quarantine orders and people (see ``worklist.lifecycle``).

- An open item about an order that has ended (released, cancelled, converted) is stale.
- An open "missing check" item is stale once a check for its day came in (``check.recorded``).
- An open sampling item is stale when its day's test has a result (``test.resulted``) or the order
  has no test that day any more (``order.shortened``); an open transfer, when the order has a room.
- A pending test day of a live order with no sampling item at all (open or closed: a sample taken
  by hand and awaiting its result is fine) is missing its item.
- An open item about a person merged into another is stale: it belongs to the person kept.
"""

from __future__ import annotations

from functools import partial

from django.utils import timezone

from fangkong.people.models import Person
from fangkong.quarantine.models import (
    LIVE_STATUSES,
    DailyCheck,
    OrderStatus,
    QuarantineOrder,
    TestAppointment,
    TestResult,
)
from fangkong.quarantine.orders import sample_item_create
from fangkong.worklist.kinds import ORDER, PERSON, Event
from fangkong.worklist.lifecycle import MISSING, STALE, Finding, open_items_about, stale
from fangkong.worklist.models import WorkItem
from fangkong.worklist.services import work_items_move

ENDED_BY = {
    OrderStatus.RELEASED: Event.ORDER_RELEASED,
    OrderStatus.CANCELLED: Event.ORDER_CANCELLED,
    OrderStatus.CONVERTED: Event.ORDER_CONVERTED,
}


def order_work_check() -> list[Finding]:
    """Every exception among the items about quarantine orders (module rules)."""
    items = open_items_about(ORDER)
    ids = {int(i.subject_id) for i in items if i.subject_id.isdigit()}
    orders = {o.pk: o for o in QuarantineOrder.objects.filter(pk__in=ids).only("id", "status", "room_id")}
    tests = {
        (t.order_id, t.date): t.result
        for t in TestAppointment.objects.filter(order_id__in=ids).only("order_id", "date", "result")
    }
    checked = {
        (order_id, day.isoformat())
        for order_id, day in DailyCheck.objects.filter(order_id__in=ids).values_list("order_id", "date")
    }
    findings = []
    for item in items:
        order = orders.get(int(item.subject_id)) if item.subject_id.isdigit() else None
        if order is None:
            continue
        if order.status not in LIVE_STATUSES:
            findings.append(stale(item, ENDED_BY[OrderStatus(order.status)]))
        elif item.kind == "quarantine.sample":
            result = tests.get((order.pk, timezone.localdate(item.due_at)))
            if result is None:
                findings.append(stale(item, Event.ORDER_SHORTENED))
            elif result != TestResult.PENDING:
                findings.append(stale(item, Event.TEST_RESULTED))
        elif item.kind == "quarantine.transfer" and order.room_id is not None:
            findings.append(stale(item, Event.ORDER_ROOM))
        elif item.kind == "quarantine.missing_check" and (order.pk, item.note[:10]) in checked:
            findings.append(stale(item, Event.CHECK_RECORDED))
    return findings + _missing_samples()


def _missing_samples() -> list[Finding]:
    pending = list(
        TestAppointment.objects.filter(
            order__status__in=LIVE_STATUSES, result=TestResult.PENDING
        ).select_related("order__person", "order__org_unit")
    )
    orders = {str(t.order_id) for t in pending}
    have = {
        (int(subject), timezone.localdate(due))
        for subject, due in WorkItem.objects.filter(
            kind="quarantine.sample", subject_type=ORDER, subject_id__in=orders
        ).values_list("subject_id", "due_at")
    }
    return [
        Finding(
            problem=MISSING,
            kind="quarantine.sample",
            subject_type=ORDER,
            subject_id=str(t.order_id),
            why=f"day {t.day} ({t.date.isoformat()}) has no sampling item",
            repair=partial(sample_item_create, order=t.order, appointment=t),
        )
        for t in pending
        if (t.order_id, t.date) not in have
    ]


def person_work_check() -> list[Finding]:
    """Open items about a person merged into another: they move to the person kept."""
    items = open_items_about(PERSON)
    merged = dict(
        Person.objects.filter(
            pk__in=[int(i.subject_id) for i in items if i.subject_id.isdigit()], merged_into__isnull=False
        ).values_list("pk", "merged_into_id")
    )
    return [
        Finding(
            problem=STALE,
            kind=item.kind,
            subject_type=PERSON,
            subject_id=item.subject_id,
            why=f"the person was merged into #{merged[int(item.subject_id)]}",
            item_id=item.pk,
            event=Event.PERSON_MERGED,
            repair=partial(
                work_items_move,
                actor=None,
                subject_type=PERSON,
                from_id=item.subject_id,
                to_id=merged[int(item.subject_id)],
            ),
        )
        for item in items
        if item.subject_id.isdigit() and int(item.subject_id) in merged
    ]
