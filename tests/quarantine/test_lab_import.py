"""The lab's result file: 1,000 rows, bad rows named by row and column, a file sent twice, conflicts."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from fangkong.cases.models import Case
from fangkong.quarantine.lab_imports import lab_import_create, lab_import_run
from fangkong.quarantine.models import LabResultImport
from fangkong.quarantine.models import TestAppointment as Appointment
from tests.people.factories import resident_id
from tests.quarantine.test_lab import make_order

pytestmark = pytest.mark.django_db


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _run(actor, content: bytes, name: str = "results.csv") -> LabResultImport:
    job = lab_import_create(actor=actor, file_name=name, content=content)
    return lab_import_run(import_id=job.pk)


@pytest.fixture
def week_old(tree, epidemiologist):
    """Orders whose five tests (days 1, 2, 3, 5, 7) are all due by today."""

    def make(n: int, grid=None):
        start = timezone.localdate() - timedelta(days=6)
        return [make_order(actor=epidemiologist, grid=grid or tree.grid_a, day_one=start) for _ in range(n)]

    return make


def test_a_thousand_rows_are_recorded(week_old, lab_user):
    orders = week_old(200)
    tests = Appointment.objects.filter(order__in=orders).order_by("id")
    rows = [[str(t.order_id), t.date.isoformat(), "阴性"] for t in tests]
    assert len(rows) == 1000
    job = _run(lab_user, _csv(["隔离令编号", "检测日期", "检测结果"], rows))
    assert (job.status, job.created_count, job.errors) == ("succeeded", 1000, [])
    assert Appointment.objects.filter(order__in=orders, result="negative").count() == 1000


def test_five_bad_rows_are_named_by_row_and_column_and_the_rest_recorded(
    tree, week_old, lab_user, epidemiologist
):
    orders = week_old(4)
    far_epi = pytest.importorskip("tests.orgs.factories").user_with_role(
        "epidemiologist", tree.other_district
    )
    far = make_order(actor=far_epi, grid=tree.grid_far)
    good = [[str(o.pk), o.day_one.isoformat(), "negative"] for o in orders]
    bad = [
        ["99999999", orders[0].day_one.isoformat(), "阴性"],  # row 6: unknown order
        [str(far.pk), far.day_one.isoformat(), "阴性"],  # row 7: outside the lab's area
        [str(orders[1].pk), "2022-13-01", "阴性"],  # row 8: not a date
        [
            str(orders[2].pk),
            (orders[2].day_one + timedelta(days=3)).isoformat(),
            "阴性",
        ],  # row 9: no test (day 4)
        [
            str(orders[3].pk),
            (orders[3].day_one + timedelta(days=1)).isoformat(),
            "弱阳",
        ],  # row 10: bad result
    ]
    job = _run(lab_user, _csv(["order", "test_date", "result"], good + bad))
    assert job.status == "succeeded" and job.created_count == 4
    assert [(e["row"], e["column"]) for e in job.errors] == [
        (6, "order"),
        (7, "order"),
        (8, "test_date"),
        (9, "test_date"),
        (10, "result"),
    ]
    assert Appointment.objects.filter(result="negative").count() == 4
    assert Appointment.objects.get(order=far, day=1).result == "pending"


def test_the_same_file_twice_changes_nothing(week_old, lab_user):
    orders = week_old(3)
    content = _csv(
        ["隔离令编号", "检测日期", "检测结果"], [[str(o.pk), o.day_one.isoformat(), "阴性"] for o in orders]
    )
    first = _run(lab_user, content)
    stamped = list(Appointment.objects.filter(result="negative").values_list("pk", "result_at"))
    second = _run(lab_user, content)
    assert (first.created_count, second.created_count, second.unchanged_count) == (3, 0, 3)
    assert second.errors == [] and second.status == "succeeded"
    assert list(Appointment.objects.filter(result="negative").values_list("pk", "result_at")) == stamped


def test_a_different_result_for_a_resulted_test_needs_a_correction(week_old, lab_user):
    (order,) = week_old(1)
    _run(
        lab_user, _csv(["order", "date", "result"], [[str(order.pk), order.day_one.isoformat(), "negative"]])
    )
    job = _run(
        lab_user, _csv(["order", "date", "result"], [[str(order.pk), order.day_one.isoformat(), "positive"]])
    )
    assert job.status == "rejected" and job.created_count == 0
    assert job.errors[0]["row"] == 2 and job.errors[0]["column"] == "result"
    assert "correction" in job.errors[0]["message"] or "更正" in job.errors[0]["message"]
    assert not Case.objects.exists()


def test_by_id_number_with_full_width_digits_and_a_positive_names_the_case(tree, epidemiologist, lab_user):
    number = resident_id()
    start = timezone.localdate() - timedelta(days=1)
    order = make_order(actor=epidemiologist, grid=tree.grid_a, day_one=start, id_number=number)
    wide = number.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
    job = _run(
        lab_user,
        _csv(["证件号码", "采样日期", "结果", "结果时间"], [[wide, start.strftime("%Y/%m/%d"), "阳性", ""]]),
    )
    case = Case.objects.get(person=order.person)
    assert job.created_count == 1 and job.cases == [case.number]
    order.refresh_from_db()
    assert order.status == "converted"


def test_bad_input_never_breaks_the_import(week_old, lab_user):
    (order,) = week_old(1)
    rows = [
        [str(order.pk), "0001-01-01", "阴性", ""],
        [str(order.pk) + "\x00", order.day_one.isoformat(), "阴性", ""],
        ["9" * 40, order.day_one.isoformat(), "阴性", ""],
        [str(order.pk), order.day_one.isoformat(), "阴性", "0001-01-01 00:00"],
        [str(order.pk), order.day_one.isoformat(), "阴性", "2999-01-01 00:00"],
    ]
    job = _run(lab_user, _csv(["order", "date", "result", "result_at"], rows))
    assert job.status in {"succeeded", "rejected"}
    assert {e["column"] for e in job.errors} == {"date", "result_at", "order"} and len(job.errors) == 4


def test_upload_page_and_progress_page(client: Client, week_old, lab_user):
    (order,) = week_old(1)
    client.force_login(lab_user)
    assert client.get("/quarantine/lab/imports/").status_code == 200
    assert client.post("/quarantine/lab/imports/", {}).status_code == 422
    upload = io.BytesIO(
        _csv(["order", "date", "result"], [[str(order.pk), order.day_one.isoformat(), "阴性"]])
    )
    upload.name = "results.csv"
    response = client.post("/quarantine/lab/imports/", {"file": upload})
    assert response.status_code == 302
    job = LabResultImport.objects.get()
    lab_import_run(import_id=job.pk)
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="import-recorded"' in page and 'data-status="succeeded"' in page
    assert client.get(response["Location"], HTTP_HX_REQUEST="true").status_code == 200
