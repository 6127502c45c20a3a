"""``fangkong portal_risk_sweep [--day YYYY-MM-DD] [--enqueue]``: propose risk-area downgrades whose
case-free days are over (the protocol's rule), for a commander to approve. Run it daily from a
scheduler; it is idempotent (one pending proposal per area). ``--enqueue`` hands it to the worker."""

from __future__ import annotations

from datetime import date

from fangkong.common.commands import DaySweepCommand
from fangkong.portal.risk import risk_area_downgrades_propose
from fangkong.portal.tasks import risk_sweep_task


class Command(DaySweepCommand):
    help = "Propose risk-area downgrades that the protocol's days without a new case allow."
    task = risk_sweep_task
    done = "{count} downgrade proposal(s) for {day}"

    def sweep(self, day: date) -> int:
        return risk_area_downgrades_propose(today=day)
