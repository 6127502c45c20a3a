"""A real worker process killed with SIGKILL in the middle of a job: the sweep queues the job
again, a new worker finishes it once, and nothing is duplicated or half-written.

The worker is ``fangkong worker`` in a subprocess on the test database (a file for SQLite, the
test database for PostgreSQL), so the test commits (``transaction=True``). "In the middle" is
made certain, not timed: once the worker holds the job's lease, the test locks the job's row
(SQLite: the write lock; PostgreSQL: the row), sees the job still unfinished (it cannot finish
without writing that row) and kills the worker while it waits.
"""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone, translation
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from fangkong.common.leases import Leased, leases_sweep
from fangkong.contacts.imports import TEMPLATE_HEADER, contact_import_create
from fangkong.contacts.models import Contact, ContactImport
from fangkong.dashboard.export_files import export_file_start, export_files_dir
from fangkong.dashboard.models import ExportFile
from fangkong.people.idnumbers import make_resident_id
from fangkong.people.imports import person_import_create
from fangkong.people.models import Person, PersonImport
from fangkong.quarantine.lab_imports import lab_import_create
from fangkong.quarantine.models import LabResultImport, TestAppointment
from fangkong.testing.imports import tube_import_create
from fangkong.testing.models import Recall, TubeResult, TubeResultImport
from tests.cases.factories import make_case
from tests.quarantine.test_lab import make_order
from tests.testing.conftest import mass  # noqa: F401 - the fixture
from tests.testing.test_results import sampled

pytestmark = pytest.mark.django_db(transaction=True)  # a worker in another process reads it
PEOPLE = 1000
CONTACTS = 300
WAIT = 120.0  # seconds a step may take on a loaded machine before the test gives up


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _worker(*extra: str) -> subprocess.Popen[bytes]:
    env = os.environ | {"DATABASE_URL": _database_url(), "FANGKONG_JOB_LEASE_SECONDS": "2"}
    return subprocess.Popen(  # noqa: S603 - our own command line
        [sys.executable, "-m", "fangkong.cli", "worker", "--no-startup-delay", "--interval", "0.1", *extra],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.fixture
def workers() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def _kill_mid_job(
    workers: list[subprocess.Popen[bytes]], model: type[Leased], pk: int, **working: Any
) -> None:
    """Start a worker, wait until it holds job ``pk`` and the row shows ``working`` (a stage the
    job reaches only by working), lock the row and kill the worker."""
    worker = _worker()
    workers.append(worker)
    deadline = time.monotonic() + WAIT
    while not model._default_manager.filter(pk=pk, **working).exclude(lease_owner="").exists():
        assert worker.poll() is None, worker.stderr.read().decode() if worker.stderr else ""
        assert time.monotonic() < deadline, "the worker never reached the stage"
        assert not model._default_manager.get(pk=pk).is_finished, "finished before the stage was seen"
        time.sleep(0.01)
    with transaction.atomic():
        job = model._default_manager.select_for_update().get(pk=pk)
        assert not getattr(job, "is_finished")  # noqa: B009 - it cannot finish while we hold the row
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    assert worker.returncode == -signal.SIGKILL


def _sweep_and_finish(workers: list[subprocess.Popen[bytes]], model: type[Leased], pk: int) -> Any:
    """Sweep (the dead worker's lease counts as expired at once), check the job is retrying, run a
    new worker until the queue is empty; returns the job."""
    job = model._default_manager.get(pk=pk)
    assert job.lease_owner and job.attempts == 1
    outcome = leases_sweep(lease=timedelta(0))
    assert outcome.retried == [f"{_kind_name(model)} {pk}"] and outcome.failed == []
    job.refresh_from_db()
    with translation.override("en"):  # the words, whatever the catalogue says
        assert job.lease_owner == "" and job.retry_note.startswith("Retrying: the worker stopped")
    dead = DBTaskResult.objects.filter(status=TaskResultStatus.FAILED, traceback__contains="worker stopped")
    assert dead.count() == 1
    dead.delete()  # so the next kind's count starts from nothing
    worker = _worker("--batch")
    workers.append(worker)
    _out, err = worker.communicate(timeout=WAIT)
    assert worker.returncode == 0, err.decode()
    job.refresh_from_db()
    assert job.is_finished and job.attempts == 2 and job.lease_owner == ""
    return job


def _kind_name(model: type[Leased]) -> str:
    from fangkong.common.leases import job_kinds

    return next(kind.name for kind in job_kinds() if kind.model is model)


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def _ids(count: int, *, first: date) -> list[str]:
    return [
        make_resident_id(
            area_code="440303", birth_date=first + timedelta(days=n // 400), sequence=n % 400 * 2 + 1
        )
        for n in range(count)
    ]


def test_killed_imports_and_exports_are_retried_and_finished_once(workers, tree, grid_worker, epidemiologist):
    """People import, contact import and an Excel export, each killed mid-job, finished once."""
    before = Person.objects.count()
    rows = [
        ["居民", "居民身份证", number, "", tree.grid_a.code, "", "", ""]
        for number in _ids(PEOPLE, first=date(1980, 1, 1))
    ]
    header = ["姓名", "证件类型", "证件号码", "手机号", "网格编码", "楼栋", "单元", "房号"]
    people = person_import_create(
        actor=grid_worker, org_unit=tree.grid_a, file_name="居民.csv", content=_csv(header, rows)
    )
    _kill_mid_job(workers, PersonImport, people.pk, status="validating", processed_rows__gt=0)
    assert Person.objects.count() == before  # all or none: nothing of the killed attempt stays
    people = _sweep_and_finish(workers, PersonImport, people.pk)
    assert (people.status, people.created_count, people.errors) == ("succeeded", PEOPLE, [])
    assert Person.objects.count() == before + PEOPLE

    case = make_case(
        actor=epidemiologist, grid=tree.grid_a, onset_date=timezone.localdate() - timedelta(days=1)
    )
    start = timezone.localtime() - timedelta(hours=8)
    exposure = [start.strftime("%Y-%m-%d %H:%M"), (start + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M")]
    contact_rows = [
        ["密接", "居民身份证", number, "", tree.grid_b.code, "", "", "", "工作场所", *exposure]
        for number in _ids(CONTACTS, first=date(1960, 1, 1))
    ]
    contacts = contact_import_create(
        actor=epidemiologist, case=case, file_name="密接.csv", content=_csv(TEMPLATE_HEADER, contact_rows)
    )
    _kill_mid_job(workers, ContactImport, contacts.pk, status="validating")
    assert Contact.objects.filter(source_case=case).count() == 0
    contacts = _sweep_and_finish(workers, ContactImport, contacts.pk)
    assert (contacts.status, contacts.created_count) == ("succeeded", CONTACTS), contacts.errors
    assert Contact.objects.filter(source_case=case).count() == CONTACTS

    folder = export_files_dir()
    before_files = set(folder.iterdir()) if folder.is_dir() else set()
    file = export_file_start(actor=epidemiologist, kind="contacts", params={})
    _kill_mid_job(workers, ExportFile, file.pk, status="running")
    file = _sweep_and_finish(workers, ExportFile, file.pk)
    assert (file.status, file.rows_done) == ("succeeded", CONTACTS)
    assert [p.name for p in set(folder.iterdir()) - before_files] == [file.stored_as]  # no half file


def test_a_killed_tube_result_import_is_finished_once(workers, mass):  # noqa: F811 - the fixture
    """A positive pool in a file of 20,000 rows: one result and one recall per member, once."""
    pool = sampled(mass, 1, mass.people[:2])
    filler = "NOPE00000000,阴性,,,2026-01-01 10:00,鹏城检测\n" * 20_000
    content = f"条码,检测结果,ORF1ab,N,检测时间,检测机构\n{pool.barcode},阳性,28,29,2026-01-01 10:00,鹏城检测\n{filler}"
    job = tube_import_create(actor=mass.lab, file_name="结果.csv", content=content.encode())
    _kill_mid_job(workers, TubeResultImport, job.pk, status="validating")
    assert not TubeResult.objects.exists()
    job = _sweep_and_finish(workers, TubeResultImport, job.pk)
    assert (job.status, job.created_count, job.positive_tubes) == ("succeeded", 1, [pool.barcode])
    assert TubeResult.objects.count() == 1 and Recall.objects.filter(pool=pool).count() == 2


def test_a_killed_lab_result_import_records_each_result_once(workers, tree, epidemiologist, lab_user):
    """250 negative results of 50 quarantine orders: each recorded once."""
    start = timezone.localdate() - timedelta(days=6)
    orders = [make_order(actor=epidemiologist, grid=tree.grid_a, day_one=start) for _ in range(50)]
    tests = TestAppointment.objects.filter(order__in=orders).order_by("id")
    rows = [[str(t.order_id), t.date.isoformat(), "阴性"] for t in tests]
    content = _csv(["隔离令编号", "检测日期", "检测结果"], rows)
    job = lab_import_create(actor=lab_user, file_name="results.csv", content=content)
    _kill_mid_job(workers, LabResultImport, job.pk, status="validating")
    assert not TestAppointment.objects.filter(order__in=orders, result="negative").exists()
    job = _sweep_and_finish(workers, LabResultImport, job.pk)
    assert (job.status, job.created_count, job.unchanged_count, job.errors) == ("succeeded", 250, 0, [])
    assert TestAppointment.objects.filter(order__in=orders, result="negative").count() == 250
