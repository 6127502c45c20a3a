"""Background work of the people registry (run by ``fangkong worker``), under a lease."""

from __future__ import annotations

from django_tasks import task

from fangkong.common.leases import JobKind, job_kind_register, job_run
from fangkong.people.imports import import_fail, import_requeue, person_import_run
from fangkong.people.models import PersonImport


@task()
def person_import_task(*, import_id: int) -> int:
    """Run one spreadsheet import; returns how many people were registered."""
    job = job_run(PERSON_IMPORT, import_id, lambda lease: person_import_run(import_id=import_id, lease=lease))
    return job.created_count if job is not None else 0


PERSON_IMPORT = job_kind_register(
    JobKind(
        name="people.import",
        model=PersonImport,
        task=person_import_task,
        argument="import_id",
        retry=import_requeue(PersonImport),
        fail=lambda pk, reason: import_fail(PersonImport, pk, reason),
    )
)
