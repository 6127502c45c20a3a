"""Background work of quarantine (run by ``fangkong worker``)."""

from __future__ import annotations

from datetime import date

from django_tasks import task

from fangkong.quarantine.monitoring import missing_checks_sweep


@task()
def missing_checks_task(*, day: str) -> int:
    """The evening sweep for missing health checks of ``day`` (ISO date); returns items made."""
    return missing_checks_sweep(day=date.fromisoformat(day))


@task()
def lab_import_task(*, import_id: int) -> int:
    """Run one lab result import; returns how many results were recorded."""
    from fangkong.quarantine.lab_imports import lab_import_fail, lab_import_run

    try:
        job = lab_import_run(import_id=import_id)
    except Exception as error:
        lab_import_fail(import_id=import_id, reason=f"{type(error).__name__}: {error}")
        raise
    return job.created_count
