"""Orders from the protocol for confirmed contacts: created in bulk, or extended.

``orders_for_contacts`` takes a set of confirmed contacts and writes every stage of the protocol's
orders for them, with their test days and work items, in a constant number of queries: the people
are locked once (in id order, so two batches never wait on each other in a circle), their live
orders read once, and the orders, tests, work items and audit events of the people with no live
order are bulk-inserted stage by stage. A person who already has a live order (rare: someone in
quarantine who is a contact again) goes through the chain rules of ``_chain_extend``, which
creates the stages it lacks through the same bulk writer. ``orders_for_contact`` is the batch of
one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.audit.services import audit_record, audit_record_many
from fangkong.common.protocol import active_profile
from fangkong.common.rows import objects_insert, rows_insert
from fangkong.people.masking import mask_name
from fangkong.people.models import Person
from fangkong.protocols import Profile, QuarantineRule
from fangkong.quarantine.models import (
    LIVE_STATUSES,
    OrderKind,
    OrderStatus,
    QuarantineOrder,
    TestAppointment,
    TestResult,
)
from fangkong.worklist.kinds import ORDER, Event
from fangkong.worklist.services import NewItem, work_items_create, work_items_end

SAMPLING_HOUR = time(10, 0)  # platform: a test day's sampling is due by 10:00 local


def _local(day: date, at: time) -> datetime:
    return timezone.make_aware(datetime.combine(day, at))


def _chunks(ids: Sequence[int], size: int = 5000) -> list[Sequence[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def _sample_items(
    order_days: Sequence[tuple[QuarantineOrder, int, date]], names: dict[int, str]
) -> list[NewItem]:
    """The lab's work for each test day (order, day, date): take the sample, due by 10:00 that
    day; ``names`` gives each order's person (by person id)."""
    title = _("Take a sample: %(p)s, day %(d)d")
    due: dict[date, datetime] = {}
    masked = {pk: mask_name(name) for pk, name in names.items()}
    items = []
    for order, day, when in order_days:
        if when not in due:
            due[when] = _local(when, SAMPLING_HOUR)
        items.append(
            NewItem(
                kind="quarantine.sample",
                subject=order,
                org_unit_id=order.org_unit_id,
                title=title % {"p": masked[order.person_id], "d": day},
                due_at=due[when],
            )
        )
    return items


def sample_item_create(*, order: QuarantineOrder, appointment: TestAppointment) -> None:
    """The sampling item of one test day (a repair of ``fangkong check-work --fix``)."""
    items = _sample_items([(order, appointment.day, appointment.date)], {order.person_id: order.person.name})
    work_items_create(actor=None, items=items)


def _first_step(order: QuarantineOrder, name: str, *, due_at: datetime) -> NewItem:
    """Transfer to a site (centralised) or deliver the notice (home): the step that puts the
    person under control, due within the protocol's hours of the confirmation."""
    who = mask_name(name)
    if order.kind == OrderKind.CENTRALISED:
        kind, title = "quarantine.transfer", _("Transfer %(p)s to a quarantine site") % {"p": who}
    else:
        kind, title = "quarantine.notice", _("Deliver the quarantine notice to %(p)s") % {"p": who}
    return NewItem(
        kind=kind, title=title, org_unit_id=order.org_unit_id, due_at=due_at, subject=order, priority="urgent"
    )


@dataclass(frozen=True)
class _New:
    """One order to create: the contact it is for, its rule, and the order it follows."""

    contact: Any
    rule: QuarantineRule
    previous: QuarantineOrder | None
    first_step_due: datetime | None  # the first stage of a new chain gets its first step


def _orders_create(*, actor: Any, new: Sequence[_New], profile: Profile) -> list[QuarantineOrder]:
    """The one writer of new orders: the orders, their test days, the sampling and first-step
    items and the audit events, each in one bulk insert."""
    if not new:
        return []
    orders = objects_insert(
        [
            QuarantineOrder(
                person_id=n.contact.person_id,
                contact=n.contact,
                org_unit_id=n.contact.person.org_unit_id,
                kind=n.rule.kind,
                protocol=profile.name,
                status=OrderStatus.ACTIVE if n.previous is None else OrderStatus.PLANNED,
                last_exposure=n.contact.last_exposure,
                day_one=n.rule.day_one(n.contact.last_exposure),
                planned_end=n.rule.planned_end(n.contact.last_exposure),
                follows=n.previous,
            )
            for n in new
        ]
    )
    days = [
        (order, (when - order.day_one).days + 1, when)
        for n, order in zip(new, orders, strict=True)
        for when in n.rule.test_dates(n.contact.last_exposure)
    ]
    rows_insert(
        TestAppointment,
        columns=("order", "day", "date", "result"),
        rows=[(order.pk, day, when, TestResult.PENDING) for order, day, when in days],
    )
    names = {n.contact.person_id: n.contact.person.name for n in new}
    items = _sample_items(days, names)
    items += [
        _first_step(order, names[order.person_id], due_at=n.first_step_due)
        for n, order in zip(new, orders, strict=True)
        if n.first_step_due is not None
    ]
    work_items_create(actor=None, items=items)
    audit_record_many(
        actor=actor,
        action="quarantine.order.create",
        targets=orders,
        after=lambda o: {
            "kind": o.kind,
            "day_one": o.day_one.isoformat(),
            "planned_end": o.planned_end.isoformat(),
        },
    )
    return list(orders)


def _stages(profile: Profile, kind: str) -> list[QuarantineRule]:
    """The stages of orders a confirmed contact of ``kind`` gets from the protocol."""
    if kind == "close":
        return list(profile.close_contact.stages)
    if kind == "secondary" and profile.secondary_contact.tracked and profile.secondary_contact.quarantine:
        return [profile.secondary_contact.quarantine]
    return []


@transaction.atomic
def orders_for_contacts(
    *, actor: Any, contacts: Sequence[Any], confirmed_at: datetime
) -> dict[int, list[QuarantineOrder]]:
    """The orders the protocol gives each confirmed contact (``{contact id: orders}``), created
    or extended; ``contact.person`` must be loaded. Each person appears at most once in a batch."""
    profile = active_profile()
    wanted = [c for c in contacts if _stages(profile, c.kind)]
    people = sorted({c.person_id for c in wanted})
    live: dict[int, list[QuarantineOrder]] = {}
    for chunk in _chunks(people):
        list(
            Person.objects.select_for_update()
            .filter(pk__in=chunk)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for order in (
            QuarantineOrder.objects.select_for_update()
            .filter(person_id__in=chunk, status__in=LIVE_STATUSES)
            .order_by("day_one", "id")
        ):
            live.setdefault(order.person_id, []).append(order)
    fresh = [c for c in wanted if c.person_id not in live]
    made: dict[int, list[QuarantineOrder]] = {c.pk: [] for c in contacts}
    due = confirmed_at + timedelta(hours=profile.timeliness.contact_control_hours)
    previous: dict[int, QuarantineOrder | None] = {c.pk: None for c in fresh}
    for index in range(max((len(_stages(profile, c.kind)) for c in fresh), default=0)):
        stage = [c for c in fresh if len(_stages(profile, c.kind)) > index]
        orders = _orders_create(
            actor=actor,
            new=[
                _New(c, _stages(profile, c.kind)[index], previous[c.pk], due if index == 0 else None)
                for c in stage
            ],
            profile=profile,
        )
        for contact, order in zip(stage, orders, strict=True):
            made[contact.pk].append(order)
            previous[contact.pk] = order
    for contact in wanted:
        if contact.person_id in live:
            made[contact.pk] = _chain_extend(
                actor, contact, live[contact.person_id], profile=profile, due=due, at=confirmed_at
            )
    return made


def orders_for_contact(*, actor: Any, contact: Any, confirmed_at: datetime) -> list[QuarantineOrder]:
    """The batch of one of ``orders_for_contacts``."""
    return orders_for_contacts(actor=actor, contacts=[contact], confirmed_at=confirmed_at)[contact.pk]


def _chain_extend(
    actor: Any, contact: Any, live: list[QuarantineOrder], *, profile: Profile, due: datetime, at: datetime
) -> list[QuarantineOrder]:
    """The chain of a person who already has live orders.

    A stage whose kind the person already has a live order of extends that order to the later
    dates (new test days added) instead of making a second one; a stage with no live order of its
    kind is created, and a live order that now comes after a new one waits for it (someone on home
    health monitoring who is a close contact again goes back to centralised quarantine first). A
    close contact's chain supersedes a secondary contact's home quarantine that it covers."""
    exposure = contact.last_exposure
    orders: list[QuarantineOrder] = []
    previous: QuarantineOrder | None = None
    created_before = False
    for rule in _stages(profile, contact.kind):
        order = next((o for o in live if o.kind == rule.kind and o not in orders), None)
        if order is not None:
            extend_order(actor=actor, order=order, rule=rule, exposure=exposure)
            if created_before and previous is not None and order.follows_id != previous.pk:
                QuarantineOrder.objects.filter(follows=previous).exclude(pk=order.pk).update(follows=None)
                _replan(actor, order, rule, exposure, follows=previous)
        else:
            (order,) = _orders_create(
                actor=actor,
                new=[_New(contact, rule, previous, due if previous is None else None)],
                profile=profile,
            )
            created_before = True
        orders.append(order)
        previous = order
    if contact.kind == "close":
        _supersede(actor, [o for o in live if o not in orders and o.kind == OrderKind.HOME], by=orders, at=at)
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


def _add_tests(order: QuarantineOrder, rule: QuarantineRule, last_exposure: datetime) -> None:
    """The test days ``rule`` gives ``last_exposure`` that ``order`` lacks, with their sampling
    items; a day is counted from the order's own day 1, also when it was extended."""
    known = set(order.tests.values_list("date", flat=True))
    tests = TestAppointment.objects.bulk_create(
        [
            TestAppointment(order=order, day=(when - order.day_one).days + 1, date=when)
            for when in rule.test_dates(last_exposure)
            if when not in known
        ]
    )
    items = _sample_items([(order, t.day, t.date) for t in tests], {order.person_id: order.person.name})
    work_items_create(actor=None, items=items)


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
