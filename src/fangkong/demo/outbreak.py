"""The demo outbreak: a seeded branching process through households, workplaces and venues of
the demo city over the last ~30 days, written through the real services (so every order, test,
work item and audit event is what the platform itself would have made).

Index cases start it; each case is investigated (itinerary, contacts: household plus a few people
of the same community), and each close contact becomes a case with a fixed chance 2–6 days after
exposure — through a positive quarantine test when one is due, as the protocol's rule does it.
Older orders get their transfer or notice done, their tests negative and their release; live ones
get daily checks, a few with fever. Deterministic for a seed and a ``now``.
"""

from __future__ import annotations

import heapq
import time as clock
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from fangkong.cases.investigations import ItineraryData, investigation_complete, itinerary_add
from fangkong.cases.models import Case, Classification
from fangkong.cases.services import CaseDetails, case_classify, case_register
from fangkong.contacts.models import Contact
from fangkong.contacts.services import case_contacts_identified, contact_register
from fangkong.orgs.models import Level, OrgUnit
from fangkong.people.models import Person
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
from fangkong.worklist.models import OPEN_STATUSES, WorkItem
from fangkong.worklist.services import work_item_complete

VENUES = [
    "湖贝美食城",
    "东门步行街",
    "万象城",
    "地铁1号线",
    "人民医院门诊",
    "莲花山公园",
    "海岸城影院",
    "华强北电子市场",
    "社区菜市场",
    "福田体育馆",
    "图书馆",
    "连锁超市",
]
INDEX_CASES = 6
ATTACK_RATE = 0.21  # chance that a close contact becomes a case (R ≈ 1.5 with ~7 close contacts)


@dataclass
class OutbreakSummary:
    created: bool
    cases: int
    contacts: int
    orders: int
    checks: int
    seconds: float


def _summary(created: bool, started: float) -> OutbreakSummary:
    from fangkong.quarantine.models import DailyCheck

    return OutbreakSummary(
        created=created,
        cases=Case.objects.count(),
        contacts=Contact.objects.count(),
        orders=QuarantineOrder.objects.count(),
        checks=DailyCheck.objects.count(),
        seconds=clock.perf_counter() - started,
    )


def outbreak_load(
    *, seed: int = 2022, days: int = 30, max_cases: int = 300, now: datetime | None = None
) -> OutbreakSummary:
    """Load the outbreak once (nothing is written when the city already has cases)."""
    started = clock.perf_counter()
    if Case.objects.exists():
        return _summary(False, started)
    actor = get_user_model().objects.get(username="admin")
    with transaction.atomic():
        _Outbreak(seed=seed, actor=actor, now=now or timezone.now(), days=days, max_cases=max_cases).run()
    return _summary(True, started)


class _Outbreak:
    def __init__(self, *, seed: int, actor: Any, now: datetime, days: int, max_cases: int) -> None:
        self.rng = np.random.default_rng(seed + 101)
        self.actor, self.now, self.max_cases = actor, now, max_cases
        self.start = now - timedelta(days=days)
        self.people = list(Person.objects.values_list("pk", "org_unit_id", "household_id"))
        grids = dict(OrgUnit.objects.filter(level=Level.GRID).values_list("pk", "code"))
        self.community: dict[str, list[int]] = defaultdict(list)
        self.households: dict[int, list[int]] = defaultdict(list)
        self.person_grid: dict[int, int] = {}
        for pk, grid, household in self.people:
            self.community[grids[grid][:-3]].append(pk)
            self.person_grid[pk] = grid
            if household:
                self.households[household].append(pk)
        self.household_of = {pk: household for pk, _grid, household in self.people}
        self.code_of_grid = grids

    def hours(self, low: float, high: float) -> timedelta:
        return timedelta(hours=float(self.rng.uniform(low, high)))

    def run(self) -> None:
        self._sites()
        queue: list[tuple[datetime, int, int]] = []
        for index in self.rng.choice(len(self.people), size=INDEX_CASES, replace=False):
            heapq.heappush(queue, (self.start + self.hours(0, 72), int(self.people[index][0]), 0))
        cases = 0
        while queue and cases < self.max_cases:
            when, person_id, contact_id = heapq.heappop(queue)
            if when > self.now - timedelta(hours=3) or Case.objects.filter(person_id=person_id).exists():
                continue
            case = self._case(person_id, when, contact_id)
            cases += 1
            for exposed, infected_at, contact in self._investigate(case, case.reported_at):
                if self.rng.random() < ATTACK_RATE:
                    heapq.heappush(queue, (infected_at, exposed, contact))
        self._follow_orders()
        self._awaiting_confirmation()

    def _awaiting_confirmation(self, count: int = 3) -> None:
        """A few suspected cases reported this morning in the demo epidemiologist's district
        (东湖区), not yet confirmed nor investigated: work waiting for whoever logs in."""
        district = OrgUnit.objects.filter(level=Level.DISTRICT).order_by("code").first()
        assert district is not None
        candidates = list(
            Person.objects.filter(org_unit__path__startswith=district.path, cases__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)[:2000]
        )
        for index in self.rng.choice(len(candidates), size=count, replace=False):
            person = Person.objects.select_related("org_unit").get(pk=candidates[int(index)])
            when = self.now - self.hours(1, 6)
            details = CaseDetails(
                onset_date=timezone.localdate(when) - timedelta(days=1), sampled_at=when - timedelta(hours=2)
            )
            case_register(
                actor=self.actor, person=person, classification="suspected", reported_at=when, details=details
            )

    def _sites(self) -> None:
        for district in OrgUnit.objects.filter(level=Level.DISTRICT).order_by("code"):
            for n in (1, 2):
                site = Site.objects.create(
                    name=f"{district.name}第{n}集中隔离点", org_unit=district, address=f"{district.name}"
                )
                Room.objects.bulk_create(
                    [
                        Room(site=site, number=f"{floor}{room:02d}", capacity=1)
                        for floor in range(2, 8)
                        for room in range(1, 11)
                    ]
                )

    def _case(self, person_id: int, when: datetime, contact_id: int) -> Case:
        person = Person.objects.select_related("org_unit").get(pk=person_id)
        pending = (
            TestAppointment.objects.filter(
                order__person=person,
                order__status=OrderStatus.ACTIVE,
                result=TestResult.PENDING,
                date__gte=timezone.localdate(when),
            )
            .order_by("date")
            .first()
        )
        if (
            pending is not None
            and timezone.make_aware(datetime.combine(pending.date, datetime.min.time())) + timedelta(hours=14)
            < self.now
        ):
            at = timezone.make_aware(datetime.combine(pending.date, datetime.min.time())) + timedelta(
                hours=14
            )
            lab_result_record(actor=self.actor, appointment=pending, result=TestResult.POSITIVE, at=at)
            case = Case.objects.get(person=person)
            when = at
        else:
            asymptomatic = self.rng.random() < 0.2
            details = CaseDetails(
                onset_date=None if asymptomatic else timezone.localdate(when) - timedelta(days=1),
                sampled_at=when - timedelta(hours=6),
                hospital="市第三人民医院",
            )
            case = case_register(
                actor=self.actor,
                person=person,
                reported_at=when,
                details=details,
                classification="asymptomatic" if asymptomatic else "suspected",
            )
        confirm_at = when + self.hours(2, 10)
        draw = self.rng.random()
        if confirm_at < self.now and case.classification == Classification.SUSPECTED:
            if draw < 0.9:
                severity = str(self.rng.choice(["mild", "mild", "mild", "moderate", "severe"]))
                case_classify(actor=self.actor, case=case, to="confirmed", at=confirm_at, severity=severity)
            elif draw < 0.95:
                case_classify(actor=self.actor, case=case, to="excluded", at=confirm_at)
        return case

    def _investigate(self, case: Case, when: datetime) -> list[tuple[int, datetime, int]]:
        investigation = case.investigation
        for back in (3, 2, 1):
            start = timezone.localtime(when - timedelta(days=back)).replace(
                hour=int(self.rng.integers(8, 20)), minute=int(self.rng.integers(0, 60))
            )
            itinerary_add(
                actor=self.actor,
                investigation=investigation,
                data=ItineraryData(
                    start=start.strftime("%Y-%m-%d %H:%M"),
                    end=(start + self.hours(0.5, 2)).strftime("%Y-%m-%d %H:%M"),
                    place=str(self.rng.choice(VENUES)),
                    publish=bool(self.rng.random() < 0.5),
                ),
            )
        done_at = when + self.hours(6, 40)
        if done_at < self.now:
            investigation_complete(
                actor=self.actor, investigation=investigation, at=done_at, summary="流调完成"
            )
        exposed = [
            p
            for p in self.households.get(self.household_of.get(case.person_id) or -1, [])
            if p != case.person_id
        ]
        community = self.community[self.code_of_grid[self.person_grid[case.person_id]][:-3]]
        exposed += [
            int(p)
            for p in self.rng.choice(
                community, size=min(len(community), int(self.rng.poisson(5))), replace=False
            )
        ]
        found: list[tuple[int, datetime, int]] = []
        for person_id in dict.fromkeys(exposed):
            if person_id == case.person_id or Case.objects.filter(person_id=person_id).exists():
                continue
            last = when - self.hours(0, 40)
            decided = min(when + self.hours(3, 30), self.now - timedelta(minutes=5))
            household = self.household_of.get(person_id) == self.household_of.get(case.person_id)
            contact = contact_register(
                actor=self.actor,
                case=case,
                person=Person.objects.select_related("org_unit").get(pk=person_id),
                exposure_type="household"
                if household
                else str(self.rng.choice(["workplace", "venue", "social"])),
                first_exposure=last - self.hours(1, 6),
                last_exposure=last,
                at=decided,
            )
            found.append((person_id, last + self.hours(48, 144), contact.pk))
        identified = when + self.hours(8, 36)
        if identified < self.now:
            case_contacts_identified(actor=self.actor, case=case, at=identified)
        return found

    def _follow_orders(self) -> None:
        today = timezone.localdate(self.now)
        free_rooms = list(Room.objects.order_by("site_id", "number"))
        for item in WorkItem.objects.filter(
            kind__in=["quarantine.transfer", "quarantine.notice"], status__in=OPEN_STATUSES
        ):
            order = QuarantineOrder.objects.select_related("contact", "person").get(pk=int(item.subject_id))
            if order.status != OrderStatus.ACTIVE or order.contact is None or self.rng.random() > 0.9:
                continue
            done = order.contact.decided_at + self.hours(1, 30) if order.contact.decided_at else self.now
            done = min(done, self.now - timedelta(minutes=1))
            if order.kind == OrderKind.CENTRALISED and free_rooms:
                order_assign_room(actor=self.actor, order=order, room=free_rooms.pop(), at=done)
            elif order.kind != OrderKind.CENTRALISED:
                work_item_complete(actor=self.actor, item=item, done_at=done, note="已送达")
        for _round in range(2):  # a released order's follow-on becomes active: settle it too
            for test in TestAppointment.objects.filter(
                result=TestResult.PENDING, date__lt=today, order__status=OrderStatus.ACTIVE
            ).select_related("order"):
                lab_result_record(
                    actor=self.actor,
                    appointment=test,
                    result=TestResult.NEGATIVE,
                    at=timezone.make_aware(datetime.combine(test.date, datetime.min.time()))
                    + timedelta(hours=16),
                )
            for order in QuarantineOrder.objects.filter(
                status=OrderStatus.ACTIVE, planned_end__lt=self.now
            ).order_by("planned_end"):
                if order.tests.exclude(result=TestResult.NEGATIVE).exists():
                    continue
                order_release(
                    actor=self.actor, order=order, at=min(order.planned_end + self.hours(1, 6), self.now)
                )
        self._checks(today)

    def _checks(self, today: date) -> None:
        for order in QuarantineOrder.objects.filter(status=OrderStatus.ACTIVE).select_related(
            "person", "org_unit", "site"
        ):
            first = max(timezone.localdate(order.last_exposure), today - timedelta(days=2))
            day = first
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
                day += timedelta(days=1)
