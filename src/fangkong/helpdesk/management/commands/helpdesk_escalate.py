"""``fangkong helpdesk_escalate [--enqueue]``: raise help requests not called back by their
deadline to the unit above (one level per missed SLA period). ``fangkong scheduler`` runs it
every minute; ``--enqueue`` hands it to the worker instead of running it here."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from fangkong.helpdesk.escalation import help_requests_escalate
from fangkong.helpdesk.tasks import escalate_task


class Command(BaseCommand):
    help = "Raise help requests whose call-back deadline has passed to the unit above."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--enqueue", action="store_true", help="queue it for the worker")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["enqueue"]:
            self.stdout.write(f"queued {escalate_task.enqueue().id}")
            return
        self.stdout.write(f"{help_requests_escalate()} help request(s) raised")
