"""The quarantine side of the demo outbreak, played out in time: transfers and notices, test
results, releases, early releases and daily checks, each done through the services at the moment
the simulation chose.

Most work is done in time, a minority late, and a few items are left open on purpose; every item
left open past its due time has a reason recorded in ``reasons`` (see ``left_open``) and written
into its note (``notes_write``), so the dashboard's overdue count is the simulation's own choice,
not an accident, and whoever opens the item reads why it waits. In the demo district (where the
demo lab works) today's samples are taken in the morning round and their results are left for the
demo lab to enter, whatever the hour of the load; a few transfers there are booked and due later
(``booked``), not yet overdue, for the demo quarantine staff. Orders of the demo grid
worker's grid and of the scenes' people (``scene_people``) that end at 00:00 today are left for
someone to release, their tests sampled and resulted in time: the demo's quarantine staff and grid
worker can try a release at once, whatever the hour of ``make demo``.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Any

import numpy as np
from django.db.models import Count, F, Q
from django.utils import timezone

from fangkong.demo.users import FIRST_DISTRICT_CODE, FIRST_GRID_CODE
from fangkong.orgs.models import Level, OrgUnit
from fangkong.quarantine.models import (
    OrderKind,
    OrderStatus,
    QuarantineOrder,
    Room,
    Site,
    TestAppointment,
    TestResult,
)
from fangkong.quarantine.monitoring import daily_check_record
from fangkong.quarantine.services import lab_result_record, order_assign_room, order_release
from fangkong.worklist.kinds import CASE, ORDER
from fangkong.worklist.models import OPEN_STATUSES, WorkItem
from fangkong.worklist.services import work_item_complete, work_item_note

WAITING = 4  # close contacts of the demo district, off the grid worker's grid, whose orders end today
FIRST_STEPS = ("quarantine.transfer", "quarantine.notice")
SIMULATED_KINDS = ("case.investigate", *FIRST_STEPS, "quarantine.sample", "quarantine.fever")
ROOMS_PER_SITE = (10, 20)  # floors 2..11, 20 rooms a floor, one bed each: 2 sites a district

# why the simulation left an item open (shown in the load's summary and written into the item's
# note): sentences a person reads, in Chinese with full-width punctuation
STUCK_TRANSFER = "本人拒绝转运，已报社区和公安协助。"
NO_ROOM = "本区隔离点暂无空房，等待调配。"
NOBODY_HOME = ("多次上门无人应答，已请社区继续联系。", "家属称本人外出未归，已请社区协查。")
LATE_STEP = {
    "quarantine.transfer": "转运车辆已安排，人员尚未送达隔离点。",
    "quarantine.notice": "告知书已安排送达，本人尚未签收。",
}
BOOKED = "已预约转运车辆，按批次送往隔离点。"
RESULT_PENDING = "样本已采，实验室结果未出。"
RETEST = "样本不合格，等待复采。"
INVESTIGATION_STUCK = "流调对象失联，已请公安协查。"
INVESTIGATION_LATE = "流调进行中，尚未完成。"
SAMPLED = "已采样送检，待实验室录入结果。"
NOTED_BEFORE_DUE = frozenset({BOOKED})  # reasons written into items that are not yet overdue too


def local_at(day: date, hours: float) -> datetime:
    """``hours`` after local midnight opening ``day``."""
    return timezone.make_aware(datetime.combine(day, time.min)) + timedelta(hours=hours)


class Timeline:
    """A clock of pending actions (run in time order) and the quarantine work they do."""

    def __init__(self, *, seed: int, actor: Any, now: datetime, start: datetime) -> None:
        self.rng = np.random.default_rng(seed + 101)
        self.actor, self.now, self.start = actor, now, start
        self.today = timezone.localdate(now)
        self.events: list[tuple[datetime, int, Callable[[], None]]] = []
        self.sequence = itertools.count()
        self.reasons: dict[tuple[str, str, str], str] = {}
        self.reserved_tests: set[int] = set()
        self.slow_case: dict[int, bool] = {}  # case id → its team works late
        self.district_of_unit: dict[int, int] = {}
        self.sites: dict[int, list[int]] = {}
        self.scene_people: set[int] = set()  # people of the scenes: their work is done in time
        self.first_grid = OrgUnit.objects.get(code=FIRST_GRID_CODE).pk
        self.lab_district = OrgUnit.objects.get(code=FIRST_DISTRICT_CODE).pk  # where the demo lab works
        self.booked: set[int] = set()  # people whose transfer is booked, due later (a scene)
        self.stepped: set[int] = set()  # orders whose first step is planned
        self.releases: set[tuple[int, datetime]] = set()  # (order, planned end) releases planned

    # the clock -------------------------------------------------------------------------------
    def hours(self, low: float, high: float) -> timedelta:
        return timedelta(hours=float(self.rng.uniform(low, high)))

    def at(self, when: datetime, action: Callable[[], None]) -> bool:
        """Do ``action`` at ``when`` if that moment has passed; False (nothing planned) if not."""
        if when >= self.now:
            return False
        heapq.heappush(self.events, (when, next(self.sequence), action))
        return True

    def play(self) -> None:
        while self.events:
            _when, _n, action = heapq.heappop(self.events)
            action()

    def leave(self, kind: str, subject_id: int, reason: str, *, due_on: date | None = None) -> None:
        """Record why an item stays open (it counts when it is open and past due at the end)."""
        self.reasons[(kind, str(subject_id), due_on.isoformat() if due_on else "")] = reason

    def _reason_of(self, item: WorkItem) -> str | None:
        day = timezone.localdate(item.due_at).isoformat() if item.kind == "quarantine.sample" else ""
        return self.reasons.get((item.kind, item.subject_id, day))

    def left_open(self) -> tuple[dict[int, str], int]:
        """The open, past-due items of the simulated kinds with the reason each was left open,
        and how many such items have no reason (none, when the simulation is right)."""
        found: dict[int, str] = {}
        unplanned = 0
        rows = WorkItem.objects.filter(
            kind__in=SIMULATED_KINDS, status__in=OPEN_STATUSES, due_at__lt=self.now
        ).only("pk", "kind", "subject_id", "due_at")
        for item in rows:
            reason = self._reason_of(item)
            if reason is None:
                unplanned += 1
            else:
                found[item.pk] = reason
        return found, unplanned

    def notes_write(self) -> int:
        """Write each reason into the note of the item left open for it, once the play is over
        (an item's fate is known only then): every item past due, and those not yet due whose
        reason is a plan (a booked transfer). Through the service, audited; returns how many."""
        written = 0
        items = WorkItem.objects.filter(kind__in=SIMULATED_KINDS, status__in=OPEN_STATUSES).select_related(
            "org_unit"
        )
        for item in items.order_by("pk"):
            reason = self._reason_of(item)
            if reason and (item.due_at < self.now or reason in NOTED_BEFORE_DUE) and reason not in item.note:
                work_item_note(actor=self.actor, item=item, note=reason)
                written += 1
        return written

    # sites and rooms -------------------------------------------------------------------------
    def sites_create(self) -> None:
        """Two centralised quarantine sites per district, one bed a room."""
        floors, per_floor = ROOMS_PER_SITE
        for district in OrgUnit.objects.filter(level=Level.DISTRICT).order_by("code"):
            for n in (1, 2):
                site = Site.objects.create(
                    name=f"{district.name}第{n}集中隔离点", org_unit=district, address=f"{district.name}"
                )
                Room.objects.bulk_create(
                    [
                        Room(site=site, number=f"{floor}{room:02d}", capacity=1)
                        for floor in range(2, 2 + floors)
                        for room in range(1, per_floor + 1)
                    ]
                )
                self.sites.setdefault(district.pk, []).append(site.pk)
        paths = dict(OrgUnit.objects.filter(level=Level.DISTRICT).values_list("path", "pk"))
        for pk, path in OrgUnit.objects.filter(level=Level.GRID).values_list("pk", "path"):
            self.district_of_unit[pk] = paths["/".join(path.split("/")[:2]) + "/"]

    def _free_room(self, order: QuarantineOrder) -> Room | None:
        """A free room in the person's district, else in another district (the city pools sites)."""
        own = self.sites[self.district_of_unit[order.org_unit_id]]
        for sites in (own, [pk for pks in self.sites.values() for pk in pks if pk not in own]):
            room = (
                Room.objects.filter(site_id__in=sites)
                .annotate(taken=Count("orders", filter=Q(orders__status=OrderStatus.ACTIVE)))
                .filter(taken__lt=F("capacity"))
                .order_by("site_id", "number")
                .first()
            )
            if room is not None:
                return room
        return None

    # orders ------------------------------------------------------------------------------------
    def orders_follow(self, orders: list[QuarantineOrder], *, case_id: int, decided: datetime) -> None:
        """Plan the first step of a contact's new orders and their releases."""
        for order in orders:
            if (
                order.follows_id is None
                and order.status == OrderStatus.ACTIVE
                and order.pk not in self.stepped
            ):
                self.stepped.add(order.pk)
                self._first_step_plan(order, case_id=case_id, decided=decided)
            if order.status == OrderStatus.ACTIVE:
                self._catch_up(order, decided)
            if (order.pk, order.planned_end) not in self.releases:
                self.releases.add((order.pk, order.planned_end))
                self._release_plan(order)

    def _first_step_plan(self, order: QuarantineOrder, *, case_id: int, decided: datetime) -> None:
        kind = "quarantine.transfer" if order.kind == OrderKind.CENTRALISED else "quarantine.notice"
        if not WorkItem.objects.filter(
            kind=kind, subject_type=ORDER, subject_id=str(order.pk), status__in=OPEN_STATUSES
        ).exists():
            return  # an extended order: no first step
        if order.person_id in self.booked:
            self.leave(kind, order.pk, BOOKED)
            return
        draw = self.rng.random()
        if draw < 0.012 and order.person_id not in self.scene_people:
            away = NOBODY_HOME[int(self.rng.integers(len(NOBODY_HOME)))]
            self.leave(kind, order.pk, STUCK_TRANSFER if kind == "quarantine.transfer" else away)
            return
        if self.slow_case.get(case_id, False) or draw < 0.022:
            done = decided + self.hours(25, 36)
        else:
            done = decided + self.hours(0.5, 9)
        if not self.at(done, lambda: self._first_step_do(order.pk, kind, done)):
            self.leave(kind, order.pk, LATE_STEP[kind])

    def _first_step_do(self, order_id: int, kind: str, done: datetime) -> None:
        order = QuarantineOrder.objects.select_related("org_unit").get(pk=order_id)
        if order.status != OrderStatus.ACTIVE:
            return  # converted or released first: the services ended the item
        if kind == "quarantine.transfer":
            room = self._free_room(order)
            if room is None:
                self.leave(kind, order.pk, NO_ROOM)
                return
            order_assign_room(actor=self.actor, order=order, room=room, at=done)
            return
        item = WorkItem.objects.filter(
            kind=kind, subject_type=ORDER, subject_id=str(order.pk), status__in=OPEN_STATUSES
        ).first()
        if item is not None:
            work_item_complete(actor=self.actor, item=item, done_at=done, note="已送达居家隔离告知书")

    def _release_plan(self, order: QuarantineOrder) -> None:
        """Release at the planned end on negative tests, a few hours after midnight; an order that
        ends today waits for someone to release it (the demo's staff try it)."""
        if timezone.localdate(order.planned_end) > self.today or self._waits(order):
            return
        when = order.planned_end + self.hours(1, 6)
        self.at(when, lambda: self._release_do(order.pk, when))

    def _waits(self, order: QuarantineOrder) -> bool:
        """Whether an order that ends at midnight today is kept for the demo's staff to release:
        those of the demo grid worker's grid and of the scenes' people (a few more of the demo
        district), whatever the hour of the load."""
        if timezone.localdate(order.planned_end) != self.today:
            return False
        return order.org_unit_id == self.first_grid or order.person_id in self.scene_people

    def _release_do(self, order_id: int, when: datetime) -> None:
        order = QuarantineOrder.objects.select_related("contact__source_case").get(pk=order_id)
        if order.status != OrderStatus.ACTIVE or when < order.planned_end:
            return  # ended otherwise, not started (its first order runs on), or extended since
        if order.tests.exclude(result=TestResult.NEGATIVE).exists():
            return  # a result is still missing: it stays until the result comes
        order_release(actor=self.actor, order=order, at=when)

    def orders_release_early(self, *, case_id: int, at: datetime) -> None:
        """The case was excluded: its contacts' active orders end early, a few hours later."""
        for order in QuarantineOrder.objects.filter(
            contact__source_case_id=case_id, status=OrderStatus.ACTIVE
        ).select_related("contact__source_case"):
            when = at + self.hours(1, 4)
            if when < self.now:
                order_release(actor=self.actor, order=order, at=when, early=True, reason="源病例已排除")

    # tests -------------------------------------------------------------------------------------
    def results_plan(self, day: date) -> None:
        """At 07:00 of ``day``: the lab's results for that day's tests."""
        self.at(local_at(day, 7), lambda: self._results_do(day))

    def _catch_up(self, order: QuarantineOrder, decided: datetime) -> None:
        """Tests due before the contact was found (the daily round had passed): sampled on
        arrival, the result a few hours later."""
        for test in order.tests.filter(result=TestResult.PENDING, date__lte=timezone.localdate(decided)):
            if test.pk in self.reserved_tests or local_at(test.date, 7) > decided:
                continue
            self.reserved_tests.add(test.pk)
            when = decided + self.hours(1, 5)
            if not self.at(when, partial(self._result_one, test.pk, when)):
                self.leave("quarantine.sample", order.pk, RESULT_PENDING, due_on=test.date)

    def _result_one(self, test_id: int, when: datetime) -> None:
        test = TestAppointment.objects.select_related("order").get(pk=test_id)
        if test.result != TestResult.PENDING or test.order.status != OrderStatus.ACTIVE:
            return
        if self.for_demo_lab(test):
            self.sampled(test, when)
            return
        lab_result_record(actor=self.actor, appointment=test, result=TestResult.NEGATIVE, at=when)

    def for_demo_lab(self, test: TestAppointment) -> bool:
        """Whether ``test``'s result is left for the demo lab to enter: a test of today in the
        demo district (the scenes' people's too: they make sure there are some)."""
        return (
            test.date == self.today and self.district_of_unit.get(test.order.org_unit_id) == self.lab_district
        )

    def sampled(self, test: TestAppointment, at: datetime) -> None:
        """The sample of ``test`` is taken at ``at`` (its sampling item done); the result waits."""
        item = WorkItem.objects.filter(
            kind="quarantine.sample",
            subject_type=ORDER,
            subject_id=str(test.order_id),
            status__in=OPEN_STATUSES,
            due_at__date=test.date,
        ).first()
        if item is not None and timezone.localdate(item.due_at) == test.date:
            work_item_complete(actor=self.actor, item=item, done_at=at, note=SAMPLED)

    def _results_do(self, day: date) -> None:
        due = local_at(day, 10)
        tests = (
            TestAppointment.objects.filter(
                date=day, result=TestResult.PENDING, order__status=OrderStatus.ACTIVE
            )
            .select_related("order")
            .order_by("pk")
        )
        for test in tests:
            if test.pk in self.reserved_tests:
                continue
            draw = self.rng.random()
            sure = test.order.person_id in self.scene_people  # sampled well: never retaken
            if day >= self.today - timedelta(days=1) and draw < 0.025 and not sure:
                self.leave("quarantine.sample", test.order_id, RETEST, due_on=day)
                continue
            late = draw < 0.03
            when = due + self.hours(0.5, 8) if late else local_at(day, 7) + self.hours(0, 2.9)
            if self.for_demo_lab(test):  # sampled in the morning round, the result left to the lab
                sampled = local_at(day, 7) + self.hours(0, 2.9)
                if sampled < self.now:
                    self.sampled(test, sampled)
                continue
            if when >= self.now:
                self.leave("quarantine.sample", test.order_id, RESULT_PENDING, due_on=day)
                continue
            lab_result_record(actor=self.actor, appointment=test, result=TestResult.NEGATIVE, at=when)

    def positive_test(self, person_id: int, infected: datetime) -> tuple[TestAppointment, datetime] | None:
        """The first test of ``person_id``'s live orders after ``infected`` whose result is in,
        reserved for a positive result; None when there is none."""
        first_day = timezone.localdate(infected) + timedelta(
            days=1 if timezone.localtime(infected).hour >= 7 else 0
        )
        test = (
            TestAppointment.objects.filter(
                order__person_id=person_id,
                order__status__in=[OrderStatus.ACTIVE, OrderStatus.PLANNED],
                result=TestResult.PENDING,
                date__gte=first_day,
            )
            .order_by("date")
            .first()
        )
        if test is None or test.pk in self.reserved_tests:
            return None
        when = local_at(test.date, 7) + self.hours(0, 2.9)
        if when >= self.now:
            return None
        self.reserved_tests.add(test.pk)
        return test, when

    # daily checks ------------------------------------------------------------------------------
    def checks_record(self) -> None:
        """The last two days' checks of every active order (today's are due, not done); about one
        in a hundred with a fever, each followed up the same evening."""
        today = self.today
        for order in QuarantineOrder.objects.filter(status=OrderStatus.ACTIVE).select_related(
            "person", "org_unit", "site"
        ):
            day = max(timezone.localdate(order.last_exposure), today - timedelta(days=2))
            last_day = timezone.localdate(order.planned_end - timedelta(seconds=1))
            while day < today and day <= last_day:
                fever = self.rng.random() < 0.01
                temperature = round(float(self.rng.normal(38.2 if fever else 36.5, 0.2)), 1)
                daily_check_record(
                    actor=self.actor,
                    order=order,
                    temperature=str(temperature),
                    symptoms=["cough"] if fever else [],
                    day=day,
                    source="staff",
                )
                if fever:
                    self._fever_follow_up(order, day)
                day += timedelta(days=1)

    def _fever_follow_up(self, order: QuarantineOrder, day: date) -> None:
        done = local_at(day, 20) + self.hours(0.2, 1.5)
        if done >= self.now:
            return  # today's fever: the item is fresh (due within the hour of the load)
        for item in WorkItem.objects.filter(
            kind="quarantine.fever", subject_type=ORDER, subject_id=str(order.pk), status__in=OPEN_STATUSES
        ):
            work_item_complete(actor=self.actor, item=item, done_at=done, note="已电话随访，复测体温正常")


__all__ = ["CASE", "Timeline", "local_at"]
