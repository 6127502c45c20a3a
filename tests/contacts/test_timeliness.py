from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from fangkong.cases.investigations import investigation_complete
from fangkong.cases.models import Case
from fangkong.cases.services import case_classify
from fangkong.contacts.services import case_contacts_identified, contact_register
from fangkong.contacts.timeliness import case_times, district_rows
from fangkong.quarantine.models import QuarantineOrder
from fangkong.worklist.models import WorkItem
from fangkong.worklist.services import work_item_complete
from tests.cases.factories import make_case
from tests.people.factories import make_person

pytestmark = pytest.mark.django_db


def test_the_three_delays_and_the_share_within_the_protocols_hours(tree, epidemiologist, settings):
    settings.FANGKONG_PROTOCOL = "who-2021"  # home quarantine: control = notice delivered
    now = timezone.now()
    fast = make_case(
        actor=epidemiologist,
        grid=tree.grid_a,
        hours_ago=50,
        onset_date=timezone.localdate() - timedelta(days=3),
    )
    slow = make_case(
        actor=epidemiologist,
        grid=tree.grid_b,
        hours_ago=50,
        onset_date=timezone.localdate() - timedelta(days=3),
    )
    confirmed = now - timedelta(hours=40)
    for case in (fast, slow):
        case_classify(actor=epidemiologist, case=case, to="confirmed", at=confirmed)
    investigation_complete(
        actor=epidemiologist, investigation=fast.investigation, at=confirmed + timedelta(hours=6)
    )
    investigation_complete(
        actor=epidemiologist, investigation=slow.investigation, at=confirmed + timedelta(hours=30)
    )
    case_contacts_identified(actor=epidemiologist, case=fast, at=confirmed + timedelta(hours=10))
    person = make_person(actor=epidemiologist, grid=tree.grid_b)
    contact = contact_register(
        actor=epidemiologist,
        case=fast,
        person=person,
        exposure_type="household",
        first_exposure=now - timedelta(hours=45),
        last_exposure=now - timedelta(hours=44),
    )
    order = QuarantineOrder.objects.get(contact=contact)
    notice = WorkItem.objects.get(kind="quarantine.notice", subject_id=str(order.pk))
    work_item_complete(actor=epidemiologist, item=notice, done_at=confirmed + timedelta(hours=12))

    pending = contact_register(  # its notice is not delivered: the slow case is not under control
        actor=epidemiologist,
        case=slow,
        person=make_person(actor=epidemiologist, grid=tree.grid_b),
        exposure_type="household",
        first_exposure=now - timedelta(hours=45),
        last_exposure=now - timedelta(hours=44),
    )
    assert pending.status == "confirmed"
    assert dict(
        Case.objects.filter(pk__in=[fast.pk, slow.pk]).values_list("pk", "contacts_controlled_at")
    ) == {
        fast.pk: confirmed + timedelta(hours=12),
        slow.pk: None,
    }

    times = {
        t.case: t
        for t in case_times(
            actor=epidemiologist, since=timezone.localdate() - timedelta(days=3), until=timezone.localdate()
        )
    }
    assert times[fast].investigated == timedelta(hours=6)
    assert times[fast].identified == timedelta(hours=10)
    assert times[fast].controlled == timedelta(hours=12)
    assert times[slow].investigated == timedelta(hours=30)
    assert (times[slow].identified, times[slow].controlled) == (None, None)
    (row,) = district_rows(list(times.values()))
    assert row.cases == 2
    assert row.median("investigated") == 18.0
    # who-2021: investigation 24 h (the slow case, 30 h, is late), identification 48 h and control
    # 72 h: the slow case, confirmed 40 h ago and not done, is not late yet on either
    assert (row.share("investigated"), row.share("identified"), row.share("controlled")) == (50, 100, 100)
    assert (row.judged["identified"], row.judged["controlled"]) == (1, 1)
    settings.FANGKONG_PROTOCOL = "china-9"  # 24 h for every step: now the slow case is late on all
    (row,) = district_rows(list(times.values()))
    assert (row.share("investigated"), row.share("identified"), row.share("controlled")) == (50, 50, 50)


def test_the_page_renders_for_a_commander(client: Client, tree, epidemiologist, commander):
    case = make_case(actor=epidemiologist, grid=tree.grid_a, hours_ago=3)
    case_classify(actor=epidemiologist, case=case, to="confirmed", at=timezone.now() - timedelta(hours=1))
    client.force_login(commander)
    page = client.get("/contacts/timeliness/").content.decode()
    assert tree.district.name in page and case.number in page
