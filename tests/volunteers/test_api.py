"""The volunteers API router (mounted by the project's API; here through ninja's test client)."""

from __future__ import annotations

import pytest
from ninja.testing import TestClient

from fangkong.common.errors import Conflict, Invalid, NotFound
from fangkong.people.crypto import decrypt
from fangkong.volunteers.api import router
from fangkong.volunteers.models import Dispatch
from tests.volunteers.conftest import open_item
from tests.volunteers.factories import make_volunteer

pytestmark = pytest.mark.django_db
client = TestClient(router)


def test_list_and_read_are_masked(tree, coordinator):
    volunteer = make_volunteer(area=tree.community, name="张晓明")
    body = client.get("/volunteers", user=coordinator).json()
    assert body["total"] == 1
    item = body["items"][0]
    assert item["name"] == "张*明" and item["phone"] == volunteer.phone_masked
    assert decrypt(volunteer.phone_cipher) not in str(body)
    assert client.get(f"/volunteers/{volunteer.pk}", user=coordinator).json()["skills"] == [
        "delivery",
        "driving",
    ]


def test_approve_dispatch_and_log_hours(tree, coordinator):
    volunteer = make_volunteer(area=tree.community)
    item = open_item(tree.grid_a)
    with pytest.raises(Conflict):
        client.post(
            f"/volunteers/{volunteer.pk}/dispatches", json={"work_item_id": item.pk}, user=coordinator
        )
    response = client.post(
        f"/volunteers/{volunteer.pk}/decision", json={"decision": "approve"}, user=coordinator
    )
    assert response.status_code == 200 and response.json()["status"] == "approved"
    response = client.post(
        f"/volunteers/{volunteer.pk}/dispatches", json={"work_item_id": item.pk}, user=coordinator
    )
    assert response.status_code == 201
    dispatch_id = response.json()["id"]
    with pytest.raises(Invalid):
        client.post(f"/dispatches/{dispatch_id}/hours", json={"hours": "25"}, user=coordinator)
    response = client.post(f"/dispatches/{dispatch_id}/hours", json={"hours": "4.5"}, user=coordinator)
    assert response.status_code == 200 and response.json()["status"] == "done"
    assert client.get(f"/volunteers/{volunteer.pk}", user=coordinator).json()["hours_total"] in {"4.5", 4.5}
    assert Dispatch.objects.get().hours == 4.5


def test_out_of_scope_is_not_found(tree, coordinator, far_coordinator):
    volunteer = make_volunteer(area=tree.community, approved_by=coordinator)
    assert client.get("/volunteers", user=far_coordinator).json()["total"] == 0
    with pytest.raises(NotFound):
        client.get(f"/volunteers/{volunteer.pk}", user=far_coordinator)
    with pytest.raises(NotFound):
        client.post(
            f"/volunteers/{volunteer.pk}/decision", json={"decision": "suspend"}, user=far_coordinator
        )
