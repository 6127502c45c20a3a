"""Background work of mass testing (run by ``fangkong worker``)."""

from __future__ import annotations

from django_tasks import task

from fangkong.common.errors import DomainError


@task()
def tube_import_task(*, import_id: int) -> int:
    """Run one tube result import; returns how many results were recorded."""
    from fangkong.testing.imports import tube_import_fail, tube_import_run

    try:
        job = tube_import_run(import_id=import_id)
    except Exception as error:
        reason = error.text() if isinstance(error, DomainError) else f"{type(error).__name__}: {error}"
        tube_import_fail(import_id=import_id, reason=reason)
        raise
    return job.created_count
