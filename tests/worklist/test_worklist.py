import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from fangkong.audit.models import AuditEvent
from fangkong.common.errors import Conflict, Invalid
from fangkong.worklist.selectors import work_item_list
from fangkong.worklist.services import (
    work_item_assign,
    work_item_cancel,
    work_item_complete,
    work_item_create,
)

pytestmark = pytest.mark.django_db


def item(unit, *, hours: float, title: str = "上门", priority: str = "normal"):
    return work_item_create(
        actor=None,
        kind="household.visit",
        title=title,
        org_unit=unit,
        due_at=timezone.now() + timedelta(hours=hours),
        priority=priority,
    )


def test_my_work_lists_overdue_first_then_urgent_then_by_due_time(tree, grid_worker):
    later = item(tree.grid_a, hours=5, title="later")
    urgent = item(tree.grid_a, hours=3, title="urgent", priority="urgent")
    overdue = item(tree.grid_a, hours=-1, title="overdue")
    soon = item(tree.grid_a, hours=1, title="soon")
    item(tree.grid_b, hours=-2, title="not mine")
    assert list(work_item_list(actor=grid_worker)) == [overdue, urgent, soon, later]


def test_completing_records_the_time_and_refuses_twice(tree, grid_worker):
    work = item(tree.grid_a, hours=1)
    work_item_complete(actor=grid_worker, item=work, note="已送达")
    assert work.status == "done" and work.done_at is not None and "已送达" in work.note
    with pytest.raises(Conflict) as error:
        work_item_complete(actor=grid_worker, item=work)
    assert "Done" in error.value.message or "已完成" in error.value.message
    assert AuditEvent.objects.filter(action="worklist.item.complete").count() == 1


def test_cancel_needs_a_reason(tree, grid_worker):
    work = item(tree.grid_a, hours=1)
    with pytest.raises(Invalid):
        work_item_cancel(actor=grid_worker, item=work, reason=" ")
    work_item_cancel(actor=grid_worker, item=work, reason="重复任务")
    assert work.status == "cancelled"


def test_assign_only_to_someone_working_in_the_unit(tree, grid_worker):
    work = item(tree.grid_a, hours=1)
    outsider = __import__("tests.orgs.factories", fromlist=["user_with_role"]).user_with_role(
        "grid_worker", tree.grid_b
    )
    with pytest.raises(Invalid):
        work_item_assign(actor=grid_worker, item=work, assignee=outsider)
    work_item_assign(actor=grid_worker, item=work, assignee=grid_worker)
    assert work.status == "in_progress" and work.assignee == grid_worker


def test_naive_due_time_is_refused(tree, grid_worker):
    with pytest.raises(Invalid):
        work_item_create(
            actor=grid_worker,
            kind="k",
            title="t",
            org_unit=tree.grid_a,
            due_at=timezone.now().replace(tzinfo=None),
        )


def test_work_cannot_be_given_to_a_unit_outside_scope(tree, grid_worker):
    with pytest.raises(Invalid):
        work_item_create(
            actor=grid_worker,
            kind="k",
            title="t",
            org_unit=tree.grid_b,
            due_at=timezone.now() + timedelta(hours=1),
        )


def test_api_create_complete_and_409_on_repeat(client: Client, tree, grid_worker):
    client.force_login(grid_worker)
    due = (timezone.now() + timedelta(hours=2)).isoformat()
    body = {"kind": "people.verify", "title": "回电", "org_unit_id": tree.grid_a.pk, "due_at": due}
    created = client.post("/api/work/items", data=json.dumps(body), content_type="application/json")
    assert created.status_code == 201
    url = f"/api/work/items/{created.json()['id']}/complete"
    assert client.post(url, data="{}", content_type="application/json").json()["status"] == "done"
    again = client.post(url, data="{}", content_type="application/json")
    assert again.status_code == 409


def test_my_work_page_shows_overdue_badge(client: Client, tree, grid_worker):
    item(tree.grid_a, hours=-3, title="过期任务")
    client.force_login(grid_worker)
    page = client.get("/work/").content.decode()
    assert "过期任务" in page
    assert 'data-testid="overdue-count"' in page


def test_page_actions(client: Client, tree, grid_worker):
    work = item(tree.grid_a, hours=1)
    client.force_login(grid_worker)
    client.post(f"/work/{work.pk}/take/")
    client.post(f"/work/{work.pk}/complete/", {"note": "ok"})
    work.refresh_from_db()
    assert (work.status, work.assignee) == ("done", grid_worker)
