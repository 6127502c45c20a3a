"""``fangkong quarantine_sweep [--day YYYY-MM-DD] [--enqueue]``: make work items for the health
checks missing today (after the protocol's deadline, 20:00 in china-9). Run it from a scheduler
(cron, a Kubernetes CronJob) each evening after the deadline; ``--enqueue`` hands it to the worker."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from fangkong.quarantine.monitoring import missing_checks_sweep
from fangkong.quarantine.tasks import missing_checks_task


class Command(BaseCommand):
    help = "Make work items for today's missing health checks (after the protocol's deadline)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--day", type=date.fromisoformat, default=None, help="the day (default: today, local)"
        )
        parser.add_argument(
            "--enqueue", action="store_true", help="queue it for the worker instead of running it here"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        day = options["day"] or timezone.localdate()
        if options["enqueue"]:
            result = missing_checks_task.enqueue(day=day.isoformat())
            self.stdout.write(f"queued {result.id} for {day}")
            return
        made = missing_checks_sweep(day=day)
        self.stdout.write(f"{made} work item(s) for checks missing on {day}")
