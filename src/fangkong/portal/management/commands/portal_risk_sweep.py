"""``fangkong portal_risk_sweep [--day YYYY-MM-DD] [--enqueue]``: propose risk-area downgrades whose
case-free days are over (the protocol's rule), for a commander to approve. Run it daily from a
scheduler; it is idempotent (one pending proposal per area). ``--enqueue`` hands it to the worker."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from fangkong.portal.risk import risk_area_downgrades_propose
from fangkong.portal.tasks import risk_sweep_task


class Command(BaseCommand):
    help = "Propose risk-area downgrades that the protocol's days without a new case allow."

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
            result = risk_sweep_task.enqueue(day=day.isoformat())
            self.stdout.write(f"queued {result.id} for {day}")
            return
        made = risk_area_downgrades_propose(today=day)
        self.stdout.write(f"{made} downgrade proposal(s) for {day}")
