"""Background work of mass testing (run by ``fangkong worker``); the result import holds a lease."""

from __future__ import annotations

from django_tasks import task

from fangkong.common.leases import JobKind, job_kind_register, job_run
from fangkong.people.imports import import_fail, import_requeue
from fangkong.testing.models import TubeResultImport


@task()
def tube_import_task(*, import_id: int) -> int:
    """Run one tube result import; returns how many results were recorded."""
    from fangkong.testing.imports import tube_import_run

    job = job_run(TUBE_IMPORT, import_id, lambda lease: tube_import_run(import_id=import_id, lease=lease))
    return job.created_count if job is not None else 0


TUBE_IMPORT = job_kind_register(
    JobKind(
        name="testing.tube_import",
        model=TubeResultImport,
        task=tube_import_task,
        argument="import_id",
        retry=import_requeue(TubeResultImport),
        fail=lambda pk, reason: import_fail(TubeResultImport, pk, reason),
    )
)
