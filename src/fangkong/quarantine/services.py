"""Orders from the protocol, rooms, test results, release. Daily checks are in ``monitoring``.

The cross-domain flow "a contact is confirmed → orders → work items" is started by the contacts
app and written here: ``orders_for_contact`` computes every stage from the active profile.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.audit.services import audit_record, audit_record_many
from fangkong.cases.services import case_register_by_rule
from fangkong.common.errors import Conflict, Forbidden, Invalid
from fangkong.common.protocol import active_profile
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can
from fangkong.people.masking import mask_name
from fangkong.people.models import Person
from fangkong.protocols import QuarantineRule
from fangkong.quarantine.conversion import orders_convert
from fangkong.quarantine.models import (
    LIVE_STATUSES,
    OrderKind,
    OrderStatus,
    QuarantineOrder,
    Room,
    TestAppointment,
    TestResult,
)
from fangkong.worklist.kinds import ORDER, Event
from fangkong.worklist.services import work_item_create, work_items_end

SAMPLING_HOUR = time(10, 0)  # platform: a test day's sampling is due by 10:00 local


def require_change(actor: Any, order: QuarantineOrder) -> None:
    if not (
        can(actor, Perm.QUARANTINE_CHANGE, order.org_unit)
        or (order.site is not None and can(actor, Perm.QUARANTINE_CHANGE, order.site.org_unit))
    ):
        raise Forbidden(_("Your role may not change this quarantine order."))


def _local(day: date, at: time) -> datetime:
    return timezone.make_aware(datetime.combine(day, at))


def _add_tests(order: QuarantineOrder, rule: QuarantineRule, last_exposure: datetime) -> None:
    known = set(order.tests.values_list("date", flat=True))
    for when in rule.test_dates(last_exposure):
        if when in known:
            continue
        day = (when - order.day_one).days + 1  # counted from the order's own day 1, also when extended
        sample_item_create(
            order=order, appointment=TestAppointment.objects.create(order=order, day=day, date=when)
        )


def sample_item_create(*, order: QuarantineOrder, appointment: TestAppointment) -> None:
    """The lab's work for one test day of ``order``: take the sample, due by 10:00 that day."""
    work_item_create(
        actor=None,
        kind="quarantine.sample",
        subject=order,
        org_unit=order.org_unit,
        title=_("Take a sample: %(p)s, day %(d)d")
        % {"p": mask_name(order.person.name), "d": appointment.day},
        due_at=_local(appointment.date, SAMPLING_HOUR),
    )


def _first_step_item(order: QuarantineOrder, *, due_at: datetime) -> None:
    who = mask_name(order.person.name)
    if order.kind == OrderKind.CENTRALISED:
        kind, title = "quarantine.transfer", _("Transfer %(p)s to a quarantine site") % {"p": who}
    else:
        kind, title = "quarantine.notice", _("Deliver the quarantine notice to %(p)s") % {"p": who}
    work_item_create(
        actor=None,
        kind=kind,
        title=title,
        org_unit=order.org_unit,
        due_at=due_at,
        subject=order,
        priority="urgent",
    )


@transaction.atomic
def orders_for_contact(*, actor: Any, contact: Any, confirmed_at: datetime) -> list[QuarantineOrder]:
    """The orders the protocol gives a confirmed contact, created or extended.

    Stages are those of the contact's kind: close contacts get the quarantine and its follow-on,
    secondary contacts theirs when the protocol tracks them. A stage whose kind the person already
    has a live order of extends that order to the later dates (new test days added) instead of
    making a second one; a stage with no live order of its kind is created, and a live order that
    now comes after a new one waits for it (e.g. someone on home health monitoring who is a close
    contact again goes back to centralised quarantine first).
    """
    profile = active_profile()
    if contact.kind == "close":
        rules = list(profile.close_contact.stages)
    elif profile.secondary_contact.tracked and profile.secondary_contact.quarantine is not None:
        rules = [profile.secondary_contact.quarantine]
    else:
        return []
    person, exposure = contact.person, contact.last_exposure
    Person.objects.select_for_update().filter(pk=person.pk).values_list(
        "pk", flat=True
    ).first()  # one chain at a time
    live = list(
        QuarantineOrder.objects.select_for_update()
        .filter(person=person, status__in=LIVE_STATUSES)
        .order_by("day_one", "id")
    )
    orders: list[QuarantineOrder] = []
    previous: QuarantineOrder | None = None
    created_before = False
    for rule in rules:
        order = next((o for o in live if o.kind == rule.kind and o not in orders), None)
        if order is not None:
            extend_order(actor=actor, order=order, rule=rule, exposure=exposure)
            if created_before and previous is not None and order.follows_id != previous.pk:
                QuarantineOrder.objects.filter(follows=previous).exclude(pk=order.pk).update(follows=None)
                _replan(actor, order, rule, exposure, follows=previous)
        else:
            order = _create(actor, contact, rule, exposure, previous=previous, profile_name=profile.name)
            if previous is None:
                _first_step_item(
                    order, due_at=confirmed_at + timedelta(hours=profile.timeliness.contact_control_hours)
                )
            created_before = True
        orders.append(order)
        previous = order
    if contact.kind == "close":
        _supersede(
            actor,
            [o for o in live if o not in orders and o.kind == OrderKind.HOME],
            by=orders,
            at=confirmed_at,
        )
    return orders


def _supersede(actor: Any, others: list[QuarantineOrder], *, by: list[QuarantineOrder], at: datetime) -> None:
    """Home quarantine of a secondary contact who is now a close contact is cancelled with its work
    when the close contact's chain covers it to its end: one person, one chain of orders. (A chain
    is never superseded by a secondary contact's weaker order.)"""
    end = max(o.planned_end for o in by)
    covered = [o for o in others if o.planned_end <= end]
    if not covered:
        return
    note = _("Superseded by order %(o)d.") % {"o": by[0].pk}
    QuarantineOrder.objects.filter(pk__in=[o.pk for o in covered]).update(
        status=OrderStatus.CANCELLED, ended_at=at, note=note, updated_at=timezone.now()
    )
    QuarantineOrder.objects.filter(follows__in=covered).exclude(pk__in=[o.pk for o in by]).update(
        follows=None
    )
    ids = [o.pk for o in covered]
    work_items_end(
        actor=actor, event=Event.ORDER_CANCELLED, subject_type=ORDER, subject_ids=ids, at=at, reason=note
    )
    audit_record_many(
        actor=actor, action="quarantine.order.supersede", targets=covered, after=lambda o: {"by": by[0].pk}
    )


def _replan(
    actor: Any, order: QuarantineOrder, rule: QuarantineRule, exposure: datetime, *, follows: QuarantineOrder
) -> None:
    """A live order now waits for a new one (``follows``): it starts again on its rule's day 1 for
    ``exposure``; its pending test days before that are dropped with their sampling items (they
    would fall while it waits), and the days of its new span are added — re-dated, not doubled."""
    order.follows, order.status, order.day_one = follows, OrderStatus.PLANNED, rule.day_one(exposure)
    order.save(update_fields=["follows", "status", "day_one", "updated_at"])
    _drop_tests_before_day_one(actor, order)
    _add_tests(order, rule, exposure)


def _drop_tests_before_day_one(actor: Any, order: QuarantineOrder) -> None:
    """Pending test days before the order's (new) day 1 go, with their sampling items."""
    early = order.tests.filter(result=TestResult.PENDING, date__lt=order.day_one)
    if early.exists():
        early.delete()
        work_items_end(
            actor=actor,
            event=Event.ORDER_SHORTENED,
            subject_type=ORDER,
            subject_ids=[order.pk],
            due_before=_local(order.day_one, time.min),
        )


def extend_order(*, actor: Any, order: QuarantineOrder, rule: QuarantineRule, exposure: datetime) -> None:
    """Extend ``order`` to the end ``rule`` gives ``exposure`` (never shorten it): the test days it
    lacks are added with their sampling items; those it has keep theirs."""
    new_end = rule.planned_end(exposure)
    if new_end <= order.planned_end:
        return
    before = order.planned_end
    order.planned_end, order.last_exposure = new_end, exposure
    if order.status == OrderStatus.PLANNED:  # it has not started: it starts later now
        order.day_one = rule.day_one(exposure)
    order.save()
    if order.status == OrderStatus.PLANNED:
        _drop_tests_before_day_one(actor, order)
    _add_tests(order, rule, exposure)
    audit_record(
        actor=actor,
        action="quarantine.order.extend",
        target=order,
        before={"planned_end": before.isoformat()},
        after={"planned_end": new_end.isoformat()},
    )


def _create(
    actor: Any,
    contact: Any,
    rule: QuarantineRule,
    exposure: datetime,
    *,
    previous: QuarantineOrder | None,
    profile_name: str,
) -> QuarantineOrder:
    person = contact.person
    order = QuarantineOrder.objects.create(
        person=person,
        contact=contact,
        org_unit=person.org_unit,
        kind=rule.kind,
        protocol=profile_name,
        status=OrderStatus.ACTIVE if previous is None else OrderStatus.PLANNED,
        last_exposure=exposure,
        day_one=rule.day_one(exposure),
        planned_end=rule.planned_end(exposure),
        follows=previous,
    )
    _add_tests(order, rule, exposure)
    audit_record(
        actor=actor,
        action="quarantine.order.create",
        target=order,
        after={
            "kind": order.kind,
            "day_one": order.day_one.isoformat(),
            "planned_end": order.planned_end.isoformat(),
        },
    )
    return order


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
