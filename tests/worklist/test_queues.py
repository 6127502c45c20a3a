"""A queue for every role: "My work" and ``GET /api/work/items`` show the kinds of the user's roles
in their scope, counted per kind, filtered, searched and sorted; items are taken, given and
completed in bulk with refusals counted, never silent."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.translation import override

from fangkong.audit.models import AuditEvent
from fangkong.orgs.roles import Perm, Role
from fangkong.orgs.scope import can
from fangkong.worklist.kinds import KINDS, kinds_for_roles
from fangkong.worklist.models import WorkItem
from fangkong.worklist.selectors import QueueFilters, work_queue, work_queue_counts
from fangkong.worklist.services import work_item_complete, work_item_create, work_items_complete
from tests.orgs.factories import UserFactory, user_with_role
from tests.orgs.second_factor import form_login

pytestmark = pytest.mark.django_db

DOERS = [
    Role.LAB,
    Role.HOTLINE,
    Role.QUARANTINE_STAFF,
    Role.GRID_WORKER,
    Role.EPIDEMIOLOGIST,
    Role.VOLUNTEER_COORDINATOR,
]


def work(
    unit: Any, kind: str = "household.visit", *, hours: float = 2, title: str = "上门", **kw: Any
) -> WorkItem:
    return work_item_create(
        actor=None,
        kind=kind,
        title=title,
        org_unit=unit,
        due_at=timezone.now() + timedelta(hours=hours),
        **kw,
    )


def every_kind(unit: Any, *, hours: float = 2) -> list[WorkItem]:
    return [work(unit, kind, hours=hours, title=f"{kind} 张*明") for kind in KINDS]


def english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


# --- kinds per role ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", DOERS, ids=str)
def test_each_role_sees_only_its_own_kinds(tree, role):
    every_kind(tree.grid_a)
    user = user_with_role(role, tree.district)
    shown = {item.kind for item in work_queue(actor=user, filters=QueueFilters())}
    assert shown == set(kinds_for_roles({role})) and shown
    assert {rule.kind for rule in KINDS.values() if rule.role == role} <= shown


def test_commanders_admins_and_superusers_see_every_kind(tree, commander, admin_user):
    every_kind(tree.grid_a)
    admin = user_with_role("admin", tree.city)
    for actor in (commander, admin, admin_user):
        assert {i.kind for i in work_queue(actor=actor, filters=QueueFilters())} == set(KINDS)


def test_two_roles_show_each_ones_kinds_only_where_it_is_held(tree):
    every_kind(tree.grid_a)
    every_kind(tree.grid_b)
    every_kind(tree.grid_far)
    user = user_with_role("lab", tree.grid_a)
    user.memberships.create(org_unit=tree.grid_b, role="grid_worker")
    shown = {(i.org_unit_id, i.kind) for i in work_queue(actor=user, filters=QueueFilters())}
    assert shown == {(tree.grid_a.pk, k) for k in kinds_for_roles({"lab"})} | {
        (tree.grid_b.pk, k) for k in kinds_for_roles({"grid_worker"})
    }


# --- counts, filters, search, sort --------------------------------------------------------------


def test_counts_per_kind_equal_a_count_of_the_rows_in_one_query(
    tree, grid_worker, django_assert_max_num_queries
):
    kinds = kinds_for_roles({"grid_worker"})
    for n in range(24):
        item = work(tree.grid_a if n % 3 else tree.grid_b, kinds[n % len(kinds)], hours=(n % 5) - 2)
        if n % 7 == 0:
            work_item_complete(actor=grid_worker, item=item) if item.org_unit == tree.grid_a else None
    every_kind(tree.grid_a, hours=-1)
    every_kind(tree.grid_far, hours=-1)
    now = timezone.now()
    rows = [
        i
        for i in WorkItem.objects.all()
        if i.org_unit.path.startswith(tree.grid_a.path)
        and i.kind in kinds
        and i.status in {"open", "in_progress"}
    ]
    with django_assert_max_num_queries(2):  # the memberships, then one aggregate
        counts = work_queue_counts(actor=grid_worker, filters=QueueFilters())
    assert [c.kind for c in counts] == kinds
    for c in counts:
        assert c.total == sum(1 for i in rows if i.kind == c.kind), c.kind
        assert c.overdue == sum(1 for i in rows if i.kind == c.kind and i.due_at < now), c.kind
    assert sum(c.total for c in counts) == work_queue(actor=grid_worker, filters=QueueFilters()).count()


@time_machine.travel(datetime(2022, 5, 3, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False)
def test_filters_kind_unit_due_and_assignment(tree, epidemiologist, commander):
    today_late = timezone.localtime().replace(hour=23, minute=59)
    mine = work(tree.grid_a, "case.investigate", hours=-1, assignee=epidemiologist)
    later = work(tree.grid_b, "case.investigate", hours=48)
    today = work_item_create(
        actor=None, kind="case.investigate", title="今日", org_unit=tree.grid_b, due_at=today_late
    )
    sample = work(tree.grid_a, "quarantine.sample", hours=-3)

    def shown(actor: Any = epidemiologist, **given: Any) -> set[int]:
        return {i.pk for i in work_queue(actor=actor, filters=QueueFilters(**given))}

    assert shown() == {mine.pk, later.pk, today.pk}
    assert shown(actor=commander, kind="quarantine.sample") == {sample.pk}
    assert shown(unit=tree.grid_b) == {later.pk, today.pk}
    assert shown(due="overdue") == {mine.pk}
    assert today.pk in shown(due="today") and later.pk not in shown(due="today")
    assert shown(assigned="me") == {mine.pk}
    assert shown(assigned="unassigned") == {later.pk, today.pk}


def test_search_by_masked_name_full_name_subject_and_case_number(tree, grid_worker):
    zhang = work(tree.grid_a, "quarantine.fever", title="Follow up: 张*明 37.9", subject=tree.grid_a)
    li = work(tree.grid_a, "quarantine.fever", title="Follow up: 李*")
    case = work(tree.grid_a, "household.visit", title="Investigate case 440303-2022-0007")

    def found(q: str) -> set[int]:
        return {i.pk for i in work_queue(actor=grid_worker, filters=QueueFilters(q=q))}

    assert found("张*明") == {zhang.pk}
    assert found("张三明") == {zhang.pk}  # a full name is searched in its masked form
    assert found("李四") == {li.pk}
    assert found("0007") == {case.pk}
    assert found(str(tree.grid_a.pk)) == {zhang.pk}  # the subject's id


def test_overdue_first_by_default_and_other_sorts(tree, grid_worker):
    later = work(tree.grid_a, hours=5, title="later")
    urgent = work(tree.grid_a, hours=3, title="urgent", priority="urgent")
    overdue = work(tree.grid_a, hours=-1, title="overdue")
    soon = work(tree.grid_b, hours=1, title="soon")
    grid_b_worker = user_with_role("grid_worker", tree.community)
    assert list(work_queue(actor=grid_b_worker, filters=QueueFilters())) == [overdue, urgent, soon, later]
    assert list(work_queue(actor=grid_b_worker, filters=QueueFilters(sort="-due"))) == [
        later,
        urgent,
        soon,
        overdue,
    ]
    assert list(work_queue(actor=grid_b_worker, filters=QueueFilters(sort="unit")))[-1] == soon


# --- bulk complete ------------------------------------------------------------------------------


def test_bulk_complete_takes_a_constant_number_of_queries(tree, grid_worker):
    few = [work(tree.grid_a) for _ in range(3)]
    many = [work(tree.grid_a) for _ in range(30)]
    can(grid_worker, Perm.WORK_CHANGE)  # the memberships, read once per request

    def queries(items: list[WorkItem]) -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            work_items_complete(actor=grid_worker, items=items, note="已完成")
        sql = [q["sql"].split(" times: ")[-1] for q in captured]  # executemany: "N times: INSERT …"
        words = [s.split()[0] for s in sql if not s.startswith(("SAVEPOINT", "RELEASE"))]
        return ["INSERT" if w == "COPY" else w for w in words]  # PostgreSQL loads rows by COPY

    assert queries(few) == queries(many) == ["SELECT", "UPDATE", "INSERT"]  # read, close, audit
    assert WorkItem.objects.filter(status="done", note__contains="已完成").count() == 33
    assert AuditEvent.objects.filter(action="worklist.item.complete").count() == 33


def test_bulk_complete_refuses_items_it_may_not_change_and_closed_ones_by_count(tree, grid_worker):
    open_ones = [work(tree.grid_a) for _ in range(3)]
    closed = work(tree.grid_a)
    work_item_complete(actor=grid_worker, item=closed, note="先完成")
    elsewhere = work(tree.grid_b)
    result = work_items_complete(actor=grid_worker, items=[*open_ones, closed, elsewhere], note="一起")
    assert [i.pk for i in result.done] == [i.pk for i in open_ones]
    assert (result.not_allowed, result.already_closed) == (1, 1)
    closed.refresh_from_db()
    elsewhere.refresh_from_db()
    assert closed.note == "先完成" and elsewhere.status == "open"


def test_bulk_complete_on_the_page_names_what_was_done_and_refused(client: Client, tree, grid_worker):
    mine = [work(tree.grid_a) for _ in range(3)]
    closed = work(tree.grid_a)
    work_item_complete(actor=grid_worker, item=closed)
    far = work(tree.grid_far)
    english(client).force_login(grid_worker)
    ids = [*(i.pk for i in mine), closed.pk, far.pk]
    back = "kind=household.visit&due=overdue&page=2"
    response = client.post("/work/complete/", {"item": ids, "note": "已上门", "back": back})
    assert response.status_code == 302 and response["Location"] == f"/work/?{back}"
    text = client.get(response["Location"]).content.decode()
    assert "3 work items marked done." in text
    assert "1 refused: outside your scope." in text and "1 refused: already closed." in text
    assert WorkItem.objects.filter(pk__in=[i.pk for i in mine], status="done", note="已上门").count() == 3
    far.refresh_from_db()
    assert far.status == "open"


def test_bulk_complete_with_nothing_ticked_says_so(client: Client, tree, grid_worker):
    english(client).force_login(grid_worker)
    response = client.post("/work/complete/", {"note": "x"}, follow=True)
    assert "Tick the work items to complete first." in response.content.decode()


# --- closed items -------------------------------------------------------------------------------


def test_completing_or_cancelling_a_closed_item_is_409_and_changes_nothing(client: Client, tree, grid_worker):
    item = work(tree.grid_a)
    work_item_complete(actor=grid_worker, item=item, note="第一次")
    item.refresh_from_db()
    before = (item.status, item.done_at, item.note)
    client.force_login(grid_worker)
    for action, body in (("complete", {"note": "again"}), ("cancel", {"reason": "重复"})):
        with override("en"):
            answer = client.post(
                f"/api/work/items/{item.pk}/{action}", data=json.dumps(body), content_type="application/json"
            )
        assert answer.status_code == 409
        assert re.search(r"Done|已完成", answer.json()["detail"])
    item.refresh_from_db()
    assert (item.status, item.done_at, item.note) == before
    page = english(client).post(f"/work/{item.pk}/complete/", {"note": "again"}, follow=True)
    assert "Cannot complete a work item that is Done" in page.content.decode()


# --- API ----------------------------------------------------------------------------------------


def test_api_list_has_the_same_filters(client: Client, tree, lab_user):
    every_kind(tree.grid_a, hours=-1)
    sample = work(tree.grid_b, "quarantine.sample", hours=30, title="采样：王*明，第2天")
    client.force_login(lab_user)
    listed = client.get("/api/work/items").json()
    assert {i["kind"] for i in listed["items"]} == set(kinds_for_roles({"lab"}))
    assert client.get("/api/work/items", {"due": "overdue"}).json()["total"] == 1
    only = client.get(
        "/api/work/items", {"unit": tree.grid_b.pk, "q": "王小明", "assigned": "unassigned"}
    ).json()
    assert [i["id"] for i in only["items"]] == [sample.pk]
    counts = client.get("/api/work/counts").json()
    assert counts == [{"kind": "quarantine.sample", "label": counts[0]["label"], "total": 2, "overdue": 1}]
    assert client.get("/api/work/items", {"unit": tree.grid_far.pk}).status_code == 404


def test_api_bulk_complete_counts_refusals_and_is_404_when_none_is_in_scope(
    client: Client, tree, grid_worker
):
    mine = [work(tree.grid_a) for _ in range(2)]
    closed = work(tree.grid_a)
    work_item_complete(actor=grid_worker, item=closed)
    far = [work(tree.grid_far) for _ in range(2)]
    client.force_login(grid_worker)

    def post(ids: list[int]) -> Any:
        body = json.dumps({"ids": ids, "note": "批量"})
        return client.post("/api/work/items/complete", data=body, content_type="application/json")

    answer = post([*(i.pk for i in mine), closed.pk, *(i.pk for i in far)])
    assert answer.status_code == 200
    assert answer.json() == {
        "done": 2,
        "refused_outside_scope": 2,
        "refused_closed": 1,
        "done_ids": [i.pk for i in mine],
    }
    outside = post([i.pk for i in far])
    assert outside.status_code == 404 and outside.json() == {"detail": "Not Found"}
    assert WorkItem.objects.filter(pk__in=[i.pk for i in far], status="open").count() == 2


# --- pages --------------------------------------------------------------------------------------


def test_login_lands_each_role_on_its_own_queue(client: Client, tree):
    every_kind(tree.grid_a)
    for role in DOERS:
        user = UserFactory()
        user.memberships.create(org_unit=tree.district, role=role)
        client.logout()
        response = form_login(client, user.username, "pw-for-tests-1")  # and the second factor
        assert response.redirect_chain[-1][0] == "/work/", role
        shown = set(re.findall(r'data-testid="work-row" data-kind="([\w.]+)"', response.content.decode()))
        assert shown == set(kinds_for_roles({role})), role


def test_my_work_page_counts_filters_and_keeps_them_across_a_take(client: Client, tree, grid_worker):
    overdue = work(tree.grid_a, "household.visit", hours=-2, title="过期上门")
    work(tree.grid_a, "people.verify", hours=3)
    work(tree.grid_a, "quarantine.transfer", hours=-3)  # quarantine staff's, not shown
    client.force_login(grid_worker)
    page = client.get("/work/").content.decode()
    assert 'data-kind="household.visit" data-total="1" data-overdue="1"' in page
    assert 'data-kind="people.verify" data-total="1" data-overdue="0"' in page
    assert "quarantine.transfer" not in page
    filtered = client.get("/work/", {"kind": "household.visit", "q": "过期"}).content.decode()
    assert filtered.count('data-testid="work-row"') == 1
    back = "kind=household.visit&q=%E8%BF%87%E6%9C%9F"
    answer = client.post(f"/work/{overdue.pk}/take/", {"to": "list", "back": back})
    assert answer["Location"] == f"/work/?{back}"
    overdue.refresh_from_db()
    assert overdue.assignee == grid_worker


def test_assign_to_a_named_colleague_from_the_item_page(client: Client, tree, grid_worker):
    item = work(tree.grid_a)
    colleague = user_with_role("grid_worker", tree.community, username="li.grid")
    user_with_role("grid_worker", tree.grid_b, username="not.here")
    english(client).force_login(grid_worker)
    detail = client.get(f"/work/{item.pk}/").content.decode()
    assert 'value="li.grid"' in detail and "not.here" not in detail
    response = client.post(f"/work/{item.pk}/assign/", {"assignee": "li.grid"}, follow=True)
    assert "is given to li.grid" in response.content.decode()
    item.refresh_from_db()
    assert item.assignee == colleague and item.status == "in_progress"


def test_the_unit_filter_cascades_and_refuses_a_unit_outside_scope(client: Client, tree, epidemiologist):
    work(tree.grid_a, "case.investigate", hours=-1)
    client.force_login(epidemiologist)
    page = client.get("/work/").content.decode()
    assert f'<option value="{tree.street.pk}">' in page  # the district's children, not every unit
    assert f'<option value="{tree.grid_a.pk}">' not in page
    deeper = client.get("/work/", {"unit": tree.community.pk}).content.decode()
    assert f'<option value="{tree.grid_a.pk}">' in deeper and 'data-testid="rollup-row"' in deeper
    assert client.get("/work/", {"unit": tree.grid_far.pk}).status_code == 404


def test_the_lab_sees_its_queue_and_may_mark_samples_taken_in_bulk(client: Client, tree, lab_user):
    work(tree.grid_a, "quarantine.sample")
    client.force_login(lab_user)
    page = client.get("/work/").content.decode()
    assert 'data-kind="quarantine.sample"' in page and 'data-testid="bulk-form"' in page
