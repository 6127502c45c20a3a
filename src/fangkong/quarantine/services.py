"""Rooms, test results, release of quarantine orders. Daily checks are in ``monitoring``; the
orders a confirmed contact gets from the protocol are written by ``orders``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.audit.services import audit_record
from fangkong.cases.services import case_register_by_rule
from fangkong.common.errors import Conflict, Forbidden, Invalid
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can
from fangkong.quarantine.conversion import orders_convert
from fangkong.quarantine.models import (
    OrderKind,
    OrderStatus,
    QuarantineOrder,
    Room,
    TestAppointment,
    TestResult,
)
from fangkong.worklist.kinds import ORDER, Event
from fangkong.worklist.services import work_items_end


def require_change(actor: Any, order: QuarantineOrder) -> None:
    if not (
        can(actor, Perm.QUARANTINE_CHANGE, order.org_unit)
        or (order.site is not None and can(actor, Perm.QUARANTINE_CHANGE, order.site.org_unit))
    ):
        raise Forbidden(_("Your role may not change this quarantine order."))


@transaction.atomic
def order_assign_room(
    *, actor: Any, order: QuarantineOrder, room: Room, at: datetime | None = None
) -> QuarantineOrder:
    """Put the person of a centralised order in ``room``; refused when the room is full."""
    require_change(actor, order)
    if order.kind != OrderKind.CENTRALISED or order.status != OrderStatus.ACTIVE:
        raise Conflict(_("Only an active centralised quarantine gets a room."))
    locked = Room.objects.select_for_update().select_related("site").get(pk=room.pk)
    taken = (
        QuarantineOrder.objects.filter(room=locked, status=OrderStatus.ACTIVE).exclude(pk=order.pk).count()
    )
    if taken >= locked.capacity:
        raise Conflict(
            _("Room %(r)s is full (%(n)d of %(c)d beds taken).")
            % {"r": locked, "n": taken, "c": locked.capacity}
        )
    order.site, order.room = locked.site, locked
    order.save(update_fields=["site", "room", "updated_at"])
    work_items_end(
        actor=actor,
        event=Event.ORDER_ROOM,
        subject_type=ORDER,
        subject_ids=[order.pk],
        at=at,
        reason=str(locked),
    )
    audit_record(actor=actor, action="quarantine.order.room", target=order, after={"room": str(locked)})
    return order


def result_refusal(*, test: TestAppointment, order: QuarantineOrder, at: datetime) -> str:
    """Why ``test`` cannot take a result at ``at`` (``resulted``, ``not_active``, ``not_due``), or
    "" when it can: the rules of one result, and of each test of a batch (``lab.lab_results_record``)."""
    if test.result != TestResult.PENDING:
        return "resulted"
    if order.status != OrderStatus.ACTIVE:
        return "not_active"
    if timezone.localdate(at) < test.date:
        return "not_due"
    return ""


@transaction.atomic
def lab_result_record(
    *, actor: Any, appointment: TestAppointment, result: str, at: datetime | None = None
) -> TestAppointment:
    """Record a test result of an active order, on or after its day. A positive result turns the
    person into a suspected case and the order into ``converted`` (its follow-on is cancelled)."""
    order = _lock(appointment.order)
    require_change(actor, order)
    appointment = TestAppointment.objects.select_for_update().get(pk=appointment.pk)
    if result not in (TestResult.NEGATIVE, TestResult.POSITIVE):
        raise Invalid.field("result", _("A result is negative or positive."))
    at = at or timezone.now()
    refusal = result_refusal(test=appointment, order=order, at=at)
    if refusal == "resulted":
        raise Conflict(_("This test already has a result (%(r)s).") % {"r": appointment.get_result_display()})
    if refusal == "not_active":
        raise Conflict(
            _("Results are recorded for active orders; this one is %(s)s.")
            % {"s": order.get_status_display()}
        )
    if at > timezone.now():
        raise Invalid.field("result_at", _("The time is in the future."))
    if refusal == "not_due":
        raise Invalid.field("result", _("This test is due on %(d)s.") % {"d": appointment.date.isoformat()})
    appointment.result, appointment.result_at = result, at
    appointment.save(update_fields=["result", "result_at"])
    work_items_end(
        actor=actor,
        event=Event.TEST_RESULTED,
        subject_type=ORDER,
        subject_ids=[order.pk],
        at=at,
        due_on=appointment.date,
        reason=appointment.get_result_display(),
    )
    audit_record(
        actor=actor,
        action=f"quarantine.test.{result}",
        target=order,
        after={"date": appointment.date.isoformat()},
    )
    if result == TestResult.POSITIVE:
        case = case_register_by_rule(
            actor=actor,
            person=order.person,
            reported_at=at,
            note=_("Positive test on day %(d)d of quarantine.") % {"d": appointment.day},
        )
        orders_convert(actor=actor, person=order.person, case=case, at=at)
    return appointment


def _lock(order: QuarantineOrder) -> QuarantineOrder:
    """Lock the order for this transaction and read its current state into it."""
    QuarantineOrder.objects.select_for_update().filter(pk=order.pk).values_list("pk", flat=True).first()
    order.refresh_from_db()
    return order


@transaction.atomic
def order_release(
    *, actor: Any, order: QuarantineOrder, at: datetime | None = None, early: bool = False, reason: str = ""
) -> QuarantineOrder:
    """Release at the planned end when every test so far is negative; the follow-on order starts.

    ``early`` release (before the planned end, tests notwithstanding) is only for orders whose case
    was excluded, and needs a reason; the follow-on order is then cancelled, not started.
    """
    require_change(actor, order)
    _lock(order)
    at = at or timezone.now()
    if order.status != OrderStatus.ACTIVE:
        raise Conflict(_("Cannot release an order that is %(s)s.") % {"s": order.get_status_display()})
    if early:
        if order.contact is None or order.contact.source_case.classification != "excluded":
            raise Conflict(_("Early release is for orders whose case was excluded; this case was not."))
        if not reason.strip():
            raise Invalid.field("reason", _("Say why the order ends early."))
    else:
        if at < order.planned_end:
            raise Conflict(
                _("The order runs until %(t)s.")
                % {"t": timezone.localtime(order.planned_end).strftime("%Y-%m-%d %H:%M")}
            )
        missing = [t for t in order.tests.all() if t.result != TestResult.NEGATIVE]
        if missing:
            days = "、".join(str(t.day) for t in missing)
            raise Conflict(_("Release needs negative tests; day(s) %(d)s have none.") % {"d": days})
    order.status, order.ended_at = OrderStatus.RELEASED, at
    order.note = reason.strip()[:500] if early else order.note
    order.save(update_fields=["status", "ended_at", "note", "updated_at"])
    follow_on = list(
        QuarantineOrder.objects.filter(follows=order, status=OrderStatus.PLANNED).values_list("pk", flat=True)
    )
    QuarantineOrder.objects.filter(pk__in=follow_on).update(
        status=OrderStatus.CANCELLED if early else OrderStatus.ACTIVE, ended_at=at if early else None
    )
    work_items_end(
        actor=actor,
        event=Event.ORDER_RELEASED,
        subject_type=ORDER,
        subject_ids=[order.pk],
        at=at,
        reason=reason,
    )
    if early:
        work_items_end(
            actor=actor, event=Event.ORDER_CANCELLED, subject_type=ORDER, subject_ids=follow_on, at=at
        )
    audit_record(
        actor=actor,
        action="quarantine.order.release_early" if early else "quarantine.order.release",
        target=order,
        after={"reason": reason.strip()[:200]} if early else None,
    )
    return order
