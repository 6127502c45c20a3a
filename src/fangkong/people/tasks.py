"""Background work of the people registry (run by ``fangkong worker``)."""

from __future__ import annotations

from django_tasks import task

from fangkong.people.imports import person_import_fail, person_import_run


@task()
def person_import_task(*, import_id: int) -> int:
    """Run one spreadsheet import; returns how many people were registered."""
    try:
        job = person_import_run(import_id=import_id)
    except Exception as error:
        person_import_fail(import_id=import_id, reason=f"{type(error).__name__}: {error}")
        raise
    return job.created_count
