"""The containment rules, from a confirmed contact to release, under both protocol profiles."""

from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from fangkong.cases.models import Case
from fangkong.cases.services import case_classify
from fangkong.common.errors import Conflict, Invalid, NotFound
from fangkong.contacts.models import Contact
from fangkong.contacts.services import contact_confirm, contact_register
from fangkong.quarantine.models import QuarantineOrder, Room, Site
from fangkong.quarantine.monitoring import (
    daily_check_record,
    missing_checks_sweep,
    order_from_token,
    self_report_token,
)
from fangkong.quarantine.selectors import early_release_proposals
from fangkong.quarantine.services import lab_result_record, order_assign_room, order_release
from fangkong.worklist.models import WorkItem
from tests.cases.factories import make_case
from tests.people.factories import make_person

pytestmark = pytest.mark.django_db


def local(text: str) -> datetime:
    return timezone.make_aware(datetime.strptime(text, "%Y-%m-%d %H:%M"))


@pytest.fixture
def case(tree, epidemiologist):
    """A case with onset three days ago (the look-back opens at 00:00 four days before that, in china-9)."""
    return make_case(
        actor=epidemiologist,
        grid=tree.grid_a,
        hours_ago=1,
        onset_date=timezone.localdate() - timedelta(days=3),
    )


def register(epi, case, person, *, last: datetime, first: datetime | None = None) -> Contact:
    return contact_register(
        actor=epi,
        case=case,
        person=person,
        exposure_type="household",
        first_exposure=first or last - timedelta(hours=2),
        last_exposure=last,
    )


def yesterday_at(hour: int, minute: int) -> datetime:
    return timezone.make_aware(
        datetime.combine(timezone.localdate() - timedelta(days=1), datetime.min.time())
    ).replace(hour=hour, minute=minute)


def test_china_9_gives_seven_days_centralised_then_three_of_monitoring(tree, epidemiologist, case):
    person = make_person(actor=epidemiologist, grid=tree.grid_b, building="", unit="", room="")
    last = yesterday_at(23, 59)
    register(epidemiologist, case, person, last=last)
    first, follow = QuarantineOrder.objects.filter(person=person).order_by("id")
    today = timezone.localdate()
    assert (first.kind, first.status, first.day_one) == (
        "centralised",
        "active",
        today,
    )  # day 1 = the day after
    assert timezone.localtime(first.planned_end) == timezone.make_aware(
        datetime.combine(today + timedelta(days=7), datetime.min.time())
    )
    assert [t.day for t in first.tests.all()] == [1, 2, 3, 5, 7]
    assert (follow.kind, follow.status, follow.follows, follow.day_one) == (
        "home_health_monitoring",
        "planned",
        first,
        today + timedelta(days=7),
    )
    assert [(t.day, t.date) for t in follow.tests.all()] == [(3, today + timedelta(days=9))]
    transfer = WorkItem.objects.get(kind="quarantine.transfer")
    assert transfer.org_unit == tree.grid_b and transfer.priority == "urgent"
    assert WorkItem.objects.filter(kind="quarantine.sample").count() == 6


def test_an_exposure_at_midnight_starts_day_one_the_next_day(tree, epidemiologist, case):
    person = make_person(actor=epidemiologist, grid=tree.grid_b)
    register(
        epidemiologist,
        case,
        person,
        last=timezone.make_aware(datetime.combine(timezone.localdate(), datetime.min.time())),
    )
    assert QuarantineOrder.objects.get(
        person=person, status="active"
    ).day_one == timezone.localdate() + timedelta(days=1)


def test_who_2021_gives_fourteen_days_at_home_and_no_secondary_contacts(tree, epidemiologist, settings):
    settings.FANGKONG_PROTOCOL = "who-2021"
    case = make_case(
        actor=epidemiologist,
        grid=tree.grid_a,
        hours_ago=1,
        onset_date=timezone.localdate() - timedelta(days=1),
    )
    person = make_person(actor=epidemiologist, grid=tree.grid_b, building="8", unit="", room="801")
    make_person(actor=epidemiologist, grid=tree.grid_b, building="8", unit="", room="801", name="同住人")
    register(epidemiologist, case, person, last=yesterday_at(10, 0))
    (order,) = QuarantineOrder.objects.filter(person=person)
    assert (order.kind, order.protocol) == ("home", "who-2021")
    assert (timezone.localtime(order.planned_end).date() - order.day_one).days == 14
    assert WorkItem.objects.filter(kind="quarantine.notice").count() == 1
    assert Contact.objects.filter(kind="secondary").count() == 0


def test_the_look_back_window_edges(tree, epidemiologist, case, settings):
    opens = timezone.make_aware(datetime.combine(case.onset_date - timedelta(days=4), datetime.min.time()))
    inside = make_person(actor=epidemiologist, grid=tree.grid_b)
    register(epidemiologist, case, inside, last=opens)  # exactly at the opening: a contact
    outside = make_person(actor=epidemiologist, grid=tree.grid_b)
    with pytest.raises(Invalid) as error:
        register(epidemiologist, case, outside, last=opens - timedelta(minutes=1))
    assert list(error.value.errors) == ["last_exposure"]
    assert not Contact.objects.filter(person=outside).exists()
    settings.FANGKONG_PROTOCOL = "who-2021"  # two days only: the same exposure is outside
    later = make_person(actor=epidemiologist, grid=tree.grid_b)
    with pytest.raises(Invalid):
        register(epidemiologist, case, later, last=opens + timedelta(hours=1))


def test_household_members_are_proposed_as_secondary_contacts(tree, epidemiologist, case):
    person = make_person(actor=epidemiologist, grid=tree.grid_b, building="5", room="501")
    spouse = make_person(actor=epidemiologist, grid=tree.grid_b, building="5", room="501", name="配偶")
    close = register(epidemiologist, case, person, last=yesterday_at(20, 0))
    proposal = Contact.objects.get(person=spouse)
    assert (proposal.kind, proposal.status, proposal.discovered_by, proposal.via_contact) == (
        "secondary",
        "proposed",
        "household",
        close,
    )
    assert not QuarantineOrder.objects.filter(person=spouse).exists()
    contact_confirm(actor=epidemiologist, contact=proposal)
    (order,) = QuarantineOrder.objects.filter(person=spouse)
    assert order.kind == "home" and [t.day for t in order.tests.all()] == [1, 4, 7]


def test_a_person_already_in_quarantine_gets_the_order_extended(tree, epidemiologist, case):
    person = make_person(actor=epidemiologist, grid=tree.grid_b)
    register(epidemiologist, case, person, last=yesterday_at(9, 0) - timedelta(days=1))
    other_case = make_case(
        actor=epidemiologist,
        grid=tree.grid_a,
        hours_ago=1,
        onset_date=timezone.localdate() - timedelta(days=1),
    )
    register(epidemiologist, other_case, person, last=yesterday_at(18, 0))
    orders = QuarantineOrder.objects.filter(person=person).order_by("id")
    assert orders.count() == 2  # the quarantine and its follow-on, not two more
    first = orders[0]
    assert timezone.localtime(first.planned_end).date() == timezone.localdate() + timedelta(days=7)
    # the first exposure's test days (day 1,2,3,5,7 from yesterday) plus the new schedule's that fall on other dates
    assert [t.day for t in first.tests.all()] == [1, 2, 3, 4, 5, 6, 7, 8]


def test_room_capacity_is_enforced(tree, epidemiologist, case):
    site = Site.objects.create(name="东湖酒店", org_unit=tree.district)
    room = Room.objects.create(site=site, number="101", capacity=1)
    a, b = (make_person(actor=epidemiologist, grid=tree.grid_b) for _ in range(2))
    register(epidemiologist, case, a, last=yesterday_at(8, 0))
    register(epidemiologist, case, b, last=yesterday_at(8, 0))
    order_a = QuarantineOrder.objects.get(person=a, status="active")
    order_b = QuarantineOrder.objects.get(person=b, status="active")
    order_assign_room(actor=epidemiologist, order=order_a, room=room)
    with pytest.raises(Conflict, match="101"):
        order_assign_room(actor=epidemiologist, order=order_b, room=room)
    assert WorkItem.objects.get(kind="quarantine.transfer", subject_id=str(order_a.pk)).status == "done"


def test_a_fever_raises_urgent_work_for_the_grid_and_the_site(tree, epidemiologist, case):
    site = Site.objects.create(name="西区酒店", org_unit=tree.other_district)
    room = Room.objects.create(site=site, number="2", capacity=2)
    person = make_person(actor=epidemiologist, grid=tree.grid_b)
    register(epidemiologist, case, person, last=yesterday_at(8, 0))
    order = QuarantineOrder.objects.get(person=person, status="active")
    order_assign_room(actor=epidemiologist, order=order, room=room)
    daily_check_record(actor=epidemiologist, order=order, temperature="36.6", symptoms=[])
    assert not WorkItem.objects.filter(kind="quarantine.fever").exists()
    daily_check_record(actor=epidemiologist, order=order, temperature="37.3", symptoms=[])  # at the threshold
    units = set(
        WorkItem.objects.filter(kind="quarantine.fever", priority="urgent").values_list("org_unit", flat=True)
    )
    assert units == {tree.grid_b.pk, tree.other_district.pk}
    daily_check_record(
        actor=epidemiologist, order=order, temperature="38.5", symptoms=["cough"]
    )  # same day again
    assert (
        WorkItem.objects.filter(kind="quarantine.fever").count() == 2
    )  # one per unit and day, note extended
    with pytest.raises(Invalid):
        daily_check_record(actor=epidemiologist, order=order, temperature="45", symptoms=[])


def test_missing_checks_become_work_after_the_deadline_once(tree, epidemiologist, case):
    person = make_person(actor=epidemiologist, grid=tree.grid_b)
    register(epidemiologist, case, person, last=yesterday_at(8, 0))
    today = timezone.localdate()
    assert missing_checks_sweep(day=today, now=local(f"{today} 19:59")) == 0
    assert missing_checks_sweep(day=today, now=local(f"{today} 20:00")) == 1
    assert missing_checks_sweep(day=today, now=local(f"{today} 21:00")) == 0
    other = make_person(actor=epidemiologist, grid=tree.grid_b)
    register(epidemiologist, case, other, last=yesterday_at(8, 0))
    daily_check_record(
        actor=epidemiologist,
        order=QuarantineOrder.objects.get(person=other, status="active"),
        temperature="36.5",
        symptoms=[],
    )
    assert missing_checks_sweep(day=today, now=local(f"{today} 22:00")) == 0


def test_release_needs_negative_tests_and_the_end(tree, epidemiologist):
    old_case = make_case(
        actor=epidemiologist,
        grid=tree.grid_a,
        hours_ago=11 * 24,
        onset_date=timezone.localdate() - timedelta(days=12),
    )
    person = make_person(actor=epidemiologist, grid=tree.grid_b)
    register(epidemiologist, old_case, person, last=timezone.now() - timedelta(days=10, hours=1))
    order = QuarantineOrder.objects.get(person=person, status="active")
    assert order.planned_end < timezone.now()  # the 7 days are over
    tests = list(order.tests.all())
    for test in tests[:-1]:
        lab_result_record(actor=epidemiologist, appointment=test, result="negative")
    with pytest.raises(Conflict, match="7"):
        order_release(actor=epidemiologist, order=order)
    lab_result_record(actor=epidemiologist, appointment=tests[-1], result="negative")
    order_release(actor=epidemiologist, order=order)
    follow = QuarantineOrder.objects.get(follows=order)
    assert (order.status, follow.status) == ("released", "active")
    assert (
        WorkItem.objects.filter(kind="quarantine.sample", subject_id=str(order.pk), status="done").count()
        == 5
    )


def test_release_waits_for_the_planned_end_and_results_wait_for_their_day(tree, epidemiologist, case):
    person = make_person(actor=epidemiologist, grid=tree.grid_b)
    register(epidemiologist, case, person, last=yesterday_at(8, 0))
    order = QuarantineOrder.objects.get(person=person, status="active")
    with pytest.raises(Conflict):
        order_release(actor=epidemiologist, order=order)  # not yet at the end
    first, *_rest, last = order.tests.all()
    lab_result_record(actor=epidemiologist, appointment=first, result="negative")
    assert (
        WorkItem.objects.filter(kind="quarantine.sample", subject_id=str(order.pk), status="open").count()
        == 4
    )
    with pytest.raises(Invalid):
        lab_result_record(actor=epidemiologist, appointment=last, result="negative")  # day 7 is not here yet


def test_early_release_only_when_the_case_was_excluded(tree, epidemiologist, case):
    person = make_person(actor=epidemiologist, grid=tree.grid_b)
    register(epidemiologist, case, person, last=yesterday_at(8, 0))
    order = QuarantineOrder.objects.get(person=person, status="active")
    with pytest.raises(Conflict):
        order_release(actor=epidemiologist, order=order, early=True, reason="想回家")


def test_someone_on_health_monitoring_exposed_again_goes_back_to_centralised_quarantine(
    tree, epidemiologist, case
):
    person = make_person(actor=epidemiologist, grid=tree.grid_b)
    register(epidemiologist, case, person, last=yesterday_at(8, 0))
    first = QuarantineOrder.objects.get(person=person, status="active")
    QuarantineOrder.objects.filter(pk=first.pk).update(status="released")
    QuarantineOrder.objects.filter(follows=first).update(status="active")
    monitoring = QuarantineOrder.objects.get(follows=first)
    other = make_case(
        actor=epidemiologist,
        grid=tree.grid_a,
        hours_ago=1,
        onset_date=timezone.localdate() - timedelta(days=1),
    )
    register(epidemiologist, other, person, last=timezone.now() - timedelta(minutes=30))
    centralised = QuarantineOrder.objects.get(person=person, status="active")
    monitoring.refresh_from_db()
    assert centralised.kind == "centralised" and centralised.pk != first.pk
    assert (monitoring.status, monitoring.follows) == ("planned", centralised)
    assert QuarantineOrder.objects.filter(person=person, kind="home_health_monitoring").count() == 1


def test_a_positive_test_makes_a_suspected_case_and_links_the_chain(tree, epidemiologist, case, lab_user):
    person = make_person(actor=epidemiologist, grid=tree.grid_b)
    contact = register(epidemiologist, case, person, last=yesterday_at(8, 0))
    order = QuarantineOrder.objects.get(person=person, status="active")
    lab_result_record(actor=lab_user, appointment=order.tests.first(), result="positive")
    order.refresh_from_db()
    contact.refresh_from_db()
    new_case = Case.objects.get(person=person)
    assert (new_case.classification, order.status, order.converted_case) == (
        "suspected",
        "converted",
        new_case,
    )
    assert contact.became_case == new_case
    assert QuarantineOrder.objects.get(follows=order).status == "cancelled"


def test_excluding_the_case_proposes_early_release(tree, epidemiologist, case):
    person = make_person(actor=epidemiologist, grid=tree.grid_b)
    register(epidemiologist, case, person, last=yesterday_at(8, 0))
    assert not early_release_proposals(actor=epidemiologist).exists()
    case_classify(actor=epidemiologist, case=case, to="excluded", at=timezone.now())
    proposed = list(early_release_proposals(actor=epidemiologist))
    assert {o.person for o in proposed} == {person}
    active = next(o for o in proposed if o.status == "active")
    with pytest.raises(Invalid):
        order_release(actor=epidemiologist, order=active, early=True, reason="")
    order_release(actor=epidemiologist, order=active, early=True, reason="源头病例已排除")
    assert active.status == "released"


def test_self_report_links_are_signed_and_expire(tree, epidemiologist, case):
    person = make_person(actor=epidemiologist, grid=tree.grid_b)
    register(epidemiologist, case, person, last=yesterday_at(8, 0))
    order = QuarantineOrder.objects.get(person=person, status="active")
    token = self_report_token(order=order)
    assert order_from_token(token) == order
    forged = token[:-6] + ("x" if token[-6] != "x" else "y") + token[-5:]  # one signature character changed
    with pytest.raises(NotFound):
        order_from_token(forged)
    QuarantineOrder.objects.filter(pk=order.pk).update(planned_end=timezone.now() - timedelta(days=2))
    with pytest.raises(NotFound):
        order_from_token(token)


def test_dates_are_checked_against_the_order(tree, epidemiologist, case):
    person = make_person(actor=epidemiologist, grid=tree.grid_b)
    register(epidemiologist, case, person, last=yesterday_at(8, 0))
    order = QuarantineOrder.objects.get(person=person, status="active")
    with pytest.raises(Invalid):
        daily_check_record(
            actor=epidemiologist, order=order, temperature="36.5", symptoms=[], day=date(2000, 1, 1)
        )
