"""Tube results: recorded as a set, the same rows twice change nothing, a different result waits
as a conflict for an audited correction, a positive pool recalls every member with a work item for
their grid, the re-sample is taken at the door, and a positive re-sample registers a case."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from fangkong.audit.models import AuditEvent
from fangkong.cases.models import Case
from fangkong.common.errors import Forbidden
from fangkong.testing.codes import person_code
from fangkong.testing.models import Recall, Tube, TubeResult
from fangkong.testing.results import ResultRow, result_correct, tube_results_record
from fangkong.testing.services import tube_close, tube_open, tube_scan
from fangkong.worklist.lifecycle import work_check
from fangkong.worklist.models import WorkItem
from tests.testing.conftest import barcode

pytestmark = pytest.mark.django_db


def sampled(mass, n: int, people) -> Tube:
    tube = tube_open(actor=mass.collector, round=mass.round, site=mass.site, barcode=barcode(n))
    for person in people:
        tube_scan(actor=mass.collector, tube_id=tube.pk, code=person_code(person))
    return tube_close(actor=mass.collector, tube=tube)


def row(key: int, code: str, result: str, **kw) -> ResultRow:
    return ResultRow(
        key=key,
        barcode=code,
        result=result,
        tested_at=kw.pop("at", timezone.now() - timedelta(hours=1)),
        lab="鹏城检测",
        **kw,
    )


def test_a_positive_pool_recalls_each_member_for_their_grid_and_the_same_file_twice_changes_nothing(
    mass, grid_worker
):
    pool = sampled(mass, 1, mass.people[:10])
    clean = sampled(mass, 2, mass.people[10:12])
    rows = [row(1, pool.barcode, "positive", ct_orf=31.2, ct_n=30.5), row(2, clean.barcode, "negative")]
    out = tube_results_record(actor=mass.lab, rows=rows)
    assert (out.recorded, out.recalls, out.positive_tubes, out.refused) == (2, 10, [pool.barcode], [])
    recalls = Recall.objects.filter(pool=pool)
    assert recalls.count() == 10 and set(recalls.values_list("status", flat=True)) == {"waiting"}
    items = WorkItem.objects.filter(kind="testing.recall", status="open")
    assert items.count() == 10
    assert {i.org_unit_id for i in items} == {p.org_unit_id for p in mass.people[:10]}
    assert all("李**号" in i.title and "李00号" not in i.title for i in items)
    due = recalls.first().due_at
    assert timedelta(hours=5, minutes=59) < due - timezone.now() <= timedelta(hours=6)
    again = tube_results_record(actor=mass.lab, rows=rows)
    assert (again.recorded, again.unchanged, again.recalls) == (0, 2, 0)
    assert WorkItem.objects.filter(kind="testing.recall").count() == 10
    assert work_check() == []


def test_a_re_sample_at_the_door_ends_the_item_and_a_positive_one_registers_a_case(mass, tree):
    pool = sampled(mass, 1, mass.people[:3])
    tube_results_record(actor=mass.lab, rows=[row(1, pool.barcode, "positive")])
    first, second, third = mass.people[:3]
    singles = []
    for n, person in enumerate((first, second, third), 10):
        single = tube_open(
            actor=mass.collector, round=mass.round, site=mass.site, barcode=barcode(n), kind="resample"
        )
        tube_scan(actor=mass.collector, tube_id=single.pk, code=person_code(person))
        singles.append(tube_close(actor=mass.collector, tube=single))
    assert WorkItem.objects.filter(kind="testing.recall", status="done").count() == 3
    out = tube_results_record(
        actor=mass.lab,
        rows=[row(1, singles[0].barcode, "positive", ct_orf=28.0), row(2, singles[1].barcode, "negative")],
    )
    (number,) = out.cases
    case = Case.objects.get(number=number)
    assert (case.person, case.classification) == (first, "suspected")
    assert (
        Recall.objects.get(person=first).status == "positive"
        and Recall.objects.get(person=first).case == case
    )
    assert Recall.objects.get(person=second).status == "cleared"
    assert Recall.objects.get(person=third).status == "sampled"
    assert work_check() == []


def test_a_different_result_waits_for_an_audited_correction(mass):
    pool = sampled(mass, 1, mass.people[:2])
    tube_results_record(actor=mass.lab, rows=[row(1, pool.barcode, "negative")])
    out = tube_results_record(actor=mass.lab, rows=[row(1, pool.barcode, "positive")])
    assert (out.recorded, out.conflicts, out.recalls) == (0, 1, 0)
    assert Tube.objects.get(pk=pool.pk).result == "negative"
    conflict = TubeResult.objects.get(status="conflict")
    result_correct(actor=mass.lab, report=conflict, apply=True, reason="复核确认阳性")
    assert Tube.objects.get(pk=pool.pk).result == "positive"
    assert Recall.objects.filter(pool=pool).count() == 2
    assert AuditEvent.objects.filter(action="testing.tube.correct").exists()


def test_bad_rows_are_named_and_the_good_ones_recorded(mass, tree):
    pool = sampled(mass, 1, mass.people[:2])
    open_tube = tube_open(actor=mass.collector, round=mass.round, site=mass.site, barcode=barcode(2))
    rows = [
        row(1, pool.barcode, "negative"),
        row(2, "999999999999", "negative"),
        row(3, open_tube.barcode, "negative"),
        row(4, pool.barcode, "maybe"),
        row(5, pool.barcode, "negative", at=timezone.now() + timedelta(days=1)),
        row(6, pool.barcode, "negative", ct_n=99.0),
    ]
    out = tube_results_record(actor=mass.lab, rows=rows)
    assert out.recorded == 1
    assert [(k, f) for k, f, _m in sorted(out.refused)] == [
        (2, "barcode"),
        (3, "barcode"),
        (4, "result"),
        (5, "tested_at"),
        (6, "ct_n"),
    ]
    with pytest.raises(Forbidden):
        tube_results_record(actor=mass.collector, rows=rows[:1])


def test_the_round_page_times_the_recall_chain_of_each_positive_pool(mass):
    from django.test import Client

    from fangkong.testing.chain import chain_summary, recall_chain

    pool = sampled(mass, 1, mass.people[:3])
    tube_results_record(
        actor=mass.lab, rows=[row(1, pool.barcode, "positive", at=timezone.now() - timedelta(minutes=30))]
    )
    single = tube_open(
        actor=mass.collector, round=mass.round, site=mass.site, barcode=barcode(10), kind="resample"
    )
    tube_scan(actor=mass.collector, tube_id=single.pk, code=person_code(mass.people[0]))
    tube_close(actor=mass.collector, tube=single)
    tube_results_record(actor=mass.lab, rows=[row(1, single.barcode, "positive")])
    (chain,) = recall_chain(actor=mass.commander, the_round=mass.round, now=timezone.now())
    assert (chain.members, chain.resampled, chain.resulted, len(chain.cases), chain.late) == (3, 1, 1, 1, 0)
    assert chain.hours_to_resample is None  # two members still to re-sample
    assert chain_summary([chain])["cases"] == 1
    client = Client()
    client.force_login(mass.commander)
    page = client.get(f"/testing/rounds/{mass.round.pk}/")
    assert b'data-testid="chains"' in page.content and pool.barcode.encode() in page.content


def test_the_timeliness_panel_judges_each_positive_pool_on_its_recall(mass):
    from datetime import date

    from fangkong.dashboard.filters import Filters
    from fangkong.dashboard.testing_panel import recall_timeliness

    pool = sampled(mass, 1, mass.people[:2])
    tube_results_record(actor=mass.lab, rows=[row(1, pool.barcode, "positive")])
    today = timezone.localdate()
    filters = Filters(actor=mass.commander, since=today - timedelta(days=1), until=today)
    assert recall_timeliness(filters) == {
        "stage": "recalled",
        "hours": 6,
        "cases": 1,
        "judged": 0,
        "within": 0,
        "percent": None,
    }
    for n, person in enumerate(mass.people[:2], 10):
        single = tube_open(
            actor=mass.collector, round=mass.round, site=mass.site, barcode=barcode(n), kind="resample"
        )
        tube_scan(actor=mass.collector, tube_id=single.pk, code=person_code(person))
    assert recall_timeliness(filters)["within"] == 1 and recall_timeliness(filters)["percent"] == 100.0
    assert (
        recall_timeliness(Filters(actor=mass.commander, since=date(2020, 1, 1), until=date(2020, 1, 2)))[
            "cases"
        ]
        == 0
    )


def test_a_file_with_broken_encoding_or_a_crafted_workbook_is_refused_whole(mass):
    from fangkong.testing.imports import tube_import_create, tube_import_run

    for name, content in (
        ("broken.csv", b"\xff\xff\xfe\x80 not text"),
        ("crafted.xlsx", b"PK\x03\x04 not a workbook"),
    ):
        job = tube_import_create(actor=mass.lab, file_name=name, content=content)
        job = tube_import_run(import_id=job.pk)
        assert job.status == "rejected" and job.errors and job.created_count == 0
    assert TubeResult.objects.count() == 0


def test_a_result_file_above_the_registry_limits_is_read(mass):
    from fangkong.testing.imports import tube_import_create, tube_import_run

    pool = sampled(mass, 1, mass.people[:2])
    line = f"{pool.barcode},阴性,,,2026-01-01 10:00,鹏城检测\n"
    filler = f"NOPE00000000,阴性,,,2026-01-01 10:00,{'鹏城检测' * 25}\n"
    content = ("条码,检测结果,ORF1ab,N,检测时间,检测机构\n" + line + filler * 20_000).encode()
    assert len(content) > 5 * 1024 * 1024
    job = tube_import_run(
        import_id=tube_import_create(actor=mass.lab, file_name="big.csv", content=content).pk
    )
    assert job.created_count == 1, job.errors[:2]


def test_check_work_finds_stale_and_missing_recall_items_and_repairs_them(mass):
    from fangkong.testing.work import testing_work_check
    from fangkong.worklist.lifecycle import MISSING, STALE

    pool = sampled(mass, 1, mass.people[:2])
    tube_results_record(actor=mass.lab, rows=[row(1, pool.barcode, "positive")])
    assert testing_work_check() == []
    first, second = Recall.objects.filter(pool=pool).order_by("pk")
    Recall.objects.filter(pk=first.pk).update(status="sampled")  # re-sampled, its item left open
    WorkItem.objects.filter(kind="testing.recall", subject_id=str(second.pk)).delete()
    found = {(f.problem, f.subject_id) for f in testing_work_check()}
    assert found == {(STALE, str(first.pk)), (MISSING, str(second.pk))}
    (missing,) = [f for f in testing_work_check() if f.problem == MISSING]
    missing.repair()
    assert (
        WorkItem.objects.filter(kind="testing.recall", subject_id=str(second.pk), status="open").count() == 1
    )


def test_a_file_names_every_bad_value_of_a_row_and_the_same_conflict_is_listed_once(mass, client):
    from fangkong.testing.imports import tube_import_create, tube_import_run

    pool = sampled(mass, 1, mass.people[:2])
    single = tube_open(
        actor=mass.collector, round=mass.round, site=mass.site, barcode=barcode(2), kind="single"
    )
    tube_scan(actor=mass.collector, tube_id=single.pk, code=person_code(mass.people[5]))
    tube_close(actor=mass.collector, tube=single)
    tube_results_record(actor=mass.lab, rows=[row(1, pool.barcode, "negative")])
    soon = timezone.localtime(timezone.now() + timedelta(minutes=2)).strftime("%Y-%m-%d %H:%M")
    content = (
        "条码,检测结果,ORF1ab,N,检测时间,检测机构\n"
        f"{pool.barcode},阳性,28,29,2026-12-05 09:00,鹏城检测\n"  # differs: a conflict
        "bad-code,阳,abc,,2026/13/05 09:00,\n"  # five bad values in one row
        f"{single.barcode},阳性,27.5,28,{soon},鹏城检测\n"  # a lab clock two minutes fast
    ).encode()
    first = tube_import_run(
        import_id=tube_import_create(actor=mass.lab, file_name="a.csv", content=content).pk
    )
    assert first.status == "succeeded" and first.created_count == 1 and first.conflict_count == 1
    assert sorted((e["row"], e["column"]) for e in first.errors) == [
        (3, "ORF1ab"),
        (3, "条码"),
        (3, "检测时间"),
        (3, "检测机构"),
        (3, "检测结果"),
    ]
    assert Case.objects.filter(person=mass.people[5]).exists()  # registered, not refused as future
    again = tube_import_run(
        import_id=tube_import_create(actor=mass.lab, file_name="b.csv", content=content).pk
    )
    assert (again.created_count, again.conflict_count, again.unchanged_count) == (0, 0, 2)
    assert TubeResult.objects.filter(status="conflict").count() == 1
    client.force_login(mass.lab)
    page = client.get(f"/testing/lab/imports/{first.pk}/").content.decode()
    assert "其余已录入" in page or "others were" in page
