"""Background work of the portal (run by ``fangkong worker``)."""

from __future__ import annotations

from datetime import date

from django_tasks import task

from fangkong.portal.risk import risk_area_downgrades_propose


@task()
def risk_sweep_task(*, day: str) -> int:
    """The daily risk-area rule for ``day`` (ISO date); returns the proposals made."""
    return risk_area_downgrades_propose(today=date.fromisoformat(day))
