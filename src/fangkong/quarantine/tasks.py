"""Background work of quarantine (run by ``fangkong worker``)."""

from __future__ import annotations

from datetime import date

from django_tasks import task

from fangkong.quarantine.monitoring import missing_checks_sweep


@task()
def missing_checks_task(*, day: str) -> int:
    """The evening sweep for missing health checks of ``day`` (ISO date); returns items made."""
    return missing_checks_sweep(day=date.fromisoformat(day))
