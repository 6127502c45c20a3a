import json

import pytest
from django.test import Client
from django.utils import timezone

from fangkong.cases.models import Case, ItineraryEntry
from tests.cases.factories import make_case
from tests.orgs.factories import user_with_role
from tests.people.factories import make_person, resident_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def ui(client: Client, epidemiologist):
    client.force_login(epidemiologist)
    client.cookies["django_language"] = "en"
    return client


def test_register_a_case_by_the_persons_id_number(ui, tree, grid_worker):
    number = resident_id()
    person = make_person(actor=grid_worker, grid=tree.grid_a, id_number=number)
    response = ui.post(
        "/cases/new/",
        {
            "person": number,
            "classification": "suspected",
            "reported_at": "2022-05-03 14:30",
            "origin": "local",
        },
    )
    case = Case.objects.get()
    assert response.url == f"/cases/{case.pk}/"
    assert case.person == person
    assert timezone.localtime(case.reported_at).strftime("%Y-%m-%d %H:%M") == "2022-05-03 14:30"


def test_register_names_a_person_not_found(ui):
    page = ui.post(
        "/cases/new/",
        {
            "person": "11010519491231002X",
            "classification": "suspected",
            "reported_at": "2022-05-03 14:30",
            "origin": "local",
        },
    ).content.decode()
    assert 'data-field="person"' in page and "register them first" in page


def test_an_illegal_move_from_the_page_is_409_naming_both_states(ui, tree, epidemiologist):
    case = make_case(actor=epidemiologist, grid=tree.grid_a, classification="confirmed")
    response = ui.post(f"/cases/{case.pk}/do/classify/", {"to": "excluded"})
    assert response.status_code == 409
    assert "Cannot change a case from Confirmed to Excluded." in response.content.decode()
    case.refresh_from_db()
    assert case.classification == "confirmed"


def test_confirm_from_the_page_and_see_the_timeline(ui, tree, epidemiologist):
    case = make_case(actor=epidemiologist, grid=tree.grid_a, hours_ago=3)
    at = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    assert (
        ui.post(
            f"/cases/{case.pk}/do/classify/", {"to": "confirmed", "severity": "moderate", "at": at}
        ).status_code
        == 302
    )
    page = ui.get(f"/cases/{case.pk}/").content.decode()
    assert "Classification: Suspected → Confirmed" in page
    assert 'data-testid="move-excluded"' not in page and 'data-testid="move-recovered"' in page


def test_itinerary_rows_are_added_in_place(ui, tree, epidemiologist):
    case = make_case(actor=epidemiologist, grid=tree.grid_a)
    response = ui.post(
        f"/cases/{case.pk}/itinerary/",
        {"start": "2022-05-01 12:00", "end": "2022-05-01 13:00", "place": "湖贝美食城"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "湖贝美食城" in response.content.decode() and "<html" not in response.content.decode()
    bad = ui.post(f"/cases/{case.pk}/itinerary/", {"start": "5月1日", "place": ""}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 422
    assert 'data-field="start"' in bad.content.decode() and 'data-field="place"' in bad.content.decode()
    entry = ItineraryEntry.objects.get()
    removed = ui.post(f"/cases/itinerary/{entry.pk}/remove/", HTTP_HX_REQUEST="true")
    assert removed.status_code == 200 and ItineraryEntry.objects.count() == 0


def test_api_register_classify_and_409(client: Client, tree, epidemiologist, grid_worker):
    client.force_login(epidemiologist)
    person = make_person(actor=grid_worker, grid=tree.grid_a)
    created = client.post(
        "/api/cases/cases", data=json.dumps({"person_id": person.pk}), content_type="application/json"
    )
    assert created.status_code == 201, created.content
    case_id = created.json()["id"]
    url = f"/api/cases/cases/{case_id}/classify"
    assert (
        client.post(url, data=json.dumps({"to": "excluded"}), content_type="application/json").status_code
        == 200
    )
    conflict = client.post(url, data=json.dumps({"to": "confirmed"}), content_type="application/json")
    assert conflict.status_code == 409
    timeline = client.get(f"/api/cases/cases/{case_id}/timeline").json()
    assert [e["kind"] for e in timeline] == ["register", "classification"]


def test_another_district_sees_nothing(client: Client, tree, epidemiologist):
    case = make_case(actor=epidemiologist, grid=tree.grid_a)
    client.force_login(user_with_role("epidemiologist", tree.other_district))
    assert client.get("/api/cases/cases").json()["total"] == 0
    assert client.get(f"/cases/{case.pk}/").status_code == 404


def test_list_filters(ui, tree, epidemiologist):
    make_case(actor=epidemiologist, grid=tree.grid_a, classification="confirmed")
    make_case(actor=epidemiologist, grid=tree.grid_b)
    page = ui.get("/cases/", {"classification": "confirmed"}).content.decode()
    assert "1 in all" in page
