"""``fangkong trace``: find the contacts of cases in the location data and venue check-ins.

Each case gets its own discovery run (audited, proposals for an epidemiologist to confirm and
spatiotemporal companions to follow), run here with its progress printed, or queued for the
worker with ``--enqueue``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from fangkong.cases.models import Case
from fangkong.cases.selectors import case_get
from fangkong.common.errors import DomainError
from fangkong.contacts.discovery import discovery_execute, discovery_fail, discovery_start


def _moment(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"not a time: {text!r} (write 2022-05-03T14:30)") from None
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


class Command(BaseCommand):
    help = "Find the contacts of cases in the location data and venue check-ins (proposed contacts)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--case", action="append", required=True, help="case number (repeat for more)")
        parser.add_argument("--user", required=True, help="the epidemiologist the runs are made for")
        parser.add_argument("--start", help="search from (local time, default: the case's look-back)")
        parser.add_argument("--end", help="search until (local time, default: now)")
        parser.add_argument("--enqueue", action="store_true", help="queue for the worker, do not wait")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            actor = get_user_model().objects.get(username=options["user"], is_active=True)
        except get_user_model().DoesNotExist:
            raise CommandError(f"no active user {options['user']!r}") from None
        start, end = _moment(options["start"]), _moment(options["end"])
        failed = 0
        for number in options["case"]:
            pk = Case.objects.filter(number=number).values_list("pk", flat=True).first()
            try:
                if pk is None:
                    raise CommandError(f"no case {number!r}")
                case = case_get(actor=actor, case_id=pk)  # outside the user's area: not found
                run = discovery_start(
                    actor=actor, case=case, start=start, end=end, enqueue=options["enqueue"]
                )
            except DomainError as error:
                raise CommandError(f"{number}: {error.text()}") from None
            span = f"{timezone.localtime(run.range_start):%Y-%m-%d %H:%M} – {timezone.localtime(run.range_end):%Y-%m-%d %H:%M}"
            self.stdout.write(
                f"{number}: discovery {run.pk} over {span}{' (clamped to the look-back)' if run.clamped else ''}"
            )
            if options["enqueue"]:
                continue
            try:
                run = discovery_execute(run_id=run.pk)
            except Exception as error:
                discovery_fail(run_id=run.pk, reason=f"{type(error).__name__}: {error}")
                self.stderr.write(f"{number}: failed — {type(error).__name__}: {error}")
                failed += 1
                continue
            note = " — no location data for this case in the range" if run.no_data else ""
            self.stdout.write(
                f"{number}: {run.people_found} people, {run.exposures} overlaps, {run.proposed} proposed, "
                f"{run.companions} companions, {run.already_contacts} already contacts, "
                f"{run.unknown_people} not in the register{note}"
            )
            if run.pings_dropped or run.checkins_dropped:
                self.stdout.write(
                    f"{number}: left out of the data (no person, place or time): "
                    f"{run.pings_dropped} pings, {run.checkins_dropped} check-ins"
                )
        if failed:
            raise CommandError(f"{failed} discovery run(s) failed")
