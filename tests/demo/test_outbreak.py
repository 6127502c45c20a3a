"""The demo outbreak plays out: cases run their course, work is done mostly in time, what is left
overdue is left on purpose, and the demo logins find work they can do at once."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db.models import F
from django.utils import timezone

from fangkong.cases.models import Case, ItineraryEntry
from fangkong.contacts.models import Contact
from fangkong.dashboard.filters import filters_from
from fangkong.dashboard.operations import overdue_by_unit
from fangkong.demo.city import DISTRICT_CODES
from fangkong.demo.helpdesk_demo import helpdesk_demo_load
from fangkong.demo.load import demo_load
from fangkong.demo.outbreak import OutbreakSummary, outbreak_load
from fangkong.demo.portal_demo import portal_demo_load
from fangkong.demo.users import FIRST_DISTRICT_CODE, FIRST_GRID_CODE
from fangkong.demo.volunteers_demo import volunteers_demo_load
from fangkong.helpdesk.models import HelpRequest
from fangkong.quarantine import lab as lab_desk
from fangkong.quarantine.models import DailyCheck, QuarantineOrder, TestAppointment, TestResult
from fangkong.quarantine.services import order_release
from fangkong.worklist.lifecycle import work_check
from fangkong.worklist.models import OPEN_STATUSES, WorkItem
from fangkong.worklist.selectors import QueueFilters, overdue_count, work_queue

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.fixture(scope="module")
def outbreak(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """One small city and outbreak for the module (loading it is the slow part), removed after."""
    with django_db_blocker.unblock():
        from django.db import transaction

        with transaction.atomic():
            demo_load(residents=4000, seed=2022)
            demo_overdue = overdue_count(actor=User.objects.get(username="commander"))
            summary = outbreak_load(max_cases=60, days=24)
            # the rest of what `fangkong demo` loads, as the demo_load command does
            portal_demo_load(today=timezone.localdate(), days=24, seed=2022)
            helpdesk_demo_load(seed=2022)
            volunteers_demo_load(today=timezone.localdate(), seed=2022)
            yield summary, demo_overdue
            transaction.set_rollback(True)


def test_the_outbreak_is_written_through_the_rules_and_only_once(outbreak: Any) -> None:
    summary: OutbreakSummary = outbreak[0]
    waiting = Case.objects.filter(
        classification="suspected", reported_at__gte=timezone.now() - timedelta(hours=7)
    )
    assert waiting.count() >= 3  # reported this morning, awaiting confirmation
    assert all(
        c.district.code == FIRST_DISTRICT_CODE for c in waiting.filter(investigation__itinerary__isnull=True)
    )
    assert summary.created and 20 <= summary.cases <= 60 + 3 + 3  # + the scenes, + awaiting
    assert not ItineraryEntry.objects.filter(investigation__case__isnull=True).exists()
    close = Contact.objects.filter(kind="close", status="confirmed")
    assert close.exists()
    for contact in close.select_related("source_case")[:50]:
        assert QuarantineOrder.objects.filter(person=contact.person).exists()
        own = QuarantineOrder.objects.filter(
            contact=contact, last_exposure=contact.last_exposure, follows=None
        ).first()
        if own is not None:  # day 1 is the day after the last exposure
            assert own.day_one == timezone.localdate(contact.last_exposure) + timedelta(days=1)
    assert min(Case.objects.values_list("reported_at", flat=True)) >= timezone.now() - timedelta(days=25)
    assert outbreak_load().created is False
    assert Case.objects.count() == summary.cases


def test_cases_run_their_course(outbreak: Any) -> None:
    cases = Case.objects.all()
    with_onset = cases.filter(onset_date__isnull=False).count()
    assert 0.6 <= with_onset / cases.count() <= 0.9
    assert not cases.filter(classification="asymptomatic", onset_date__isnull=False).exists()
    recovered = cases.filter(outcome="recovered")
    assert recovered.exists()
    for case in recovered.filter(classification="confirmed"):
        assert case.confirmed_at is not None and case.outcome_at is not None
        assert timedelta(days=9) <= case.outcome_at - case.confirmed_at <= timedelta(days=22)
    assert cases.filter(outcome="deceased").count() <= 1
    assert not cases.filter(
        classification="suspected", reported_at__lt=timezone.now() - timedelta(hours=12)
    ).exists()


def test_the_worklist_invariant_holds_after_the_whole_demo_load(outbreak: Any) -> None:
    """`fangkong check-work` on the demo: no open item its subject no longer needs, none missing."""
    assert work_check() == []


def test_excluded_cases_are_closed(outbreak: Any) -> None:
    assert not Case.objects.filter(classification="excluded").exclude(outcome="closed").exists()
    for case in Case.objects.filter(classification="excluded"):
        assert not WorkItem.objects.filter(
            subject_type="cases.case", subject_id=str(case.pk), status__in=OPEN_STATUSES
        ).exists()
        assert not QuarantineOrder.objects.filter(
            contact__source_case=case, status__in=["active", "planned"]
        ).exists()
        assert not Contact.objects.filter(source_case=case, status="proposed").exists()


def test_the_overdue_count_is_what_the_simulation_left_open(outbreak: Any) -> None:
    summary, demo_overdue = outbreak
    commander = User.objects.get(username="commander")
    assert summary.unplanned_overdue == 0
    assert overdue_count(actor=commander) == len(summary.left_open) + demo_overdue
    filters = filters_from(actor=commander)
    assert sum(row["overdue"] for row in overdue_by_unit(filters)) == len(summary.left_open) + demo_overdue
    assert all(reason.strip() for reason in summary.reasons())  # each has words a person reads


def test_each_item_left_overdue_says_why_in_its_note(outbreak: Any) -> None:
    summary: OutbreakSummary = outbreak[0]
    for item in WorkItem.objects.filter(pk__in=summary.left_open):
        assert summary.left_open[item.pk] in item.note
    assert summary.notes >= len(summary.left_open)
    for reason in summary.reasons():  # a sentence in Chinese, full-width punctuation
        assert reason.endswith("。") and not re.search(r"[,.;:!?()/]", reason)
    grid = WorkItem.objects.filter(
        org_unit__code=FIRST_GRID_CODE, kind__in=["household.visit", "people.verify"]
    )
    assert all(item.note for item in grid.filter(status__in=OPEN_STATUSES, due_at__lt=timezone.now()))


def test_the_demo_district_logins_find_the_outbreaks_work(outbreak: Any) -> None:
    """The lab, quarantine staff, epidemiologist and hotline of 东湖区 have work of their kinds."""
    now, today = timezone.now(), timezone.localdate()
    lab = User.objects.get(username="lab")
    assert lab_desk.tests_due(actor=lab, on=today, only_day=True).count() >= 2  # today's, left for the lab
    in_district = TestAppointment.objects.filter(order__org_unit__path__contains=f"/{FIRST_DISTRICT_CODE}/")
    assert not in_district.filter(date=today, result=TestResult.NEGATIVE).exists()
    staff = User.objects.get(username="quarantine_staff")
    transfers = list(work_queue(actor=staff, filters=QueueFilters(kind="quarantine.transfer")))
    booked = [item for item in transfers if item.due_at > now]
    assert len(booked) >= 3 and all(item.note for item in booked)
    assert all(item.due_at < now + timedelta(hours=24) for item in booked)
    epidemiologist = User.objects.get(username="epidemiologist")
    assert work_queue(actor=epidemiologist, filters=QueueFilters(kind="case.investigate")).count() >= 3
    requests = HelpRequest.objects.values_list("org_unit__path", flat=True)
    assert sum(f"/{FIRST_DISTRICT_CODE}/" in path for path in requests) >= 30
    assert any(f"/{DISTRICT_CODES[-1]}/" in path for path in requests)  # 西乡区 has a desk too


def test_most_work_is_done_in_time(outbreak: Any) -> None:
    done = WorkItem.objects.filter(status="done", kind__startswith="quarantine.")
    late = done.filter(done_at__gt=F("due_at")).count()
    assert done.count() > 100
    assert 0 < late / done.count() < 0.25  # day-1 samples of contacts found after 10:00 are late


def test_the_grid_worker_has_people_in_home_quarantine_with_checks_due_today(outbreak: Any) -> None:
    today = timezone.localdate()
    home = QuarantineOrder.objects.filter(
        org_unit__code=FIRST_GRID_CODE, status="active", kind__in=["home", "home_health_monitoring"]
    )
    due_today = [
        order
        for order in home
        if timezone.localdate(order.last_exposure) <= today < timezone.localdate(order.planned_end)
        and not DailyCheck.objects.filter(order=order, date=today).exists()
    ]
    assert due_today
    assert DailyCheck.objects.filter(order__in=due_today, date=today - timedelta(days=1)).exists()


def test_orders_ended_at_midnight_wait_to_be_released(outbreak: Any) -> None:
    summary = outbreak[0]
    now = timezone.now()
    ready = [
        order
        for order in QuarantineOrder.objects.filter(status="active", planned_end__lte=now)
        if not order.tests.exclude(result=TestResult.NEGATIVE).exists()
    ]
    assert len(ready) == summary.ready_to_release >= 2
    in_grid = [order for order in ready if order.org_unit.code == FIRST_GRID_CODE]
    assert in_grid
    staff = User.objects.get(username="quarantine_staff")
    released = order_release(actor=staff, order=in_grid[0])
    assert released.status == "released"
    worker = User.objects.get(username="grid_worker")
    others = [order for order in in_grid[1:]]
    if others:
        assert order_release(actor=worker, order=others[0]).status == "released"
