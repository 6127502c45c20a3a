"""``fangkong report``: the daily report for the leadership as a PDF, and its charts as PNG.

Without ``--user`` the whole tree is reported (a reader that sees everything and is never
audited, as nothing here writes); with ``--user`` what that user may see. The PDF lands in
``var/reports/report-<date>.pdf`` unless ``--out`` says where; the command prints its path and
its page count.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone, translation

from fangkong.common.errors import Invalid, NotFound
from fangkong.dashboard.report import daily_report, page_count
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can
from fangkong.orgs.selectors import org_unit_by_code


class WholeTree:
    """The reader of a report on the whole tree: a superuser for ``visible`` and ``can``, with
    no memberships to look up (it is no row of the user table, so nothing can audit it)."""

    is_superuser = True
    is_active = True
    is_authenticated = True
    is_staff = True
    pk = None
    username = "fangkong report"

    def __init__(self) -> None:
        self.__dict__["_fangkong_memberships"] = []  # scope_roots' cache: never query memberships


class Command(BaseCommand):
    help = "The daily report for the leadership as a PDF (and its charts as PNG)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="the day reported, e.g. 2026-11-29 (default: today)")
        parser.add_argument("--unit", help="the org unit's code (default: the whole scope)")
        parser.add_argument("--user", help="report what this user may see (default: the whole tree)")
        parser.add_argument("--out", help="where to write the PDF (default: var/reports/report-<date>.pdf)")
        parser.add_argument("--charts", help="a folder to write the charts to as PNG")
        parser.add_argument(
            "--lang", choices=[code for code, _name in settings.LANGUAGES], help="the report's language"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            day = date.fromisoformat(options["date"]) if options["date"] else timezone.localdate()
        except ValueError:
            raise CommandError(f"--date: not a date: {options['date']!r} (write 2026-11-29)") from None
        actor: Any = WholeTree()
        if options["user"]:
            try:
                actor = get_user_model().objects.get(username=options["user"], is_active=True)
            except get_user_model().DoesNotExist:
                raise CommandError(f"--user: no active user {options['user']!r}") from None
            if not can(actor, Perm.CASES_VIEW):
                raise CommandError(f"--user: {options['user']!r} may not see cases")
        unit = None
        if options["unit"]:
            try:
                unit = org_unit_by_code(actor=actor, code=options["unit"], perm=Perm.CASES_VIEW)
            except NotFound:
                raise CommandError(f"--unit: no org unit {options['unit']!r} in the reader's scope") from None
        out = Path(options["out"]) if options["out"] else settings.VAR_DIR / "reports" / f"report-{day}.pdf"
        charts = Path(options["charts"]) if options["charts"] else None
        with translation.override(options["lang"] or settings.LANGUAGE_CODE):
            try:
                pdf = daily_report(actor=actor, day=day, unit=unit, charts_dir=charts)
            except Invalid as error:
                raise CommandError(f"--date: {error.text()}") from None
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(pdf)
        self.stdout.write(f"{out} ({page_count(pdf)} pages)")
