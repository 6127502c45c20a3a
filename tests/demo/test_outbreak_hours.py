"""Whatever the hour `make demo` runs, the demo logins find orders ended at midnight waiting to be
released on negative tests, the grid worker people in home quarantine with a check due today, the
lab today's tests of its district, the quarantine staff transfers due later (not overdue), and each
item left overdue says why in its note."""

from __future__ import annotations

import time as clock
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.utils import timezone

from fangkong.demo.load import demo_load
from fangkong.demo.outbreak import outbreak_load
from fangkong.demo.users import FIRST_DISTRICT_CODE, FIRST_GRID_CODE
from fangkong.quarantine import lab as lab_desk
from fangkong.quarantine.models import DailyCheck, QuarantineOrder, TestResult
from fangkong.quarantine.services import order_release
from fangkong.worklist.lifecycle import work_check
from fangkong.worklist.models import OPEN_STATUSES, WorkItem
from fangkong.worklist.selectors import QueueFilters, work_queue

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize("hour", [(0, 20), (9, 0), (23, 30)], ids=["00:20", "09:00", "23:30"])
def test_release_and_home_checks_are_there_at_any_hour(hour: tuple[int, int]) -> None:
    moment = datetime(2025, 3, 14, *hour, tzinfo=SHANGHAI)
    with time_machine.travel(moment, tick=False):
        started = clock.perf_counter()
        demo_load(residents=4000, seed=2022)
        summary = outbreak_load(max_cases=30, days=20)
        seconds = clock.perf_counter() - started
        now, today = timezone.now(), timezone.localdate()
        assert today == moment.date()

        ready = [
            order
            for order in QuarantineOrder.objects.filter(status="active", planned_end__lte=now)
            .select_related("org_unit")
            .order_by("pk")
            if not order.tests.exclude(result=TestResult.NEGATIVE).exists()
        ]
        assert len(ready) == summary.ready_to_release >= 2
        assert all(timezone.localdate(order.planned_end) <= today for order in ready)
        for order in ready:  # every test day past, its result entered before now
            assert all(
                test.date < today and test.result_at is not None and test.result_at <= now
                for test in order.tests.all()
            )
        in_grid = [order for order in ready if order.org_unit.code == FIRST_GRID_CODE]
        assert in_grid
        assert len([o for o in ready if f"/{FIRST_DISTRICT_CODE}/" in o.org_unit.path]) >= 2

        staff = get_user_model().objects.get(username="quarantine_staff")
        released = order_release(actor=staff, order=in_grid[0])
        assert released.status == "released" and released.ended_at == now
        assert work_check() == []

        home = QuarantineOrder.objects.filter(org_unit__code=FIRST_GRID_CODE, status="active", kind="home")
        due_today = [
            order
            for order in home
            if timezone.localdate(order.last_exposure) < today < timezone.localdate(order.planned_end)
            and not DailyCheck.objects.filter(order=order, date=today).exists()
            and DailyCheck.objects.filter(order=order, date=today - timedelta(days=1)).exists()
        ]
        assert due_today

        users = get_user_model().objects
        assert lab_desk.tests_due(actor=users.get(username="lab"), on=today, only_day=True).count() >= 2
        transfers = work_queue(actor=staff, filters=QueueFilters(kind="quarantine.transfer"))
        booked = [item for item in transfers if item.due_at > now]
        assert len(booked) >= 3 and all(item.note for item in booked)
        assert any(timezone.localdate(item.due_at) == today for item in booked)  # some due later today
        overdue = WorkItem.objects.filter(status__in=OPEN_STATUSES, due_at__lt=now)
        assert overdue.count() == len(summary.left_open) + 2  # + the grid worker's two
        assert not overdue.filter(note="").exists()
        for pk, reason in summary.left_open.items():
            assert reason in WorkItem.objects.get(pk=pk).note
    assert seconds < 30
