"""Background work of quarantine (run by ``fangkong worker``); the lab import holds a lease."""

from __future__ import annotations

from datetime import date

from django_tasks import task

from fangkong.common.leases import JobKind, job_kind_register, job_run
from fangkong.people.imports import import_fail, import_requeue
from fangkong.quarantine.models import LabResultImport
from fangkong.quarantine.monitoring import missing_checks_sweep


@task()
def missing_checks_task(*, day: str) -> int:
    """The evening sweep for missing health checks of ``day`` (ISO date); returns items made."""
    return missing_checks_sweep(day=date.fromisoformat(day))


@task()
def lab_import_task(*, import_id: int) -> int:
    """Run one lab result import; returns how many results were recorded."""
    from fangkong.quarantine.lab_imports import lab_import_run

    job = job_run(LAB_IMPORT, import_id, lambda lease: lab_import_run(import_id=import_id, lease=lease))
    return job.created_count if job is not None else 0


LAB_IMPORT = job_kind_register(
    JobKind(
        name="quarantine.lab_import",
        model=LabResultImport,
        task=lab_import_task,
        argument="import_id",
        retry=import_requeue(LabResultImport),
        fail=lambda pk, reason: import_fail(LabResultImport, pk, reason),
    )
)
