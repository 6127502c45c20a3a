"""``fangkong jobs_sweep``: retry or fail the background jobs whose worker stopped (see
``fangkong.common.leases``); ``fangkong worker`` runs it as it starts, the clock every minute."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from fangkong.common.leases import lease_length, leases_sweep


class Command(BaseCommand):
    help = "Retry (or fail) every background job whose lease expired: its worker stopped."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--lease-seconds",
            type=float,
            default=None,
            help="a lease not renewed for this long has expired (default: FANGKONG_JOB_LEASE_SECONDS)",
        )

    def handle(self, *args: Any, lease_seconds: float | None, **options: Any) -> None:
        lease = timedelta(seconds=lease_seconds) if lease_seconds is not None else lease_length()
        outcome = leases_sweep(lease=lease)
        for label in outcome.retried:
            self.stdout.write(f"the worker running {label} stopped: queued again")
        for label in outcome.failed:
            self.stdout.write(f"the worker running {label} stopped too often: failed")
        if options["verbosity"] > 1 or outcome.retried or outcome.failed:
            self.stdout.write(f"{len(outcome.retried)} retried, {len(outcome.failed)} failed")
