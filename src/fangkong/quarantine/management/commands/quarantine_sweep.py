"""``fangkong quarantine_sweep [--day YYYY-MM-DD] [--enqueue]``: make work items for the health
checks missing today (after the protocol's deadline, 20:00 in china-9). Run it from a scheduler
(cron, a Kubernetes CronJob) each evening after the deadline; ``--enqueue`` hands it to the worker."""

from __future__ import annotations

from datetime import date

from fangkong.common.commands import DaySweepCommand
from fangkong.quarantine.monitoring import missing_checks_sweep
from fangkong.quarantine.tasks import missing_checks_task


class Command(DaySweepCommand):
    help = "Make work items for today's missing health checks (after the protocol's deadline)."
    task = missing_checks_task
    done = "{count} work item(s) for checks missing on {day}"

    def sweep(self, day: date) -> int:
        return missing_checks_sweep(day=day)
