import json

import pytest
from django.test import Client

from fangkong.audit.models import AuditEvent
from fangkong.people.models import Person
from tests.people.factories import make_person, resident_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client: Client, grid_worker):
    client.force_login(grid_worker)
    return client


def post(client: Client, url: str, body: dict) -> object:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def test_create_returns_201_with_masked_values(api, tree):
    number = resident_id()
    response = post(
        api,
        "/api/people/persons",
        {
            "name": "陈大文",
            "id_number": number,
            "phone": "13812345678",
            "org_unit_id": tree.grid_a.pk,
            "building": "5",
            "room": "101",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name_masked"] == "陈*文"
    assert body["id_number_masked"] == number[:4] + "*" * 10 + number[-4:]
    assert body["phone_masked"] == "138****5678"
    assert number not in response.content.decode()
    assert "13812345678" not in response.content.decode()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id_number": "110105194912310021"}, "id_number"),  # wrong check character
        ({"id_number": "110105194913310021"}, "id_number"),  # impossible date
        ({"id_number": "1101051949"}, "id_number"),  # wrong length
        ({"phone": "12345678901"}, "phone"),
        ({"org_unit_id": 987654}, "org_unit"),
        ({"name": "名" * 51}, "name"),
        ({"room": "9" * 21}, "room"),
        ({"id_type": "library_card"}, "id_type"),
    ],
)
def test_bad_input_is_422_naming_the_field_and_stores_nothing(api, tree, change, field):
    body = {"name": "陈大文", "id_number": resident_id(), "org_unit_id": tree.grid_a.pk, **change}
    response = post(api, "/api/people/persons", body)
    assert response.status_code == 422, response.content
    assert field in response.json()["errors"]
    assert response.json()["errors"][field][0]
    assert Person.objects.count() == 0


def test_duplicate_is_422_and_names_the_existing_person(api, tree, grid_worker):
    number = resident_id()
    existing = make_person(actor=grid_worker, grid=tree.grid_a, id_number=number)
    response = post(
        api, "/api/people/persons", {"name": "又一个", "id_number": number, "org_unit_id": tree.grid_a.pk}
    )
    assert response.status_code == 422
    assert existing.id_number_masked in response.json()["errors"]["id_number"][0]
    assert Person.objects.count() == 1


def test_missing_required_field_is_422(api):
    response = post(api, "/api/people/persons", {"name": "无证"})
    assert response.status_code == 422


def test_list_is_scoped_and_searchable(api, tree, grid_worker, epidemiologist):
    mine = make_person(actor=grid_worker, grid=tree.grid_a, name="张三丰")
    make_person(actor=epidemiologist, grid=tree.grid_b, name="张无忌")
    body = api.get("/api/people/persons", {"q": "张"}).json()
    assert [p["id"] for p in body["items"]] == [mine.pk]
    assert body["total"] == 1


def test_reveal_by_api_is_audited(client: Client, tree, grid_worker, epidemiologist):
    number = resident_id()
    person = make_person(actor=grid_worker, grid=tree.grid_a, id_number=number)
    client.force_login(epidemiologist)
    response = post(client, f"/api/people/persons/{person.pk}/reveal", {"field": "id_number"})
    assert response.json() == {"field": "id_number", "value": number}
    assert AuditEvent.objects.filter(action="people.person.reveal", actor=epidemiologist).count() == 1


def test_reveal_refused_for_a_grid_worker_is_403(api, tree, grid_worker):
    person = make_person(actor=grid_worker, grid=tree.grid_a)
    assert post(api, f"/api/people/persons/{person.pk}/reveal", {"field": "phone"}).status_code == 403


def test_update_by_api(api, tree, grid_worker):
    person = make_person(actor=grid_worker, grid=tree.grid_a)
    body = {"name": "改名了", "id_number": resident_id(), "org_unit_id": tree.grid_a.pk}
    response = api.put(
        f"/api/people/persons/{person.pk}", data=json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 200
    person.refresh_from_db()
    assert person.name == "改名了"


def test_api_requires_authentication(client: Client):
    assert client.get("/api/people/persons").status_code == 401
