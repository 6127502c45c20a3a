"""The lab at scale: tests due, results in bulk (constant queries), refusals by count, positives."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from fangkong.audit.models import AuditEvent
from fangkong.cases.models import Case
from fangkong.common.errors import Conflict, Invalid
from fangkong.quarantine import lab
from fangkong.quarantine.lab import lab_result_correct, lab_results_record
from fangkong.quarantine.models import QuarantineOrder
from fangkong.quarantine.models import TestAppointment as Appointment
from fangkong.worklist.models import WorkItem
from fangkong.worklist.services import work_item_create
from tests.people.factories import make_person

pytestmark = pytest.mark.django_db


def make_order(
    *,
    actor: Any,
    grid: Any,
    day_one: date | None = None,
    days: tuple[int, ...] = (1, 2, 3, 5, 7),
    **person: Any,
) -> QuarantineOrder:
    """An active 7-day order with its tests and their sampling items (day 1 today by default)."""
    day_one = day_one or timezone.localdate()
    order = QuarantineOrder.objects.create(
        person=make_person(actor=actor, grid=grid, **person),
        org_unit=grid,
        kind="home",
        protocol="china-9",
        last_exposure=timezone.make_aware(datetime.combine(day_one - timedelta(days=1), time(8))),
        day_one=day_one,
        planned_end=timezone.make_aware(datetime.combine(day_one + timedelta(days=7), time.min)),
    )
    for day in days:
        when = day_one + timedelta(days=day - 1)
        Appointment.objects.create(order=order, day=day, date=when)
        work_item_create(
            actor=None,
            kind="quarantine.sample",
            subject=order,
            org_unit=grid,
            title=f"sample day {day}",
            due_at=timezone.make_aware(datetime.combine(when, time(10))),
        )
    return order


def _today_tests(orders: list[QuarantineOrder]) -> list[int]:
    today = timezone.localdate()
    return list(Appointment.objects.filter(order__in=orders, date=today).values_list("pk", flat=True))


def _open_samples(orders: list[QuarantineOrder]) -> int:
    return WorkItem.objects.filter(
        kind="quarantine.sample", subject_id__in=[str(o.pk) for o in orders], status__in=["open", "claimed"]
    ).count()


def test_fifty_negatives_in_one_batch_take_constant_queries(tree, epidemiologist, lab_user):
    orders = [make_order(actor=epidemiologist, grid=tree.grid_a) for _ in range(50)]
    ids = _today_tests(orders)
    open_before = _open_samples(orders)
    audits = AuditEvent.objects.count()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        lab_results_record(actor=lab_user, appointment_ids=ids[:5], result="negative")
    with CaptureQueriesContext(connection) as big:
        batch = lab_results_record(actor=lab_user, appointment_ids=ids[5:], result="negative")
    assert len(batch.recorded) == 45 and not batch.refused
    mine = [q for q in big if not _lazy_unit(q["sql"])]
    assert len(mine) <= len([q for q in small if not _lazy_unit(q["sql"])]) <= 15, [
        q["sql"][:80] for q in mine
    ]
    assert Appointment.objects.filter(pk__in=ids, result="negative").count() == 50
    assert _open_samples(orders) == open_before - 50  # today's sampling items are done, others stay
    assert AuditEvent.objects.filter(action="quarantine.test.negative").count() == 50
    assert AuditEvent.objects.count() > audits


def _lazy_unit(sql: str) -> bool:
    """A work item's org unit read one by one for its audit event, inside ``work_items_end``."""
    return 'FROM "orgs_orgunit" WHERE "orgs_orgunit"."id" =' in sql


def test_fifty_in_one_batch_under_a_query_ceiling(
    tree, epidemiologist, lab_user, django_assert_max_num_queries
):
    orders = [make_order(actor=epidemiologist, grid=tree.grid_b) for _ in range(50)]
    ids = _today_tests(orders)
    with django_assert_max_num_queries(15):
        batch = lab_results_record(actor=lab_user, appointment_ids=ids, result="negative")
    assert len(batch.recorded) == 50


def test_mixed_batch_is_refused_by_count_with_reasons(tree, epidemiologist, lab_user):
    mine = [make_order(actor=epidemiologist, grid=tree.grid_a) for _ in range(3)]
    far_epi = pytest.importorskip("tests.orgs.factories").user_with_role(
        "epidemiologist", tree.other_district
    )
    far = make_order(actor=far_epi, grid=tree.grid_far)
    ids = _today_tests(mine)
    lab_results_record(actor=lab_user, appointment_ids=ids[:1], result="negative")  # now resulted
    tomorrow = Appointment.objects.get(order=mine[1], day=2).pk
    mine[2].status = "released"
    mine[2].save()
    batch = lab_results_record(
        actor=lab_user,
        appointment_ids=[*ids, tomorrow, *_today_tests([far]), 999_999_999],
        result="negative",
    )
    assert [t.order_id for t in batch.recorded] == [mine[1].pk]
    assert dict(batch.refused) == {"resulted": 1, "not_due": 1, "not_active": 1, "unknown": 2}
    assert Appointment.objects.get(order=far, day=1).result == "pending"


def test_nothing_ticked_or_a_bad_result_is_refused(tree, lab_user):
    with pytest.raises(Invalid):
        lab_results_record(actor=lab_user, appointment_ids=[], result="negative")
    with pytest.raises(Invalid):
        lab_results_record(actor=lab_user, appointment_ids=[1], result="maybe")


def test_an_overdue_test_can_be_entered_and_is_flagged_on_the_page(
    client: Client, tree, epidemiologist, lab_user
):
    order = make_order(
        actor=epidemiologist, grid=tree.grid_a, day_one=timezone.localdate() - timedelta(days=2)
    )
    assert lab.tests_due(actor=lab_user, on=timezone.localdate()).filter(order=order).count() == 3  # days 1-3
    client.force_login(lab_user)
    page = client.get("/quarantine/lab/").content.decode()
    assert page.count('data-testid="due-row"') == 3 and page.count("badge overdue") == 2
    only = client.get("/quarantine/lab/?day=1").content.decode()
    assert only.count('data-testid="due-row"') == 1


def test_positive_creates_a_case_and_the_message_names_it(client: Client, tree, epidemiologist, lab_user):
    order = make_order(actor=epidemiologist, grid=tree.grid_a)
    test = Appointment.objects.get(order=order, day=1)
    client.force_login(lab_user)
    detail = client.get(f"/quarantine/{order.pk}/").content.decode()
    assert "flow investigation will start" in detail or "流调" in detail  # asked first
    response = client.post(
        "/quarantine/lab/results/", {"tests": [test.pk], "result": "positive", "order": order.pk}, follow=True
    )
    case = Case.objects.get(person=order.person)
    order.refresh_from_db()
    assert order.status == "converted" and order.converted_case == case
    assert case.number in response.content.decode()
    assert _open_samples([order]) == 0  # the converted order's sampling ends with it


def test_bulk_page_keeps_its_filters_and_says_what_happened(client: Client, tree, epidemiologist, lab_user):
    orders = [make_order(actor=epidemiologist, grid=tree.grid_a, name="李小红") for _ in range(3)]
    client.force_login(lab_user)
    back = "q=%E6%9D%8E&sort=-date"
    response = client.post(
        "/quarantine/lab/results/", {"tests": _today_tests(orders), "result": "negative", "back": back}
    )
    assert response.status_code == 302 and response["Location"].endswith("?q=%E6%9D%8E&sort=-date")
    page = client.get(response["Location"]).content.decode()
    assert "3" in page and 'data-testid="lab-empty"' in page


def test_the_page_survives_bad_input(client: Client, tree, lab_user):
    client.force_login(lab_user)
    for query in (
        "on=0001-01-01",
        "on=9999-12-31&site=99999999999999999999",
        "page=10**99",
        "q=%00x",
        "unit=%00",
    ):
        assert client.get(f"/quarantine/lab/?{query}").status_code == 200, query
    assert client.get("/quarantine/lab/units/?unit=第").status_code == 200
    response = client.post(
        "/quarantine/lab/results/", {"tests": ["１２", "x\x00", "9" * 40], "result": "negative"}
    )
    assert response.status_code == 302


def test_search_by_order_number_and_unit_type_ahead(client: Client, tree, epidemiologist, lab_user):
    a = make_order(actor=epidemiologist, grid=tree.grid_a)
    make_order(actor=epidemiologist, grid=tree.grid_b)
    client.force_login(lab_user)
    assert client.get(f"/quarantine/lab/?q={a.pk}").content.decode().count('data-testid="due-row"') == 1
    grid_b = client.get(f"/quarantine/lab/?unit={tree.grid_b.code}").content.decode()
    assert grid_b.count('data-testid="due-row"') == 1
    options = client.get("/quarantine/lab/units/?unit=第2").content.decode()
    assert tree.grid_b.code in options and tree.grid_a.code not in options


def test_a_negative_is_corrected_to_pending_with_an_audit_and_a_positive_is_not(
    tree, epidemiologist, lab_user
):
    order = make_order(actor=epidemiologist, grid=tree.grid_a)
    test = Appointment.objects.get(order=order, day=1)
    lab_results_record(actor=lab_user, appointment_ids=[test.pk], result="negative")
    with pytest.raises(Invalid):
        lab_result_correct(actor=lab_user, appointment=test, result="pending", reason=" ")
    lab_result_correct(actor=lab_user, appointment=test, result="pending", reason="录错了人")
    test.refresh_from_db()
    assert test.result == "pending" and _open_samples([order]) == 5
    assert AuditEvent.objects.filter(action="quarantine.test.correct").count() == 1
    lab_results_record(actor=lab_user, appointment_ids=[test.pk], result="positive")
    test.refresh_from_db()
    with pytest.raises(Conflict, match=Case.objects.get().number):
        lab_result_correct(actor=lab_user, appointment=test, result="negative", reason="x")


def test_a_negative_corrected_to_positive_registers_the_case(tree, epidemiologist, lab_user):
    order = make_order(actor=epidemiologist, grid=tree.grid_a)
    test = Appointment.objects.get(order=order, day=1)
    lab_results_record(actor=lab_user, appointment_ids=[test.pk], result="negative")
    lab_result_correct(actor=lab_user, appointment=test, result="positive", reason="复核阳性")
    order.refresh_from_db()
    assert order.status == "converted" and order.converted_case is not None


def test_api_bulk_results_and_tests_due(client: Client, tree, epidemiologist, lab_user):
    orders = [make_order(actor=epidemiologist, grid=tree.grid_a) for _ in range(2)]
    client.force_login(lab_user)
    due = client.get("/api/quarantine/tests/due").json()
    assert due["total"] == 2 and "*" in due["items"][0]["person"]
    ids = _today_tests(orders)
    answer = client.post(
        "/api/quarantine/tests/results",
        {"tests": [*ids, 123456789], "result": "negative"},
        content_type="application/json",
    ).json()
    assert sorted(answer["recorded"]) == sorted(ids) and answer["refused"] == {"unknown": 1}


def test_the_tests_due_page_lights_its_own_menu_entry_only(client, tree, lab_user):
    client.force_login(lab_user)
    page = client.get("/quarantine/lab/").content.decode()
    lit = [line for line in page.split("<a ") if 'aria-current="page"' in line]
    assert len(lit) == 1 and 'href="/quarantine/lab/"' in lit[0]
