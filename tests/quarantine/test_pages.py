import json
from datetime import datetime, timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from fangkong.contacts.models import Contact
from fangkong.contacts.services import contact_register
from fangkong.quarantine.models import DailyCheck, QuarantineOrder
from fangkong.quarantine.monitoring import self_report_token
from fangkong.worklist.models import WorkItem
from tests.cases.factories import make_case
from tests.orgs.factories import user_with_role
from tests.people.factories import make_person, resident_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(tree, epidemiologist):
    case = make_case(
        actor=epidemiologist, grid=tree.grid_a, onset_date=timezone.localdate() - timedelta(days=1)
    )
    person = make_person(actor=epidemiologist, grid=tree.grid_b)
    # yesterday 08:00 local: day 1 (the first test's day) is today, whatever the hour of the run
    last = timezone.make_aware(
        datetime.combine(timezone.localdate() - timedelta(days=1), datetime.min.time())
    ).replace(hour=8)
    contact = contact_register(
        actor=epidemiologist,
        case=case,
        person=person,
        exposure_type="workplace",
        first_exposure=last - timedelta(hours=2),
        last_exposure=last,
    )
    return QuarantineOrder.objects.get(contact=contact, status="active")


def test_register_a_close_contact_from_the_case_page(client: Client, tree, epidemiologist):
    case = make_case(
        actor=epidemiologist, grid=tree.grid_a, onset_date=timezone.localdate() - timedelta(days=1)
    )
    number = resident_id()
    make_person(actor=epidemiologist, grid=tree.grid_b, id_number=number)
    client.force_login(epidemiologist)
    last = timezone.localtime() - timedelta(hours=2)
    response = client.post(
        f"/contacts/case/{case.pk}/",
        {
            "person": number,
            "exposure_type": "household",
            "first_exposure": (last - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M"),
            "last_exposure": last.strftime("%Y-%m-%d %H:%M"),
        },
    )
    assert response.status_code == 302
    page = client.get(f"/contacts/case/{case.pk}/").content.decode()
    assert page.count('data-testid="order-link"') == 2  # the quarantine and its follow-on


def test_a_bad_contact_form_names_the_field(client: Client, tree, epidemiologist):
    case = make_case(actor=epidemiologist, grid=tree.grid_a)
    client.force_login(epidemiologist)
    response = client.post(
        f"/contacts/case/{case.pk}/",
        {"person": "12", "exposure_type": "household", "first_exposure": "x", "last_exposure": "y"},
    )
    assert response.status_code == 422
    assert 'data-field="person"' in response.content.decode()
    assert Contact.objects.count() == 0


def test_order_page_records_a_check_and_shows_the_link(client: Client, order, epidemiologist):
    client.force_login(epidemiologist)
    page = client.get(f"/quarantine/{order.pk}/").content.decode()
    assert 'data-testid="self-report-link"' in page and "/r/" in page
    client.post(f"/quarantine/{order.pk}/do/check/", {"temperature": "38.2", "symptoms": ["cough"]})
    assert DailyCheck.objects.get().symptoms == "咳嗽"
    assert WorkItem.objects.filter(kind="quarantine.fever").exists()


def test_self_report_on_a_phone_without_login(client: Client, order):
    token = self_report_token(order=order)
    page = client.get(f"/r/{token}/")
    assert page.status_code == 200 and 'inputmode="decimal"' in page.content.decode()
    bad = client.post(f"/r/{token}/", {"temperature": "99"})
    assert bad.status_code == 422 and 'data-field="temperature"' in bad.content.decode()
    done = client.post(f"/r/{token}/", {"temperature": "37.8"})
    assert 'data-testid="report-done"' in done.content.decode()
    check = DailyCheck.objects.get()
    assert (check.source, check.actor) == ("self", None)
    assert WorkItem.objects.filter(kind="quarantine.fever", priority="urgent").count() == 1
    assert client.get("/r/forged-token/").status_code == 404


def test_self_report_is_rate_limited_per_link(client: Client, order):
    token = self_report_token(order=order)
    for _ in range(12):
        client.post(f"/r/{token}/", {"temperature": "36.5"})
    assert client.post(f"/r/{token}/", {"temperature": "36.5"}).status_code == 429
    assert DailyCheck.objects.count() == 12


def test_api_tests_and_release_conflict(client: Client, order, epidemiologist):
    client.force_login(epidemiologist)
    detail = client.get(f"/api/quarantine/orders/{order.pk}").json()
    assert [t["day"] for t in detail["tests"]] == [1, 2, 3, 5, 7]
    conflict = client.post(
        f"/api/quarantine/orders/{order.pk}/release", data="{}", content_type="application/json"
    )
    assert conflict.status_code == 409
    result = client.post(
        f"/api/quarantine/tests/{detail['tests'][0]['id']}/result",
        data=json.dumps({"result": "negative"}),
        content_type="application/json",
    )
    assert result.json()["result"] == "negative"


def test_sweep_command(order):
    day = timezone.localdate()
    call_command("quarantine_sweep", "--day", (day - timedelta(days=30)).isoformat())
    assert not WorkItem.objects.filter(kind="quarantine.missing_check").exists()  # no order then


def test_occupancy_counts_beds_taken(client: Client, tree, order, epidemiologist):
    from fangkong.quarantine.models import Room, Site
    from fangkong.quarantine.services import order_assign_room

    site = Site.objects.create(name="湖贝酒店", org_unit=tree.district)
    room = Room.objects.create(site=site, number="301", capacity=2)
    Room.objects.create(site=site, number="302", capacity=2)
    order_assign_room(actor=epidemiologist, order=order, room=room)
    client.force_login(epidemiologist)
    page = client.get("/quarantine/occupancy/").content.decode()
    assert "湖贝酒店" in page and "25%" in page


def test_a_fresh_fever_is_shown_above_older_overdue_work(client: Client, order, tree):
    for n in range(30):
        WorkItem.objects.create(
            kind="notice.deliver",
            title=f"旧任务{n}",
            org_unit=order.org_unit,
            priority="urgent",
            due_at=timezone.now() - timedelta(days=3),
        )
    client.post(f"/r/{self_report_token(order=order)}/", {"temperature": "38.4"})
    client.force_login(user_with_role("grid_worker", order.org_unit, username="gw_fever"))  # the grid's work
    page = client.get("/work/").content.decode()
    banner = page.split('data-testid="urgent-work"')[1].split("</div>")[0]
    assert "38.4" in banner
    fever = WorkItem.objects.get(kind="quarantine.fever")
    detail = client.get(f"/work/{fever.pk}/").content.decode()
    assert f'href="/quarantine/{order.pk}/"' in detail
