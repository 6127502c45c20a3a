"""``fangkong check-work [--fix]``: the worklist's invariant on this database (``worklist.lifecycle``)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from fangkong.worklist.lifecycle import work_check, work_fix

SHOWN = 50  # exceptions listed one per line; the rest are counted


class Command(BaseCommand):
    help = "List open work items their subject no longer needs and live subjects missing their item; --fix repairs them (audited)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--fix", action="store_true", help="end the stale items and create the missing ones"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        findings = work_check()
        for finding in findings[:SHOWN]:
            item = f" item #{finding.item_id}" if finding.item_id else ""
            self.stdout.write(
                f"{finding.problem:8} {finding.kind:26} {finding.subject_type}#{finding.subject_id}{item}: {finding.why}"
            )
        if len(findings) > SHOWN:
            self.stdout.write(f"… and {len(findings) - SHOWN} more")
        counts = Counter((f.problem, f.kind) for f in findings)
        for (problem, kind), n in sorted(counts.items()):
            self.stdout.write(f"{n:8d}  {problem} {kind}")
        self.stdout.write(f"{len(findings)} exceptions")
        if options["fix"] and findings:
            done = work_fix(actor=None, findings=findings)
            left = work_check()
            self.stdout.write(
                f"fixed: {done['closed']} items ended, {done['repaired']} repaired; {len(left)} exceptions left"
            )
            if left:
                raise SystemExit(1)
        elif findings and not options["fix"]:
            raise SystemExit(1)
