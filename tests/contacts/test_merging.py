"""Merging two records of one person: their contacts of one case fold into one, and two open
cases refuse the merge with nothing moved."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from fangkong.audit.models import AuditEvent
from fangkong.common.errors import Invalid
from fangkong.contacts.models import Contact, ContactEvidence, DiscoveryRun
from fangkong.contacts.services import contact_propose, contact_register
from fangkong.people.services import person_merge
from fangkong.quarantine.models import QuarantineOrder
from tests.cases.factories import make_case
from tests.people.factories import make_person

pytestmark = pytest.mark.django_db


def test_two_contacts_of_one_case_become_one(tree, epidemiologist):
    case = make_case(actor=epidemiologist, grid=tree.grid_a, classification="confirmed", hours_ago=30)
    keep = make_person(actor=epidemiologist, grid=tree.grid_a, name="陈静")
    drop = make_person(actor=epidemiologist, grid=tree.grid_a, name="陈静")
    now = timezone.now()
    proposed = contact_propose(  # found in the location data under the right record
        case=case,
        person=keep,
        kind="close",
        exposure_type="colocation",
        first_exposure=now - timedelta(hours=50),
        last_exposure=now - timedelta(hours=48),
        discovered_by="colocation",
    )
    assert proposed is not None
    run = DiscoveryRun.objects.create(
        case=case,
        created_by=epidemiologist,
        range_start=now - timedelta(days=3),
        range_end=now,
        backend="duckdb",
    )
    ContactEvidence.objects.create(
        contact=proposed,
        run=run,
        where_kind="cell",
        where_id=1,
        place="113.9,22.5",
        start=now - timedelta(hours=50),
        end=now - timedelta(hours=48),
        minutes=120,
    )
    confirmed = contact_register(  # registered by hand under a mistyped record
        actor=epidemiologist,
        case=case,
        person=drop,
        exposure_type="household",
        first_exposure=now - timedelta(hours=40),
        last_exposure=now - timedelta(hours=20),
    )
    orders = set(QuarantineOrder.objects.filter(contact=confirmed).values_list("pk", flat=True))
    assert orders

    person_merge(actor=epidemiologist, keep=keep, drop=drop)

    (left,) = Contact.objects.filter(source_case=case, kind="close")
    assert left.pk == confirmed.pk and left.person == keep and left.status == "confirmed"
    assert (left.first_exposure, left.last_exposure) == (now - timedelta(hours=50), now - timedelta(hours=20))
    assert set(QuarantineOrder.objects.filter(contact=left).values_list("pk", flat=True)) == orders
    assert ContactEvidence.objects.filter(contact=left).count() == 1
    fold = AuditEvent.objects.get(action="contacts.contact.fold")
    assert fold.before["folded"] == proposed.pk


def test_two_open_cases_refuse_the_merge_and_nothing_moves(tree, epidemiologist):
    keep = make_person(actor=epidemiologist, grid=tree.grid_a)
    drop = make_person(actor=epidemiologist, grid=tree.grid_a)
    first = make_case(actor=epidemiologist, grid=tree.grid_a, person=keep)
    second = make_case(actor=epidemiologist, grid=tree.grid_a, person=drop)
    with pytest.raises(Invalid) as refused:
        person_merge(actor=epidemiologist, keep=keep, drop=drop)
    assert set(refused.value.errors) == {"drop_id"} and first.number in refused.value.text()
    drop.refresh_from_db()
    second.refresh_from_db()
    assert drop.merged_into is None and second.person_id == drop.pk


def test_the_dropped_record_s_case_and_orders_move_to_the_kept_one(tree, epidemiologist):
    keep = make_person(actor=epidemiologist, grid=tree.grid_a)
    drop = make_person(actor=epidemiologist, grid=tree.grid_b, building="9")
    source = make_case(actor=epidemiologist, grid=tree.grid_a, classification="confirmed", hours_ago=30)
    now = timezone.now()
    contact_register(
        actor=epidemiologist,
        case=source,
        person=drop,
        exposure_type="workplace",
        first_exposure=now - timedelta(hours=40),
        last_exposure=now - timedelta(hours=20),
    )
    case = make_case(actor=epidemiologist, grid=tree.grid_b, person=drop)
    person_merge(actor=epidemiologist, keep=keep, drop=drop)
    case.refresh_from_db()
    assert case.person_id == keep.pk
    assert QuarantineOrder.objects.filter(person=drop).count() == 0
    assert QuarantineOrder.objects.filter(person=keep).count() >= 1
    moved = AuditEvent.objects.get(action="people.person.merge").after["moved"]
    assert moved["cases.case.person"] == 1 and moved["contacts.contact.person"] == 1
