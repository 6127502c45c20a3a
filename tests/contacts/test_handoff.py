"""Cross-district hand-off (协查): form, API, import and batch follow one rule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from fangkong.common.errors import Invalid
from fangkong.contacts.batch import Exposure, contacts_register
from fangkong.contacts.handoff import handoffs_accept, handoffs_decline, person_by_document
from fangkong.contacts.models import Contact, Handoff
from fangkong.people.crypto import decrypt
from fangkong.quarantine.models import QuarantineOrder
from fangkong.worklist.models import WorkItem
from tests.cases.factories import make_case
from tests.orgs.factories import user_with_role
from tests.people.factories import make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def far_epidemiologist(tree):
    return user_with_role("epidemiologist", tree.other_district, username="far-epi")


@pytest.fixture
def case(tree, epidemiologist):
    return make_case(
        actor=epidemiologist,
        grid=tree.grid_a,
        hours_ago=1,
        onset_date=timezone.localdate() - timedelta(days=3),
    )


def _exposure(person, hours=5):
    last = timezone.now() - timedelta(hours=hours)
    return Exposure(person=person, exposure_type="social", first=last - timedelta(hours=1), last=last)


def test_a_contact_living_in_another_district_is_handed_off_not_quarantined(
    tree, epidemiologist, case, far_epidemiologist
):
    near = make_person(actor=epidemiologist, grid=tree.grid_b)
    far = make_person(actor=far_epidemiologist, grid=tree.grid_far)
    outcome = contacts_register(actor=epidemiologist, case=case, exposures=[_exposure(near), _exposure(far)])
    assert [c.person_id for c in outcome.done] == [near.pk]
    assert [c.person_id for c in outcome.handed_off] == [far.pk]
    assert not QuarantineOrder.objects.filter(person=far).exists()
    item = WorkItem.objects.get(kind="contacts.handoff")
    assert item.org_unit_id == tree.grid_far.pk and item.status == "open"
    # the far district takes it over: orders and work made there, by them
    handoff = Handoff.objects.get(contact__person=far)
    outcome = handoffs_accept(actor=far_epidemiologist, handoff_ids=[handoff.pk])
    assert len(outcome.done) == 1 and not outcome.refused
    contact = Contact.objects.get(person=far)
    assert contact.status == "confirmed"
    orders = QuarantineOrder.objects.filter(person=far)
    assert orders.count() == 2 and {o.org_unit_id for o in orders} == {tree.grid_far.pk}
    item.refresh_from_db()
    assert item.status == "done"


def test_only_the_home_unit_decides_and_a_decline_needs_a_reason(
    tree, epidemiologist, case, far_epidemiologist
):
    far = make_person(actor=far_epidemiologist, grid=tree.grid_far)
    contacts_register(actor=epidemiologist, case=case, exposures=[_exposure(far)])
    handoff = Handoff.objects.get()
    assert handoffs_accept(actor=epidemiologist, handoff_ids=[handoff.pk]).refused  # the case's side
    with pytest.raises(Invalid):
        handoffs_decline(actor=far_epidemiologist, handoff_ids=[handoff.pk], reason=" ")
    handoffs_decline(actor=far_epidemiologist, handoff_ids=[handoff.pk], reason="已于2025年搬离")
    contact = Contact.objects.get(person=far)
    assert contact.status == "dismissed" and "搬离" in contact.note
    assert not QuarantineOrder.objects.exists()


def test_the_batch_api_finds_people_by_document_city_wide_and_names_each_refusal(
    tree, epidemiologist, case, far_epidemiologist
):
    near = make_person(actor=epidemiologist, grid=tree.grid_b)
    far = make_person(actor=far_epidemiologist, grid=tree.grid_far)
    last = timezone.now() - timedelta(hours=5)
    row = {
        "exposure_type": "social",
        "first_exposure": (last - timedelta(hours=1)).isoformat(),
        "last_exposure": last.isoformat(),
    }
    client = Client()
    client.force_login(epidemiologist)
    response = client.post(
        f"/api/contacts/cases/{case.pk}/contacts/batch",
        {
            "contacts": [
                {**row, "person_id": near.pk},
                {**row, "id_number": decrypt(far.id_number_cipher)},
                {**row, "person_id": far.pk},  # not visible by number: refused, not leaked
                {**row, "person_id": near.pk},  # twice
                {**row, "id_number": "110101199001011237"},  # nobody
            ]
        },
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert [c["person_id"] for c in body["confirmed"]] == [near.pk]
    assert [c["person_id"] for c in body["handed_off"]] == [far.pk]
    assert {r["index"] for r in body["refused"]} == {2, 3, 4}
    assert person_by_document(number=decrypt(far.id_number_cipher).lower()) == far


def test_the_handoff_page_lists_requests_for_the_home_unit(tree, epidemiologist, case, far_epidemiologist):
    far = make_person(actor=far_epidemiologist, grid=tree.grid_far)
    contacts_register(actor=epidemiologist, case=case, exposures=[_exposure(far)])
    client = Client()
    client.force_login(far_epidemiologist)
    page = client.get("/contacts/handoffs/").content.decode()
    assert case.number in page and far.name not in page
    handoff = Handoff.objects.get()
    response = client.post("/contacts/handoffs/decide/", {"handoff": [handoff.pk], "decision": "accept"})
    assert response.status_code == 302
    assert Contact.objects.get(person=far).status == "confirmed"
    client.force_login(epidemiologist)
    page = client.get("/contacts/handoffs/?status=accepted").content.decode()
    assert case.number in page and far.name not in page


def test_an_import_hands_off_people_of_another_district_instead_of_quarantining_them(
    tree, epidemiologist, case, far_epidemiologist
):
    import csv
    import io

    from fangkong.contacts.imports import TEMPLATE_HEADER, contact_import_run
    from fangkong.contacts.models import ContactImport

    near = make_person(actor=epidemiologist, grid=tree.grid_b)
    far = make_person(actor=far_epidemiologist, grid=tree.grid_far)
    when = timezone.localtime() - timedelta(hours=6)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(TEMPLATE_HEADER)
    for person in (near, far):
        writer.writerow(
            [
                "",
                "",
                decrypt(person.id_number_cipher),
                "",
                "",
                "",
                "",
                "",
                "聚餐",
                (when - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M"),
                when.strftime("%Y-%m-%d %H:%M"),
            ]
        )
    job = ContactImport.objects.create(
        case=case, created_by=epidemiologist, file_name="x.csv", content=buffer.getvalue().encode()
    )
    job = contact_import_run(import_id=job.pk)
    assert (job.status, job.created_count) == ("succeeded", 2)
    assert Contact.objects.get(person=near).status == "confirmed"
    assert Contact.objects.get(person=far).status == "handed_off"
    assert not QuarantineOrder.objects.filter(person=far).exists()
    assert Handoff.objects.filter(contact__person=far, status="requested").exists()
