"""``Contact.controlled_at`` and ``Case.contacts_controlled_at`` follow the rule of
``fangkong.contacts.control`` through the services, and a full refresh (the migration's) agrees."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from fangkong.cases.models import Case
from fangkong.contacts.control import control_refresh
from fangkong.contacts.models import Contact
from fangkong.contacts.services import contact_propose, contact_register
from fangkong.quarantine.models import QuarantineOrder, Room, Site
from fangkong.quarantine.services import order_assign_room
from fangkong.worklist.models import WorkItem
from fangkong.worklist.services import work_item_cancel, work_item_complete
from tests.cases.factories import make_case
from tests.people.factories import make_person

pytestmark = pytest.mark.django_db


def reference(case: Case) -> tuple[dict[int, datetime | None], datetime | None]:
    """The rule restated over plain reads: each confirmed close contact's time, and the case's."""
    times: dict[int, datetime | None] = {}
    for contact in Contact.objects.filter(source_case=case, kind="close", status="confirmed"):
        orders = [
            str(pk) for pk in QuarantineOrder.objects.filter(contact=contact).values_list("pk", flat=True)
        ]
        steps = list(
            WorkItem.objects.filter(
                kind__in=["quarantine.transfer", "quarantine.notice"],
                subject_type="quarantine.quarantineorder",
                subject_id__in=orders,
            )
        )
        if not steps:
            times[contact.pk] = contact.decided_at
        elif all(s.status == "done" for s in steps):
            times[contact.pk] = max(s.done_at for s in steps)
        else:
            times[contact.pk] = None
    whole = max(times.values()) if times and all(t is not None for t in times.values()) else None  # type: ignore[type-var]
    return times, whole


def stored(case: Case) -> tuple[dict[int, datetime | None], datetime | None]:
    contacts = Contact.objects.filter(source_case=case, kind="close", status="confirmed")
    case.refresh_from_db()
    return dict(contacts.values_list("pk", "controlled_at")), case.contacts_controlled_at


def register(case: Case, *, actor, grid, person=None) -> Contact:
    now = timezone.now()
    return contact_register(
        actor=actor,
        case=case,
        person=person or make_person(actor=actor, grid=grid),
        exposure_type="household",
        first_exposure=now - timedelta(hours=30),
        last_exposure=now - timedelta(hours=20),
    )


def first_order(contact: Contact) -> QuarantineOrder:
    return QuarantineOrder.objects.filter(contact=contact).order_by("pk")[0]


def transfer(contact: Contact) -> WorkItem:
    return WorkItem.objects.get(kind="quarantine.transfer", subject_id=str(first_order(contact).pk))


def test_the_stored_times_follow_each_step(tree, epidemiologist):
    case = make_case(actor=epidemiologist, grid=tree.grid_a, classification="confirmed", hours_ago=10)
    assert stored(case) == ({}, None)  # no close contact yet: not "all under control"

    first = register(case, actor=epidemiologist, grid=tree.grid_a)
    second = register(case, actor=epidemiologist, grid=tree.grid_b)
    assert stored(case) == reference(case) == ({first.pk: None, second.pk: None}, None)

    site = Site.objects.create(name="湖贝酒店", org_unit=tree.district)
    room = Room.objects.create(site=site, number="301", capacity=4)
    early = timezone.now() - timedelta(hours=2)
    order_assign_room(actor=epidemiologist, order=first_order(first), room=room, at=early)
    assert stored(case) == reference(case) == ({first.pk: early, second.pk: None}, None)

    late = timezone.now() - timedelta(minutes=5)
    order_assign_room(actor=epidemiologist, order=first_order(second), room=room, at=late)
    assert stored(case) == reference(case) == ({first.pk: early, second.pk: late}, late)

    # a proposed close contact does not hold the case back until it is confirmed
    contact_propose(
        case=case,
        person=make_person(actor=epidemiologist, grid=tree.grid_a),
        kind="close",
        exposure_type="social",
        first_exposure=timezone.now() - timedelta(hours=30),
        last_exposure=timezone.now() - timedelta(hours=25),
        discovered_by="colocation",
    )
    assert stored(case) == reference(case)
    assert stored(case)[1] == late


def test_a_contact_already_in_quarantine_is_under_control_when_confirmed(tree, epidemiologist):
    first_case = make_case(actor=epidemiologist, grid=tree.grid_a, classification="confirmed", hours_ago=10)
    other_case = make_case(actor=epidemiologist, grid=tree.grid_b, classification="confirmed", hours_ago=8)
    person = make_person(actor=epidemiologist, grid=tree.grid_a)
    register(first_case, actor=epidemiologist, grid=tree.grid_a, person=person)
    again = register(other_case, actor=epidemiologist, grid=tree.grid_a, person=person)
    # the live quarantine was extended; the follow-on order has no first step of its own
    assert not WorkItem.objects.filter(
        kind="quarantine.transfer",
        subject_id__in=[str(o.pk) for o in QuarantineOrder.objects.filter(contact=again)],
    ).exists()
    assert stored(other_case) == reference(other_case) == ({again.pk: again.decided_at}, again.decided_at)


def test_a_cancelled_transfer_is_not_control_and_a_full_refresh_agrees(tree, epidemiologist, settings):
    case = make_case(actor=epidemiologist, grid=tree.grid_a, classification="confirmed", hours_ago=10)
    contact = register(case, actor=epidemiologist, grid=tree.grid_a)
    work_item_cancel(actor=epidemiologist, item=transfer(contact), reason="已住院")
    assert stored(case) == reference(case) == ({contact.pk: None}, None)

    settings.FANGKONG_PROTOCOL = "who-2021"  # home quarantine: the notice is the first step
    home_case = make_case(actor=epidemiologist, grid=tree.grid_b, classification="confirmed", hours_ago=9)
    home = register(home_case, actor=epidemiologist, grid=tree.grid_b)
    notice = WorkItem.objects.get(
        kind="quarantine.notice", subject_id=str(QuarantineOrder.objects.get(contact=home).pk)
    )
    work_item_complete(actor=epidemiologist, item=notice)
    before = {c.pk: stored(c) for c in (case, home_case)}
    assert before[home_case.pk][1] is not None

    Contact.objects.update(controlled_at=None)
    Case.objects.update(contacts_controlled_at=timezone.now())  # stale values a bulk load might leave
    control_refresh(contact_ids=None, case_ids=None)
    assert {c.pk: stored(c) for c in (case, home_case)} == before
    assert all(stored(c) == reference(c) for c in (case, home_case))
