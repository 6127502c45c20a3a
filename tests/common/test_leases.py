"""Job leases in one process: which jobs hold them, the sweep's limits, and what an attempt that
lost its lease may still write (the killed-worker runs are in ``test_leases_worker``)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.utils import timezone, translation

from fangkong.audit.models import AuditEvent
from fangkong.common.leases import (
    MAX_ATTEMPTS,
    LeaseLost,
    job_kinds,
    lease_hold,
    leases_sweep,
    worker_stopped_reason,
)
from fangkong.people.imports import person_import_create, person_import_run
from fangkong.people.models import Person, PersonImport
from tests.people.factories import resident_id

pytestmark = pytest.mark.django_db


def _import(tree, grid_worker) -> PersonImport:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["姓名", "证件类型", "证件号码", "手机号", "网格编码"])
    writer.writerows([["赵一", "居民身份证", resident_id(), "", tree.grid_a.code]])
    content = buffer.getvalue().encode("utf-8-sig")
    return person_import_create(actor=grid_worker, org_unit=tree.grid_a, file_name="a.csv", content=content)


def _abandon(job: PersonImport, *, attempts: int, minutes_ago: float = 10) -> None:
    """The row as a worker that died after ``attempts`` attempts leaves it."""
    PersonImport.objects.filter(pk=job.pk).update(
        lease_owner="host:1:dead",
        lease_renewed_at=timezone.now() - timedelta(minutes=minutes_ago),
        attempts=attempts,
        status="validating",
    )


def test_every_background_job_with_a_row_holds_a_lease():
    assert {kind.name for kind in job_kinds()} == {
        "people.import",
        "contacts.import",
        "contacts.discovery",
        "contacts.decision",
        "quarantine.lab_import",
        "testing.tube_import",
        "dashboard.export_file",
    }


def test_a_job_whose_worker_died_is_queued_again_and_its_page_says_retrying(tree, grid_worker):
    job = _import(tree, grid_worker)
    _abandon(job, attempts=1)
    outcome = leases_sweep()
    assert outcome.retried == [f"people.import {job.pk}"] and outcome.failed == []
    job.refresh_from_db()
    assert (job.status, job.lease_owner, job.attempts) == ("queued", "", 1)
    assert AuditEvent.objects.filter(action="jobs.lease.retry", actor=None).count() == 1
    html = render_to_string("people/_import_status.html", {"job": job, "errors": [], "poll_url": "/"})
    assert 'data-testid="job-retry"' in html and job.retry_note in html
    with translation.override("en"):
        assert (
            job.retry_note
            == f"Retrying: the worker stopped; waiting for a worker (attempt 2 of {MAX_ATTEMPTS})."
        )


def test_a_job_whose_worker_died_at_every_attempt_is_failed_with_the_reason(tree, grid_worker):
    job = _import(tree, grid_worker)
    _abandon(job, attempts=MAX_ATTEMPTS)
    outcome = leases_sweep()
    assert outcome.failed == [f"people.import {job.pk}"] and outcome.retried == []
    job.refresh_from_db()
    assert job.status == "failed" and job.lease_owner == ""
    assert job.errors == [{"row": None, "column": None, "message": worker_stopped_reason(MAX_ATTEMPTS)}]
    with translation.override("en"):
        assert worker_stopped_reason(MAX_ATTEMPTS).startswith("Failed: the worker stopped")
    html = render_to_string("people/_import_status.html", {"job": job, "errors": job.errors, "poll_url": "/"})
    assert worker_stopped_reason(MAX_ATTEMPTS) in html and 'data-testid="job-retry"' not in html


def test_a_live_lease_is_left_alone_and_a_held_job_is_not_run_twice(tree, grid_worker):
    job = _import(tree, grid_worker)
    _abandon(job, attempts=1, minutes_ago=0.1)
    outcome = leases_sweep()
    assert (outcome.retried, outcome.failed) == ([], [])
    with lease_hold(PersonImport, job.pk) as lease:
        assert lease is None
    job.refresh_from_db()
    assert (job.lease_owner, job.attempts) == ("host:1:dead", 1)


def test_an_attempt_that_lost_its_lease_writes_nothing(tree, grid_worker):
    job = _import(tree, grid_worker)
    with lease_hold(PersonImport, job.pk) as lease:
        assert lease is not None
        PersonImport.objects.filter(pk=job.pk).update(lease_owner="another-attempt")  # the sweep's
        with pytest.raises(LeaseLost):
            person_import_run(import_id=job.pk, lease=lease)
    job.refresh_from_db()
    assert not Person.objects.exists() and not job.is_finished
    assert job.lease_owner == "another-attempt"  # the losing attempt does not free the new one's lease


def test_a_finished_job_is_not_taken_and_its_stale_lease_only_freed(tree, grid_worker):
    job = _import(tree, grid_worker)
    with lease_hold(PersonImport, job.pk) as lease:
        person_import_run(import_id=job.pk, lease=lease)
    job.refresh_from_db()
    assert (job.status, job.lease_owner, job.attempts) == ("succeeded", "", 1)
    PersonImport.objects.filter(pk=job.pk).update(
        lease_owner="host:1:dead", lease_renewed_at=timezone.now() - timedelta(hours=1)
    )
    assert leases_sweep().retried == []
    job.refresh_from_db()
    assert (job.status, job.lease_owner) == ("succeeded", "")
