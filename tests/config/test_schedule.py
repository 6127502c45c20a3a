"""The scheduler's clock: each job enqueued when due, daily jobs once a day after their time."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django_tasks_db.models import DBTaskResult

from fangkong.config.schedule import JOBS, due, tick

SH = ZoneInfo("Asia/Shanghai")
JOB = {job.name: job for job in JOBS}


def test_every_minute_job():
    job = JOB["helpdesk.escalate"]
    t = datetime(2022, 4, 10, 9, 0, tzinfo=SH)
    assert due(job, last=None, now=t)
    assert not due(job, last=t, now=t + timedelta(seconds=59))
    assert due(job, last=t, now=t + timedelta(minutes=1))


def test_daily_job_runs_after_its_time_once_a_day():
    job = JOB["quarantine.missing_checks"]  # 20:00 in china-9
    before = datetime(2022, 4, 10, 19, 59, tzinfo=SH)
    after = datetime(2022, 4, 10, 20, 0, tzinfo=SH)
    assert not due(job, last=None, now=before)
    assert due(job, last=None, now=after)
    assert not due(job, last=after, now=after + timedelta(hours=3))
    assert due(job, last=after, now=after + timedelta(days=1))
    utc_after = after.astimezone(ZoneInfo("UTC"))  # 12:00 UTC: the profile's timezone decides
    assert due(job, last=None, now=utc_after)


@pytest.mark.django_db
def test_a_tick_enqueues_due_jobs_for_the_worker():
    runs: dict[str, datetime] = {}
    now = datetime(2022, 4, 10, 20, 30, tzinfo=SH)
    assert set(tick(last_runs=runs, now=now)) == {
        "helpdesk.escalate",
        "quarantine.missing_checks",
        "portal.risk_sweep",
        "contacts.companion_tests",
        "dashboard.expire_exports",
        "notify.sweep",
        "jobs.lease_sweep",
    }
    assert DBTaskResult.objects.count() == 6  # the lease sweep runs in the clock, not the queue
    assert tick(last_runs=runs, now=now + timedelta(seconds=30)) == []
    assert tick(last_runs=runs, now=now + timedelta(minutes=1)) == ["jobs.lease_sweep", "helpdesk.escalate"]
