"""The shape every daily sweep command shares: ``--day`` (default today, local) and ``--enqueue``.

A sweep is idempotent, so running it by hand, from cron or from ``fangkong scheduler`` the same
day changes nothing the second time.
"""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone


class DaySweepCommand(BaseCommand, metaclass=ABCMeta):
    """Subclasses give ``sweep(day) -> count``, ``task`` (a django-tasks task taking ``day``)
    and ``done`` (the report, formatted with ``count`` and ``day``)."""

    done = "{count} for {day}"
    task: Any = None

    @abstractmethod
    def sweep(self, day: date) -> int:
        """Run the sweep for ``day``; returns how many things it made."""

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
            result = self.task.enqueue(day=day.isoformat())
            self.stdout.write(f"queued {result.id} for {day}")
            return
        self.stdout.write(self.done.format(count=self.sweep(day), day=day))
