import pytest
from django.test import Client

from fangkong.audit.models import AuditEvent
from fangkong.audit.selectors import AuditFilters, audit_event_list
from tests.orgs.factories import user_with_role
from tests.people.factories import make_person

pytestmark = pytest.mark.django_db


def test_writes_are_audited_with_actor_ip_and_unit(client: Client, tree, grid_worker):
    client.force_login(grid_worker)
    response = client.post(
        "/people/new/",
        {
            "name": "刘备",
            "id_type": "resident_id",
            "id_number": "11010519491231002X",
            "org_unit": tree.grid_a.pk,
        },
        REMOTE_ADDR="10.1.2.3",
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="people.person.create")
    assert (event.actor, event.ip, event.org_unit) == (grid_worker, "10.1.2.3", tree.grid_a)
    assert "11010519491231002X" not in str(event.after)


def test_unmasked_view_from_the_page_is_audited(client: Client, tree, grid_worker, epidemiologist):
    person = make_person(actor=grid_worker, grid=tree.grid_a, phone="13712345678")
    client.force_login(epidemiologist)
    response = client.post(f"/people/{person.pk}/reveal/", {"field": "phone"})
    assert "13712345678" in response.content.decode()
    assert AuditEvent.objects.filter(action="people.person.reveal", target_id=str(person.pk)).count() == 1


def test_commanders_read_the_trail_of_their_area_only(tree, grid_worker):
    far_worker = user_with_role("grid_worker", tree.grid_far)
    make_person(actor=grid_worker, grid=tree.grid_a)
    make_person(actor=far_worker, grid=tree.grid_far)
    district_commander = user_with_role("commander", tree.district)
    events = audit_event_list(actor=district_commander, filters=AuditFilters(action="people."))
    assert [e.org_unit for e in events] == [tree.grid_a]


def test_grid_workers_cannot_open_the_audit_page(client: Client, grid_worker, commander):
    client.force_login(grid_worker)
    assert client.get("/audit/").status_code == 403
    client.force_login(commander)
    assert client.get("/audit/", {"action": "people."}).status_code == 200


def test_audit_api_lists_and_filters_events(client: Client, tree, grid_worker, commander):
    make_person(actor=grid_worker, grid=tree.grid_a)
    client.force_login(commander)
    body = client.get("/api/audit/events", {"action": "people.person.create", "since": "2020-01-01"}).json()
    assert body["total"] == 1
    assert body["items"][0]["actor"] == grid_worker.username
    assert client.get("/api/audit/events", {"actor": "nobody"}).json()["total"] == 0
