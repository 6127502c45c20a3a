"""The platform's clock: which background tasks run when (``fangkong scheduler``).

The scheduler only enqueues; the worker (``fangkong worker``) runs what it enqueued, so a slow
task never delays the clock. Rules:
- the help-desk escalation runs every minute (a call-back deadline is counted in minutes);
- the sweep for missing daily health checks runs each day after the protocol's deadline
  (20:00 in china-9, local time of the profile);
- risk-area downgrade proposals are made each morning at 06:00 for the commander's review;
- spatiotemporal companions' missed tests become work items each morning at 08:00
  (``contacts.companions.SWEEP_AT``), the start of the grid's working day;
- Excel exports older than a day are deleted every hour;
- text messages left "sending" for 10 minutes (their sender died) are marked unknown every 5 minutes;
- every minute the clock itself (not the worker: the worker may be what died) sweeps the job
  leases (``fangkong.common.leases``): a job whose worker stopped is queued again or failed.
A daily job that was missed (the scheduler was down at its time) runs once when it comes back
the same day; every sweep is idempotent, so a run twice in a day changes nothing.
"""

from __future__ import annotations

import time as clock
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import DatabaseError
from django.utils import timezone

from fangkong.common.protocol import active_profile


@dataclass(frozen=True, slots=True)
class Job:
    """A task to enqueue every ``every``, or once a day at ``at`` (profile's local time)."""

    name: str
    enqueue: Callable[[date], Any]
    every: timedelta | None = None
    at: Callable[[], time] | None = None


def _escalate(day: date) -> Any:
    from fangkong.helpdesk.tasks import escalate_task

    return escalate_task.enqueue()


def _missing_checks(day: date) -> Any:
    from fangkong.quarantine.tasks import missing_checks_task

    return missing_checks_task.enqueue(day=day.isoformat())


def _companion_tests(day: date) -> Any:
    from fangkong.contacts.tasks import companion_tests_task

    return companion_tests_task.enqueue()


def _companion_sweep_at() -> time:
    from fangkong.contacts.companions import SWEEP_AT

    return SWEEP_AT


def _sms_sweep(day: date) -> Any:
    from fangkong.notify.tasks import sms_sweep_task

    return sms_sweep_task.enqueue()


def _expire_exports(day: date) -> Any:
    from fangkong.dashboard.tasks import export_files_expire_task

    return export_files_expire_task.enqueue()


def _risk_sweep(day: date) -> Any:
    from fangkong.portal.tasks import risk_sweep_task

    return risk_sweep_task.enqueue(day=day.isoformat())


def _leases_sweep(day: date) -> Any:
    from fangkong.common.leases import leases_sweep

    outcome = leases_sweep()
    for label in outcome.retried:
        print(f"scheduler: the worker running {label} stopped; queued it again", flush=True)
    for label in outcome.failed:
        print(f"scheduler: the worker running {label} stopped too often; marked it failed", flush=True)
    return outcome


JOBS: tuple[Job, ...] = (
    Job("jobs.lease_sweep", _leases_sweep, every=timedelta(minutes=1)),
    Job("helpdesk.escalate", _escalate, every=timedelta(minutes=1)),
    Job("quarantine.missing_checks", _missing_checks, at=lambda: active_profile().monitoring.check_deadline),
    Job("portal.risk_sweep", _risk_sweep, at=lambda: time(6, 0)),
    Job("contacts.companion_tests", _companion_tests, at=lambda: _companion_sweep_at()),
    Job("dashboard.expire_exports", _expire_exports, every=timedelta(hours=1)),
    Job("notify.sweep", _sms_sweep, every=timedelta(minutes=5)),
)


def due(job: Job, *, last: datetime | None, now: datetime) -> bool:
    """Whether ``job`` should be enqueued at ``now``, last enqueued at ``last`` (None: never)."""
    if job.every is not None:
        return last is None or now - last >= job.every
    assert job.at is not None
    zone = ZoneInfo(active_profile().timezone)
    local = now.astimezone(zone)
    if local.time() < job.at():
        return False
    return last is None or last.astimezone(zone).date() < local.date()


def tick(*, last_runs: dict[str, datetime], now: datetime | None = None) -> list[str]:
    """Enqueue every job due at ``now``; records the runs in ``last_runs``; returns their names."""
    now = now or timezone.now()
    day = now.astimezone(ZoneInfo(active_profile().timezone)).date()
    ran = []
    for job in JOBS:
        if due(job, last=last_runs.get(job.name), now=now):
            job.enqueue(day)
            last_runs[job.name] = now
            ran.append(job.name)
    return ran


def run(*, interval: float = 15.0, log: Callable[[str], None] = print) -> None:
    """Tick forever (Ctrl-C or SIGTERM stops it)."""
    last_runs: dict[str, datetime] = {}
    log(f"scheduler: {len(JOBS)} job(s): " + ", ".join(job.name for job in JOBS))
    while True:
        try:
            for name in tick(last_runs=last_runs):
                if name not in {"helpdesk.escalate", "jobs.lease_sweep"}:
                    log(f"scheduler: enqueued {name}")
        except DatabaseError as error:  # the database is away for a moment: try again next tick
            log(f"scheduler: could not enqueue ({error}); retrying")
        clock.sleep(interval)


if __name__ == "__main__":  # ``fangkong scheduler`` runs this module as a process
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.config.settings")
    django.setup()
    run()
