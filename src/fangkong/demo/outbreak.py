"""The demo outbreak: a seeded branching process through households, workplaces and venues of
the demo city over the last ~30 days, played out in time through the real services (so every
order, test, work item and audit event is what the platform itself would have made, at the moment
it would have made it).

Index cases start it, three of the eight in the demo district (东湖区, where the demo's
epidemiologist, quarantine staff, lab and hotline work, so they find the outbreak's work there);
each case is investigated (itinerary, contacts: household plus a few people
of the same community), and each close contact becomes a case with a fixed chance 2–6 days after
exposure — through a positive quarantine test when one is due, as the protocol's rule does it.
Cases are confirmed (or found asymptomatic, or excluded — their contacts then released early),
a few become severe, and they recover 10–14 days after confirmation (one severe case dies).
The work is done mostly in time by district teams of which a few are slow; what is left open past
its due time is left for a reason the simulation records (``OutbreakSummary.left_open``). Two
small clusters on the demo grid worker's grid, dated from the day of the load and not its hour,
give them people in home quarantine whose checks are due today, and orders (there and elsewhere
in the demo district) that ended at 00:00 today on negative tests, waiting to be released — at
whatever hour the load runs. A third scene elsewhere in the demo district gives the quarantine
staff transfers booked and due later (some later today), and each item left open for a reason has
that reason in its note. Deterministic for a seed and a ``now``.
"""

from __future__ import annotations

import time as clock
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from fangkong.cases.investigations import ItineraryData, investigation_complete, itinerary_add
from fangkong.cases.models import Case, Classification, Outcome
from fangkong.cases.services import (
    CaseDetails,
    case_classify,
    case_register,
    case_set_outcome,
    case_set_severity,
    case_update,
)
from fangkong.common.protocol import active_profile
from fangkong.contacts.models import Contact, ContactStatus
from fangkong.contacts.services import (
    case_contacts_identified,
    contact_confirm,
    contact_dismiss,
    contact_register,
)
from fangkong.demo.outbreak_orders import (
    INVESTIGATION_LATE,
    INVESTIGATION_STUCK,
    WAITING,
    Timeline,
    local_at,
)
from fangkong.demo.users import FIRST_COMMUNITY_CODE, FIRST_DISTRICT_CODE
from fangkong.orgs.models import Level, OrgUnit
from fangkong.people.models import Person
from fangkong.quarantine.models import OrderStatus, QuarantineOrder, TestResult
from fangkong.quarantine.services import lab_result_record

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
INDEX_CASES = 8
DEMO_DISTRICT_INDEXES = 3  # of them in the demo district, the rest anywhere else
BOOKED_TRANSFERS = 4  # close contacts of the transfer scene whose transfer is booked, due later
BOOKED_COMMUNITY_CODE = FIRST_DISTRICT_CODE + "002001"  # the scene's community: the demo district's
# second street, away from the grid worker's community
ATTACK_RATE = 0.3  # chance that a close contact becomes a case (R ≈ 1.5 with ~7 close contacts)
SECONDARY_DAYS = 6  # households of close contacts are confirmed as secondary contacts (home
# quarantine) for the last days only: older proposals stay as they were, which keeps the load short


@dataclass(frozen=True)
class Cast:
    """The people of the scenes on the demo grid worker's grid (see ``_Outbreak._cast``)."""

    indexes: list[int]  # the two scene cases
    ending: list[int]  # close contacts last exposed 8 days ago: their orders end at 00:00 today
    home: list[int]  # close contacts of 3 days ago whose households are in home quarantine
    reserved: frozenset[int]  # everyone of the scenes' households, out of the random outbreak
    booked: list[int] = field(default_factory=list)  # a case, then its contacts of the transfer scene


@dataclass
class OutbreakSummary:
    """What the outbreak load wrote; ``left_open`` maps each open item past due to the reason the
    simulation left it open (every overdue item of the outbreak is there)."""

    created: bool
    cases: int
    contacts: int
    orders: int
    checks: int
    seconds: float
    left_open: dict[int, str] = field(default_factory=dict)
    unplanned_overdue: int = 0
    ready_to_release: int = 0
    notes: int = 0  # items whose note says why they were left open

    def reasons(self) -> Counter[str]:
        return Counter(self.left_open.values())


def _summary(created: bool, started: float, outbreak: _Outbreak | None = None) -> OutbreakSummary:
    from fangkong.quarantine.models import DailyCheck

    left_open, unplanned = outbreak.timeline.left_open() if outbreak else ({}, 0)
    return OutbreakSummary(
        created=created,
        cases=Case.objects.count(),
        contacts=Contact.objects.count(),
        orders=QuarantineOrder.objects.count(),
        checks=DailyCheck.objects.count(),
        seconds=clock.perf_counter() - started,
        left_open=left_open,
        unplanned_overdue=unplanned,
        ready_to_release=outbreak.ready_to_release() if outbreak else 0,
        notes=outbreak.notes if outbreak else 0,
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
        outbreak = _Outbreak(
            seed=seed, actor=actor, now=now or timezone.now(), days=days, max_cases=max_cases
        )
        outbreak.run()
        return _summary(True, started, outbreak)


class _Outbreak:
    def __init__(self, *, seed: int, actor: Any, now: datetime, days: int, max_cases: int) -> None:
        self.timeline = Timeline(seed=seed, actor=actor, now=now, start=now - timedelta(days=days))
        self.rng, self.actor, self.now, self.max_cases = self.timeline.rng, actor, now, max_cases
        self.today = timezone.localdate(now)
        self.start = self.timeline.start
        self.cases = 0
        self.deaths = 0
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
        self.cast = self._cast()
        self.reserved = self.cast.reserved
        self.timeline.scene_people = set(self.reserved)
        self.timeline.booked = set(self.cast.booked[1:])
        self.notes = 0

    def hours(self, low: float, high: float) -> timedelta:
        return self.timeline.hours(low, high)

    def run(self) -> None:
        timeline = self.timeline
        timeline.sites_create()
        day = timezone.localdate(self.start)
        while day <= self.today:
            timeline.results_plan(day)
            day += timedelta(days=1)
        for person_id in self._index_cases():
            when = self.start + self.hours(0, 72)
            timeline.at(when, partial(self._infected, person_id, when, spreads=True))
        self._scenes_plan()
        self._booked_plan()
        timeline.play()
        timeline.checks_record()
        self._awaiting_confirmation()
        self.notes = timeline.notes_write()

    def _index_cases(self) -> list[int]:
        """``INDEX_CASES`` people out of the scenes, ``DEMO_DISTRICT_INDEXES`` of them in the demo
        district and the rest elsewhere (each drawn from the seed)."""
        free = [p for p in self.people if p[0] not in self.reserved]
        home = [pk for pk, grid, _h in free if self.code_of_grid[grid].startswith(FIRST_DISTRICT_CODE)]
        away = [pk for pk, grid, _h in free if not self.code_of_grid[grid].startswith(FIRST_DISTRICT_CODE)]
        there = min(DEMO_DISTRICT_INDEXES, len(home))
        chosen = [home[int(i)] for i in self.rng.choice(len(home), size=there, replace=False)]
        rest = min(INDEX_CASES - there, len(away))
        return chosen + [away[int(i)] for i in self.rng.choice(len(away), size=rest, replace=False)]

    def ready_to_release(self) -> int:
        """Active orders whose planned end has passed with every test negative."""
        return sum(
            1
            for order in QuarantineOrder.objects.filter(status=OrderStatus.ACTIVE, planned_end__lte=self.now)
            if not order.tests.exclude(result=TestResult.NEGATIVE).exists()
        )

    # infection and detection -----------------------------------------------------------------
    def _infected(self, person_id: int, when: datetime, *, spreads: bool) -> None:
        """``person_id`` falls ill (or turns positive) at ``when``: a quarantine test finds them,
        or they are reported by a clinic the same day."""
        if self.cases >= self.max_cases or Case.objects.filter(person_id=person_id).exists():
            return
        found = self.timeline.positive_test(person_id, when)
        if found is not None:
            test, at = found
            self.timeline.at(at, lambda: self._positive(test.pk, at, spreads=spreads))
            return
        if QuarantineOrder.objects.filter(person_id=person_id, status=OrderStatus.ACTIVE).exists():
            return  # in quarantine, and no test of theirs has a result yet
        self.cases += 1
        symptomatic = self.rng.random() < 0.9
        person = Person.objects.select_related("org_unit").get(pk=person_id)
        details = CaseDetails(
            onset_date=timezone.localdate(when) - timedelta(days=int(self.rng.integers(0, 3)))
            if symptomatic
            else None,
            sampled_at=when - self.hours(3, 8),
            hospital="市第三人民医院",
        )
        case = case_register(
            actor=self.actor,
            person=person,
            reported_at=when,
            details=details,
            classification="suspected" if symptomatic else "asymptomatic",
        )
        self._course(case, symptomatic=symptomatic, spreads=spreads, may_exclude=symptomatic)

    def _positive(self, test_id: int, at: datetime, *, spreads: bool) -> None:
        from fangkong.quarantine.models import TestAppointment

        test = TestAppointment.objects.select_related("order__person").get(pk=test_id)
        if test.result != TestResult.PENDING or test.order.status != OrderStatus.ACTIVE:
            return
        if self.cases >= self.max_cases:
            if self.timeline.for_demo_lab(test):
                self.timeline.sampled(test, at)
            else:
                lab_result_record(actor=self.actor, appointment=test, result=TestResult.NEGATIVE, at=at)
            return
        self.cases += 1
        lab_result_record(actor=self.actor, appointment=test, result=TestResult.POSITIVE, at=at)
        case = Case.objects.filter(person_id=test.order.person_id).order_by("-pk").first()
        assert case is not None
        symptomatic = self.rng.random() < 0.7
        onset = timezone.localdate(at) - timedelta(days=int(self.rng.integers(0, 2)))
        case = case_update(
            actor=self.actor,
            case=case,
            details=CaseDetails(
                onset_date=onset if symptomatic else None,
                sampled_at=local_at(test.date, 6.5),
                hospital="市第三人民医院",
                note=case.note,
            ),
        )
        self._course(case, symptomatic=symptomatic, spreads=spreads, may_exclude=False, isolated=True)

    # a case's course ---------------------------------------------------------------------------
    def _course(
        self, case: Case, *, symptomatic: bool, spreads: bool, may_exclude: bool, isolated: bool = False
    ) -> None:
        """Classification, investigation, contacts, severity and outcome of ``case``, each at its time."""
        reported = case.reported_at
        slow = self.rng.random() < 0.08  # this case's district team is overloaded today
        self.timeline.slow_case[case.pk] = slow
        decided = reported + self.hours(2, 10)
        if may_exclude and self.rng.random() < 0.045:
            excluded_at = reported + self.hours(6, 16)
            self._contacts_plan(case, spreads=False, slow=slow, until=excluded_at, isolated=isolated)
            self.timeline.at(excluded_at, lambda: self._exclude(case.pk, excluded_at))
            return
        if case.classification == Classification.SUSPECTED:
            to = "confirmed" if symptomatic else "asymptomatic"
            self.timeline.at(decided, lambda: self._classify(case.pk, to, decided))
        self._investigation_plan(case, slow=slow)
        self._contacts_plan(case, spreads=spreads, slow=slow, until=None, isolated=isolated)
        confirmed = symptomatic or case.classification == Classification.CONFIRMED
        if confirmed:
            self._outcome_plan(case, confirmed=decided)
        else:
            recovered = reported + timedelta(days=float(self.rng.uniform(8, 12)))
            self.timeline.at(recovered, lambda: self._outcome(case.pk, Outcome.RECOVERED, recovered))

    def _classify(self, case_id: int, to: str, at: datetime) -> None:
        case = Case.objects.get(pk=case_id)
        severity = "moderate" if to == "confirmed" and self.rng.random() < 0.25 else "mild"
        case_classify(
            actor=self.actor, case=case, to=to, at=at, severity=severity if to == "confirmed" else ""
        )

    def _exclude(self, case_id: int, at: datetime) -> None:
        """Not a case after all: classified excluded, and what it set going is ended."""
        case = Case.objects.get(pk=case_id)
        case_classify(actor=self.actor, case=case, to="excluded", at=at, note="复核核酸阴性，排除")
        self.timeline.orders_release_early(case_id=case_id, at=at)
        for contact in Contact.objects.filter(source_case_id=case_id, status=ContactStatus.PROPOSED):
            contact_dismiss(actor=self.actor, contact=contact, reason="源病例已排除")

    def _outcome_plan(self, case: Case, *, confirmed: datetime) -> None:
        draw = self.rng.random()
        if draw < 0.06:  # severe a few days in; one of them, the first old enough, dies
            worse = confirmed + timedelta(days=float(self.rng.uniform(1, 4)))
            self.timeline.at(worse, lambda: self._severity(case.pk, "severe", worse))
            end = confirmed + timedelta(days=float(self.rng.uniform(9, 12)))
            if self.deaths < 1 and end < self.now:
                self.deaths += 1
                critical = worse + timedelta(days=2)
                self.timeline.at(critical, lambda: self._severity(case.pk, "critical", critical))
                self.timeline.at(end, lambda: self._outcome(case.pk, Outcome.DECEASED, end))
                return
            end = confirmed + timedelta(days=float(self.rng.uniform(15, 21)))
        else:
            end = confirmed + timedelta(days=float(self.rng.uniform(10, 14)))
        self.timeline.at(end, lambda: self._outcome(case.pk, Outcome.RECOVERED, end))

    def _severity(self, case_id: int, severity: str, at: datetime) -> None:
        case = Case.objects.get(pk=case_id)
        if case.classification == Classification.CONFIRMED and case.outcome == Outcome.IN_TREATMENT:
            case_set_severity(actor=self.actor, case=case, severity=severity, at=at)

    def _outcome(self, case_id: int, outcome: str, at: datetime) -> None:
        case = Case.objects.get(pk=case_id)
        if case.classification != Classification.EXCLUDED and case.outcome == Outcome.IN_TREATMENT:
            case_set_outcome(actor=self.actor, case=case, outcome=outcome, at=at)

    # investigation and contacts ----------------------------------------------------------------
    def _investigation_plan(self, case: Case, *, slow: bool) -> None:
        reported = case.reported_at
        self._itinerary(case)
        draw = self.rng.random()
        if draw < 0.02:
            self.timeline.leave("case.investigate", case.pk, INVESTIGATION_STUCK)
            return
        done = reported + (self.hours(26, 40) if slow or draw < 0.08 else self.hours(4, 20))
        if not self.timeline.at(done, lambda: self._investigated(case.pk, done)):
            self.timeline.leave("case.investigate", case.pk, INVESTIGATION_LATE)

    def _itinerary(self, case: Case) -> None:
        for back in (3, 2, 1):
            start = timezone.localtime(case.reported_at - timedelta(days=back)).replace(
                hour=int(self.rng.integers(8, 20)), minute=int(self.rng.integers(0, 60))
            )
            itinerary_add(
                actor=self.actor,
                investigation=case.investigation,
                data=ItineraryData(
                    start=start.strftime("%Y-%m-%d %H:%M"),
                    end=(start + self.hours(0.5, 2)).strftime("%Y-%m-%d %H:%M"),
                    place=str(self.rng.choice(VENUES)),
                    publish=bool(self.rng.random() < 0.5),
                ),
            )

    def _investigated(self, case_id: int, at: datetime) -> None:
        case = Case.objects.select_related("investigation").get(pk=case_id)
        if case.classification == Classification.EXCLUDED or case.investigation.completed_at is not None:
            return
        investigation_complete(actor=self.actor, investigation=case.investigation, at=at, summary="流调完成")

    def _exposed(self, case: Case, *, isolated: bool) -> list[int]:
        """Household and a few people of the community (fewer when found in quarantine: they met
        them before they were isolated)."""
        exposed = [
            p
            for p in self.households.get(self.household_of.get(case.person_id) or -1, [])
            if p != case.person_id
        ]
        community = self.community[self.code_of_grid[self.person_grid[case.person_id]][:-3]]
        size = min(len(community), int(self.rng.poisson(4 if isolated else 5)))
        exposed += [int(p) for p in self.rng.choice(community, size=size, replace=False)]
        return [p for p in dict.fromkeys(exposed) if p != case.person_id and p not in self.reserved]

    def _under_quarantine(self, person_id: int) -> bool:
        """Whether ``person_id`` has a live order: someone in quarantine is not exposed again here
        (and a live order extended by a new exposure leaves its follow-on's old test days behind,
        see the load's report)."""
        return QuarantineOrder.objects.filter(
            person_id=person_id, status__in=[OrderStatus.ACTIVE, OrderStatus.PLANNED]
        ).exists()

    def _contacts_plan(
        self, case: Case, *, spreads: bool, slow: bool, until: datetime | None, isolated: bool
    ) -> None:
        reported = case.reported_at
        last_found = reported
        for person_id in self._exposed(case, isolated=isolated):
            decided = reported + (self.hours(6, 30) if slow else self.hours(1.5, 12))
            last = reported - self.hours(0, 40)
            if until is not None and decided >= until:
                continue
            if self.timeline.at(
                decided,
                partial(self._contact, case.pk, person_id, last, decided, spreads=spreads),
            ):
                last_found = max(last_found, decided)
        if until is None:
            identified = last_found + (self.hours(18, 30) if slow else self.hours(0.5, 3))
            self.timeline.at(identified, lambda: self._identified(case.pk, identified))

    def _contact(
        self, case_id: int, person_id: int, last: datetime, decided: datetime, *, spreads: bool
    ) -> None:
        case = Case.objects.get(pk=case_id)
        if (
            case.classification == Classification.EXCLUDED
            or Case.objects.filter(person_id=person_id).exists()
            or self._under_quarantine(person_id)
        ):
            return
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
        self._orders_follow(contact, case_id=case_id, decided=decided)
        secondaries = decided + self.hours(1, 8)
        if secondaries >= self.now - timedelta(days=SECONDARY_DAYS):
            self.timeline.at(secondaries, lambda: self._secondaries(contact.pk, secondaries))
        if spreads and self.rng.random() < ATTACK_RATE:
            ill = last + self.hours(48, 144)
            self.timeline.at(ill, lambda: self._infected(person_id, ill, spreads=True))

    def _orders_follow(self, contact: Contact, *, case_id: int, decided: datetime) -> None:
        orders = list(
            QuarantineOrder.objects.filter(
                person_id=contact.person_id, status__in=[OrderStatus.ACTIVE, OrderStatus.PLANNED]
            ).order_by("day_one", "pk")
        )
        self.timeline.orders_follow(orders, case_id=case_id, decided=decided)

    def _secondaries(self, contact_id: int, at: datetime) -> None:
        """The household of a close contact, proposed as secondary contacts: confirmed (home
        quarantine) unless the person is a case by then."""
        for secondary in Contact.objects.filter(
            via_contact_id=contact_id, status=ContactStatus.PROPOSED
        ).select_related("person__org_unit", "source_case"):
            if secondary.source_case.classification == Classification.EXCLUDED:
                continue
            if Case.objects.filter(person_id=secondary.person_id).exists():
                contact_dismiss(actor=self.actor, contact=secondary, reason="本人已是病例")
                continue
            if self._under_quarantine(secondary.person_id):
                contact_dismiss(actor=self.actor, contact=secondary, reason="本人已在隔离中")
                continue
            contact_confirm(actor=self.actor, contact=secondary, at=at)
            self._orders_follow(secondary, case_id=secondary.source_case_id, decided=at)

    def _identified(self, case_id: int, at: datetime) -> None:
        case = Case.objects.get(pk=case_id)
        if case.classification != Classification.EXCLUDED and case.contacts_identified_at is None:
            case_contacts_identified(actor=self.actor, case=case, at=at)

    # the demo grid worker's grid ---------------------------------------------------------------
    def _cast(self) -> Cast:
        """Who plays the two scenes (``_scenes_plan``), kept out of the random outbreak with their
        households: on the demo grid worker's grid, members of households of two or more (the
        first few, alternately to each scene); elsewhere in the same community (the demo
        district), one person of each of the first few households, for the two index cases and
        the contacts whose orders end at midnight today."""
        grid = self.timeline.first_grid
        homes = sorted({h for p, g, h in self.people if g == grid and h and len(self.households[h]) > 1})[:6]
        ending = sorted(p for h in homes[0::2] for p in self.households[h])[:3]
        home = [min(self.households[h]) for h in homes[1::2]]
        reserved = {p for h in homes for p in self.households[h]}
        outside = self._one_a_household(self.community[FIRST_COMMUNITY_CODE], 2 + WAITING, reserved, grid)
        booked = self._one_a_household(self.community[BOOKED_COMMUNITY_CODE], 1 + BOOKED_TRANSFERS, reserved)
        return Cast(
            indexes=outside[:2],
            ending=ending + outside[2:],
            home=home,
            reserved=frozenset(reserved),
            booked=booked if len(booked) > 1 else [],
        )

    def _one_a_household(self, people: list[int], count: int, reserved: set[int], grid: int = 0) -> list[int]:
        """Up to ``count`` of ``people`` (off ``grid``), one of each household not yet in
        ``reserved``; their households are added to it."""
        chosen: list[int] = []
        for person_id in sorted(people):
            household = self.household_of.get(person_id)
            members = self.households[household] if household else [person_id]
            if self.person_grid[person_id] == grid or person_id in reserved or len(chosen) >= count:
                continue
            chosen.append(person_id)
            reserved.update(members)
        return chosen

    def _scenes_plan(self) -> None:
        """Two cases in the grid worker's community, reported at 09:00 and 10:00, whatever the hour
        of the load: one 8 days ago, whose close contacts (on the grid and a few more in the
        community) were last exposed that day, so their quarantine ended at 00:00 today, every
        test day past and negative — waiting for the demo's staff to release them; and one 3 days
        ago, whose close contacts' households on the grid are in home quarantine since, with
        yesterday's check done and today's due."""
        cast = self.cast
        if len(cast.indexes) < 2:
            return  # a city too small for the scenes
        for n, (days_ago, contacts) in enumerate(((8, cast.ending), (3, cast.home))):
            if not contacts:
                continue
            reported = local_at(self.today - timedelta(days=days_ago), 9 + n)
            self.timeline.at(reported, partial(self._scene, cast.indexes[n], reported, contacts))

    def _scene(self, person_id: int, reported: datetime, contacts: list[int]) -> None:
        if Case.objects.filter(person_id=person_id).exists():
            return
        person = Person.objects.select_related("org_unit").get(pk=person_id)
        case = case_register(
            actor=self.actor,
            person=person,
            reported_at=reported,
            classification="suspected",
            details=CaseDetails(
                onset_date=timezone.localdate(reported) - timedelta(days=1),
                sampled_at=reported - timedelta(hours=5),
                hospital="市第三人民医院",
            ),
        )
        self.cases += 1
        confirmed = reported + self.hours(2, 4)
        self.timeline.slow_case[case.pk] = False
        self.timeline.at(confirmed, lambda: self._classify(case.pk, "confirmed", confirmed))
        self._itinerary(case)
        done = reported + self.hours(6, 12)
        self.timeline.at(done, lambda: self._investigated(case.pk, done))
        last = reported - timedelta(hours=2)
        for k, contact in enumerate(contacts):
            decided = reported + timedelta(hours=2 + k / 2)
            self.timeline.at(decided, partial(self._contact, case.pk, contact, last, decided, spreads=False))
        identified = reported + timedelta(hours=5)
        self.timeline.at(identified, lambda: self._identified(case.pk, identified))
        self._outcome_plan(case, confirmed=confirmed)

    def _booked_plan(self) -> None:
        """The transfer scene, in the demo district: a case whose close contacts were confirmed so
        that the protocol's control deadline of their transfers falls within the next day, some
        later today (as the hour allows) — booked, not done, not overdue, for the demo's quarantine
        staff to carry out; the case confirmed, investigated and its contacts identified in time."""
        if not self.cast.booked:
            return
        control = float(active_profile().timeliness.contact_control_hours)
        midnight = local_at(self.today + timedelta(days=1), 0)
        to_midnight = (midnight - self.now) / timedelta(hours=1)
        due_in = [to_midnight * 0.45, to_midnight * 0.9, to_midnight + 4, to_midnight + 9]
        due_in = [min(max(hours, 0.3), control - 1.5) for hours in due_in]
        index, *contacts = self.cast.booked
        decided = [self.now + timedelta(hours=hours - control) for hours in due_in[: len(contacts)]]
        reported = min(decided) - timedelta(hours=2)
        self.timeline.at(
            reported, partial(self._booked_scene, index, reported, dict(zip(contacts, decided, strict=True)))
        )

    def _booked_scene(self, person_id: int, reported: datetime, contacts: dict[int, datetime]) -> None:
        if Case.objects.filter(person_id=person_id).exists():
            return
        case = case_register(
            actor=self.actor,
            person=Person.objects.select_related("org_unit").get(pk=person_id),
            reported_at=reported,
            classification="suspected",
            details=CaseDetails(
                onset_date=timezone.localdate(reported) - timedelta(days=2),
                sampled_at=reported - timedelta(hours=4),
                hospital="市第三人民医院",
            ),
        )
        self.cases += 1
        self.timeline.slow_case[case.pk] = False
        confirmed = reported + timedelta(hours=1)
        self.timeline.at(confirmed, lambda: self._classify(case.pk, "confirmed", confirmed))
        self._itinerary(case)
        done = reported + self.hours(6, 12)
        self.timeline.at(done, lambda: self._investigated(case.pk, done))
        last = reported - timedelta(hours=20)
        for contact, decided in contacts.items():
            self.timeline.at(decided, partial(self._contact, case.pk, contact, last, decided, spreads=False))
        identified = max(contacts.values()) + timedelta(hours=0.5)
        self.timeline.at(identified, lambda: self._identified(case.pk, identified))

    def _awaiting_confirmation(self, count: int = 3) -> None:
        """A few suspected cases reported this morning in the demo epidemiologist's district
        (东湖区), not yet confirmed nor investigated: work waiting for whoever logs in."""
        district = OrgUnit.objects.filter(level=Level.DISTRICT).order_by("code").first()
        assert district is not None
        candidates = list(
            Person.objects.filter(
                org_unit__path__startswith=district.path, cases__isnull=True, quarantine_orders__isnull=True
            )
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
