"""``manage.py demo_load``: load the demo city (鹏城市) once and print how to log in."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from fangkong.demo.helpdesk_demo import helpdesk_demo_load
from fangkong.demo.load import DEMO_PASSWORD, demo_load, demo_logins
from fangkong.demo.mobility_demo import discovery_demo_run, mobility_demo_load
from fangkong.demo.outbreak import outbreak_load
from fangkong.demo.portal_demo import portal_demo_load
from fangkong.demo.testing_demo import testing_demo_load
from fangkong.demo.users import DEMO_TOTP_KEY
from fangkong.demo.volunteers_demo import volunteers_demo_load


class Command(BaseCommand):
    help = "Load the demo city: org tree, residents, demo logins and open work (does nothing if loaded)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--seed", type=int, default=2022, help="Seed of the synthetic data (default 2022)."
        )
        parser.add_argument(
            "--residents", type=int, default=50_000, help="Number of residents (default 50000)."
        )
        parser.add_argument(
            "--no-outbreak", action="store_true", help="Load the city only, without the demo outbreak."
        )

    def handle(
        self, *args: Any, seed: int, residents: int, no_outbreak: bool = False, **options: Any
    ) -> None:
        shown: dict[str, int] = {}

        def progress(stage: str, done: int, total: int) -> None:
            # at most about ten lines per stage
            step = max(1, total // 10)
            if done == total or done // step > shown.get(stage, -1):
                shown[stage] = done // step
                self.stdout.write(f"  {stage:<10} {done:>8,} / {total:,}")

        summary = demo_load(seed=seed, residents=residents, progress=progress)
        if not summary.created:
            self.stdout.write("The demo city is already loaded; nothing was written.")
        else:
            rate = summary.residents / summary.seconds if summary.seconds else 0.0
            self.stdout.write(
                self.style.SUCCESS(
                    f"Loaded the demo city in {summary.seconds:.1f} s ({rate:,.0f} residents/s)."
                )
            )
        self.stdout.write(
            f"{summary.units:,} org units ({summary.grids:,} grids), {summary.households:,} households, "
            f"{summary.residents:,} residents, {summary.users} demo users, {summary.work_items} work items."
        )
        if not no_outbreak:
            self.stdout.write("Loading the demo outbreak (cases, contacts, orders, checks)…")
            outbreak = outbreak_load(seed=seed)
            verb = "Loaded" if outbreak.created else "Already loaded:"
            self.stdout.write(
                f"{verb} {outbreak.cases} cases, {outbreak.contacts} contacts, {outbreak.orders} quarantine orders, "
                f"{outbreak.checks} health checks ({outbreak.seconds:.1f} s)."
            )
            if outbreak.created:
                self.stdout.write(
                    f"  {outbreak.ready_to_release} orders ended at midnight, tests negative, waiting for "
                    f"release; {len(outbreak.left_open)} work items left overdue on purpose, each with its reason "
                    "in its note"
                    + "".join(f"\n    {n:>3} {reason}" for reason, n in outbreak.reasons().most_common())
                )
            portal = portal_demo_load(today=timezone.localdate(), days=30, seed=seed)
            if portal:
                self.stdout.write(
                    "Public portal: " + ", ".join(f"{n} {what}" for what, n in portal.items()) + "."
                )
            help_desk = helpdesk_demo_load(seed=seed)
            if help_desk.requests:
                self.stdout.write(
                    f"Help desk: {help_desk.requests} requests, {help_desk.resolved} resolved, "
                    f"{help_desk.escalated} escalated."
                )
            helpers = volunteers_demo_load(today=timezone.localdate(), seed=seed)
            if helpers.get("created"):
                self.stdout.write(
                    f"Volunteers: {helpers['volunteers']} volunteers, {helpers['dispatches']} dispatches, "
                    f"{helpers['commendations']} commendations."
                )
            moves = mobility_demo_load(seed=seed, today=timezone.localdate())
            if moves.created:
                self.stdout.write(
                    f"Location data: {moves.people:,} people × {moves.days} days, {moves.pings:,} pings, "
                    f"{moves.checkins:,} venue check-ins ({moves.seconds:.1f} s)."
                )
            for run in discovery_demo_run(today=timezone.localdate()):
                self.stdout.write(
                    f"Contact discovery for suspected case {run.case.number}: {run.people_found} people found, "
                    f"{run.proposed} proposed as close contacts (ranked by score), {run.companions} "
                    "spatiotemporal companions told to take two tests in three days."
                )
            mass = testing_demo_load(seed=seed)
            if mass.created:
                self.stdout.write(
                    f"Mass testing: {mass.sampled:,} residents sampled in {mass.tubes:,} tubes so far today, "
                    f"{mass.resulted:,} tubes resulted; {mass.positive_pools} positive pools, {mass.recalls} people "
                    f"recalled for a single-tube re-sample; case {', '.join(mass.cases)} found by re-sampling."
                )
        self.stdout.write(f"\nDemo logins (password: {DEMO_PASSWORD}):")
        for username, role, unit in demo_logins():
            self.stdout.write(f"  {username:<22} {role:<22} {unit}")
        self.stdout.write(
            f"Second factor for admin, commander, epidemiologist and lab: add the key {DEMO_TOTP_KEY} to an "
            "authenticator app (one entry serves them all), or run `fangkong demo_code` for the current code."
        )
