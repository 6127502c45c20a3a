"""Work follows state: random sequences of services keep the worklist's invariant after every step,
and each subject event ends exactly the items the table of kinds says."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fangkong.cases.investigations import investigation_complete
from fangkong.cases.models import Case, Classification, Outcome
from fangkong.cases.services import CaseDetails, case_classify, case_register, case_set_outcome
from fangkong.common.errors import Conflict, Forbidden, Invalid
from fangkong.contacts.services import contact_register
from fangkong.people.models import Person
from fangkong.people.services import person_merge
from fangkong.quarantine.models import (
    LIVE_STATUSES,
    OrderKind,
    OrderStatus,
    QuarantineOrder,
    Room,
    Site,
    TestAppointment,
    TestResult,
)
from fangkong.quarantine.services import lab_result_record, order_assign_room, order_release
from fangkong.worklist.kinds import KINDS, ORDER
from fangkong.worklist.lifecycle import work_check, work_fix
from fangkong.worklist.models import OPEN_STATUSES, WorkItem
from tests.people.factories import make_person

pytestmark = pytest.mark.django_db(transaction=False)

ACTIONS = [
    "contact",
    "negative",
    "positive",
    "release",
    "exclude",
    "confirm",
    "recover",
    "investigate",
    "merge",
    "become_case",
    "room",
    "early_release",
    "recontact",
]


class World:
    """A small outbreak and the services a step may call on it."""

    def __init__(self, tree: Any, actor: Any) -> None:
        self.tree, self.actor, self.now = tree, actor, timezone.now()
        self.site = Site.objects.create(name="东湖酒店", org_unit=tree.district)
        Room.objects.bulk_create([Room(site=self.site, number=f"30{n}", capacity=1) for n in range(3)])
        self.names = iter(f"测试{n}" for n in range(1000))
        self.cases = [self._case(days_ago=10) for _ in range(2)]

    def _case(self, *, days_ago: float, person: Person | None = None) -> Case:
        when = self.now - timedelta(days=days_ago)
        return case_register(
            actor=self.actor,
            person=person or make_person(actor=self.actor, grid=self.tree.grid_a, name=next(self.names)),
            classification="suspected",
            reported_at=when,
            details=CaseDetails(onset_date=timezone.localdate(when) - timedelta(days=1)),
        )

    def pick(self, rows: list[Any], n: int) -> Any:
        return rows[n % len(rows)] if rows else None

    def step(self, action: str, n: int) -> None:
        getattr(self, action)(n)

    def contact(self, n: int) -> None:
        case = self.pick(self.cases, n)
        person = make_person(actor=self.actor, grid=self.tree.grid_b, name=next(self.names))
        last = case.reported_at - timedelta(hours=1 + n % 30)
        contact_register(
            actor=self.actor,
            case=case,
            person=person,
            exposure_type="household",
            first_exposure=last - timedelta(hours=2),
            last_exposure=last,
            at=case.reported_at + timedelta(hours=n % 40),
        )

    def _due_test(self, n: int) -> TestAppointment | None:
        due = TestAppointment.objects.filter(
            result=TestResult.PENDING, order__status=OrderStatus.ACTIVE, date__lte=timezone.localdate()
        ).order_by("pk")
        return self.pick(list(due.select_related("order")), n)

    def negative(self, n: int) -> None:
        test = self._due_test(n)
        if test is not None:
            lab_result_record(actor=self.actor, appointment=test, result=TestResult.NEGATIVE)

    def positive(self, n: int) -> None:
        test = self._due_test(n)
        if test is not None:
            lab_result_record(actor=self.actor, appointment=test, result=TestResult.POSITIVE)

    def release(self, n: int) -> None:
        order = self.pick(list(QuarantineOrder.objects.filter(status=OrderStatus.ACTIVE).order_by("pk")), n)
        if order is not None:
            order_release(actor=self.actor, order=order)

    def early_release(self, n: int) -> None:
        order = self.pick(list(QuarantineOrder.objects.filter(status=OrderStatus.ACTIVE).order_by("pk")), n)
        if order is not None:
            order_release(actor=self.actor, order=order, early=True, reason="病例已排除")

    def _cases(self, **filters: Any) -> list[Case]:
        return list(Case.objects.filter(**filters).order_by("pk"))

    def exclude(self, n: int) -> None:
        case = self.pick(self._cases(classification=Classification.SUSPECTED), n)
        if case is not None:
            case_classify(actor=self.actor, case=case, to="excluded", at=timezone.now())

    def confirm(self, n: int) -> None:
        case = self.pick(self._cases(classification=Classification.SUSPECTED), n)
        if case is not None:
            case_classify(actor=self.actor, case=case, to="confirmed", at=timezone.now(), severity="mild")

    def recover(self, n: int) -> None:
        case = self.pick(
            self._cases(classification=Classification.CONFIRMED, outcome=Outcome.IN_TREATMENT), n
        )
        if case is not None:
            case_set_outcome(actor=self.actor, case=case, outcome=Outcome.RECOVERED, at=timezone.now())

    def investigate(self, n: int) -> None:
        case = self.pick(self._cases(investigation__completed_at__isnull=True), n)
        if case is not None:
            investigation_complete(actor=self.actor, investigation=case.investigation)

    def merge(self, n: int) -> None:
        """A second record of a contact (mistyped ID), made a contact of another case, merged back."""
        orders = list(QuarantineOrder.objects.filter(status__in=LIVE_STATUSES).select_related("person"))
        order = self.pick(orders, n)
        if order is None:
            return
        twin = make_person(actor=self.actor, grid=order.person.org_unit, name=order.person.name)
        other = self.pick([c for c in self.cases if c.person_id != order.person_id], n + 1)
        if other is not None:
            last = other.reported_at - timedelta(hours=3)
            contact_register(
                actor=self.actor,
                case=other,
                person=twin,
                exposure_type="social",
                first_exposure=last - timedelta(hours=1),
                last_exposure=last,
                at=other.reported_at + timedelta(hours=1),
            )
        person_merge(actor=self.actor, keep=order.person, drop=twin)

    def become_case(self, n: int) -> None:
        """A contact registered as a case by the epidemiologist (not through a positive test)."""
        orders = list(QuarantineOrder.objects.filter(status__in=LIVE_STATUSES).select_related("person"))
        order = self.pick(orders, n)
        if order is not None:
            self.cases.append(self._case(days_ago=0.01, person=order.person))

    def recontact(self, n: int) -> None:
        """Someone already in quarantine or monitoring is a close contact of a new case: orders
        are extended, or a released person goes back to centralised quarantine first."""
        orders = list(QuarantineOrder.objects.filter(status__in=LIVE_STATUSES).select_related("person"))
        order = self.pick(orders, n)
        if order is None:
            return
        case = self._case(days_ago=0.5)
        self.cases.append(case)
        last = case.reported_at - timedelta(hours=2)
        contact_register(
            actor=self.actor,
            case=case,
            person=order.person,
            exposure_type="workplace",
            first_exposure=last - timedelta(hours=1),
            last_exposure=last,
        )

    def room(self, n: int) -> None:
        orders = list(
            QuarantineOrder.objects.filter(
                status=OrderStatus.ACTIVE, kind=OrderKind.CENTRALISED, room__isnull=True
            ).order_by("pk")
        )
        order = self.pick(orders, n)
        if order is not None:
            order_assign_room(actor=self.actor, order=order, room=self.pick(list(Room.objects.all()), n))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.sampled_from(ACTIONS), st.integers(0, 50)), min_size=3, max_size=14))
def test_random_sequences_of_services_keep_the_invariant(tree, admin_user, steps):
    with transaction.atomic():
        world = World(tree, admin_user)
        assert work_check() == []
        for action, n in steps:
            try:
                with transaction.atomic():
                    world.step(action, n)
            except (Conflict, Invalid, Forbidden):
                pass  # a refusal changes nothing
            found = work_check()
            assert found == [], f"after {action}({n}): {found[:3]}"
        transaction.set_rollback(True)


def _open(kind: str, subject: Any) -> list[WorkItem]:
    return list(
        WorkItem.objects.filter(
            kind=kind,
            subject_type=subject._meta.label_lower,
            subject_id=str(subject.pk),
            status__in=OPEN_STATUSES,
        ).order_by("pk")
    )


def test_a_positive_test_ends_every_open_item_of_the_order_with_a_reason(tree, admin_user):
    world = World(tree, admin_user)
    world.contact(0)
    order = QuarantineOrder.objects.get(status=OrderStatus.ACTIVE)
    assert _open("quarantine.sample", order) and _open("quarantine.transfer", order)
    test = order.tests.filter(date__lte=timezone.localdate()).order_by("date").first()
    lab_result_record(actor=admin_user, appointment=test, result=TestResult.POSITIVE)
    order.refresh_from_db()
    assert order.status == OrderStatus.CONVERTED
    items = WorkItem.objects.filter(subject_id=str(order.pk), subject_type=ORDER)
    assert not items.filter(status__in=OPEN_STATUSES).exists()
    done = items.get(kind="quarantine.sample", due_at__date=test.date)
    assert done.status == "done"
    cancelled = items.filter(status="cancelled")
    assert cancelled.exists() and all("转为病例" in i.note or "became a case" in i.note for i in cancelled)
    follow_on = QuarantineOrder.objects.get(follows=order)
    assert follow_on.status == OrderStatus.CANCELLED
    assert not WorkItem.objects.filter(
        subject_type=ORDER, subject_id=str(follow_on.pk), status__in=OPEN_STATUSES
    ).exists()


def test_a_contact_registered_as_a_case_has_its_orders_converted(tree, admin_user):
    world = World(tree, admin_user)
    world.contact(0)
    order = QuarantineOrder.objects.get(status=OrderStatus.ACTIVE)
    world.become_case(0)
    order.refresh_from_db()
    assert order.status == OrderStatus.CONVERTED and order.converted_case is not None
    assert order.contact.became_case == order.converted_case
    assert not WorkItem.objects.filter(
        subject_type=ORDER, subject_id=str(order.pk), status__in=OPEN_STATUSES
    ).exists()


def test_excluding_or_recovering_a_case_ends_its_investigation_item(tree, admin_user):
    world = World(tree, admin_user)
    first, second = world.cases
    world.exclude(0)
    assert not _open("case.investigate", first)
    world.confirm(0)
    world.recover(0)
    assert not _open("case.investigate", second)
    assert WorkItem.objects.get(subject_id=str(second.pk), kind="case.investigate").status == "cancelled"


def test_merging_folds_two_live_orders_into_one_and_moves_work(tree, admin_user):
    world = World(tree, admin_user)
    world.contact(0)
    world.merge(0)
    keep = QuarantineOrder.objects.filter(status=OrderStatus.ACTIVE).first().person
    live = QuarantineOrder.objects.filter(person=keep, status__in=LIVE_STATUSES)
    assert sorted(live.values_list("kind", flat=True)) == ["centralised", "home_health_monitoring"]
    assert work_check() == []


def test_check_work_finds_and_fixes_a_stale_and_a_missing_item(tree, admin_user):
    world = World(tree, admin_user)
    world.contact(0)
    order = QuarantineOrder.objects.get(status=OrderStatus.ACTIVE)
    # an older database: the order released by hand in SQL, a sampling item deleted
    QuarantineOrder.objects.filter(pk=order.pk).update(status=OrderStatus.RELEASED)
    case = world.cases[1]
    WorkItem.objects.filter(subject_id=str(case.pk), kind="case.investigate").delete()
    found = work_check()
    assert {(f.problem, f.kind) for f in found} >= {
        ("stale", "quarantine.sample"),
        ("stale", "quarantine.transfer"),
        ("missing", "case.investigate"),
    }
    result = work_fix(actor=None, findings=found)
    assert result["repaired"] == 1 and result["closed"] == len(found) - 1
    assert work_check() == []
    assert _open("case.investigate", case)


def test_every_kind_names_a_role_and_every_subject_kind_has_an_ending():
    for rule in KINDS.values():
        assert rule.role
        if rule.subject and rule.subject != "people.person":
            assert rule.ends, rule.kind


def test_the_property_test_steps_do_change_state(tree, admin_user):
    """The steps the property test draws are real acts, not refusals: in a plausible order each one
    succeeds (so the invariant is checked after state that changed)."""
    world = World(tree, admin_user)
    plan = ["contact", "contact", "negative", "room", "merge", "positive", "release", "confirm"]
    plan += ["investigate", "become_case", "recover", "exclude", "contact", "release", "recontact"]
    refused = []
    for action in plan:
        try:
            with transaction.atomic():
                world.step(action, 0)
        except (Conflict, Invalid, Forbidden) as error:
            refused.append((action, str(error)))
        assert work_check() == []
    assert len(refused) <= 2, refused


def test_an_order_that_waits_again_is_re_dated_not_doubled(tree, admin_user):
    """Released from centralised quarantine, on home monitoring, then a close contact again: back
    to centralised first; the monitoring order waits, its early test days and their items go."""
    world = World(tree, admin_user)
    world.contact(0)
    first = QuarantineOrder.objects.get(status=OrderStatus.ACTIVE)
    for test in first.tests.order_by("date"):
        lab_result_record(actor=admin_user, appointment=test, result=TestResult.NEGATIVE)
    order_release(actor=admin_user, order=first)
    monitoring = QuarantineOrder.objects.get(follows=first)
    assert monitoring.status == OrderStatus.ACTIVE
    world.recontact(0)
    monitoring.refresh_from_db()
    assert monitoring.status == OrderStatus.PLANNED and monitoring.follows.kind == OrderKind.CENTRALISED
    assert not monitoring.tests.filter(date__lt=monitoring.day_one).exists()
    dates = [timezone.localdate(i.due_at) for i in _open("quarantine.sample", monitoring)]
    assert dates and len(dates) == len(set(dates)) and min(dates) >= monitoring.day_one
    assert work_check() == []


def test_a_planned_order_pushed_later_keeps_no_test_before_its_day_one(tree, admin_user):
    """A close contact exposed again while in centralised quarantine: the monitoring order that
    follows starts later, and none of its test days (nor their sampling items) fall before it."""
    world = World(tree, admin_user)
    world.contact(0)
    planned = QuarantineOrder.objects.get(status=OrderStatus.PLANNED)
    old_day_one = planned.day_one
    world.recontact(0)  # the only live person: exposed again half a day ago
    planned.refresh_from_db()
    assert planned.status == OrderStatus.PLANNED and planned.day_one > old_day_one
    assert not planned.tests.filter(date__lt=planned.day_one).exists()
    assert all(timezone.localdate(i.due_at) >= planned.day_one for i in _open("quarantine.sample", planned))
    assert work_check() == []


def test_home_quarantine_is_superseded_when_the_person_becomes_a_close_contact(tree, admin_user):
    from fangkong.contacts.models import ContactKind
    from fangkong.contacts.services import contact_confirm, contact_propose

    world = World(tree, admin_user)
    case = world.cases[0]
    person = make_person(actor=admin_user, grid=tree.grid_b, name="居家者")
    last = case.reported_at - timedelta(hours=5)
    secondary = contact_propose(
        case=case,
        person=person,
        kind=ContactKind.SECONDARY,
        exposure_type="household",
        first_exposure=last - timedelta(hours=1),
        last_exposure=last,
        discovered_by="household",
    )
    contact_confirm(actor=admin_user, contact=secondary, at=case.reported_at + timedelta(hours=2))
    home = QuarantineOrder.objects.get(person=person, status=OrderStatus.ACTIVE)
    assert home.kind == OrderKind.HOME
    world.cases.append(world._case(days_ago=0.5))
    other = world.cases[-1]
    contact_register(
        actor=admin_user,
        case=other,
        person=person,
        exposure_type="workplace",
        first_exposure=other.reported_at - timedelta(hours=3),
        last_exposure=other.reported_at - timedelta(hours=2),
    )
    home.refresh_from_db()
    assert home.status == OrderStatus.CANCELLED
    live = QuarantineOrder.objects.filter(person=person, status__in=LIVE_STATUSES)
    assert sorted(live.values_list("kind", flat=True)) == ["centralised", "home_health_monitoring"]
    assert not _open("quarantine.sample", home) and work_check() == []


def test_a_note_keeps_the_item_open_and_a_closed_item_takes_none(tree, admin_user, client):
    from fangkong.worklist.services import work_item_complete, work_item_note

    world = World(tree, admin_user)
    item = _open("case.investigate", world.cases[0])[0]
    work_item_note(actor=admin_user, item=item, note="病例拒接电话，已请社区协助")
    item.refresh_from_db()
    assert item.is_open and item.note.endswith("病例拒接电话，已请社区协助")
    work_item_complete(actor=admin_user, item=item)
    with pytest.raises(Conflict):
        work_item_note(actor=admin_user, item=item, note="再补一句")
    client.force_login(admin_user)
    other = _open("case.investigate", world.cases[1])[0]
    client.post(f"/work/{other.pk}/note/", {"note": "等待家属回电"})
    other.refresh_from_db()
    assert other.is_open and "等待家属回电" in other.note


def test_work_is_given_only_to_someone_who_does_its_kind(tree, admin_user):
    from fangkong.worklist.services import work_item_assign
    from tests.orgs.factories import user_with_role

    world = World(tree, admin_user)
    item = _open("case.investigate", world.cases[0])[0]
    lab = user_with_role("lab", tree.district, username="lab_x")
    epi = user_with_role("epidemiologist", tree.city, username="epi_city")
    with pytest.raises(Invalid, match="lab_x"):
        work_item_assign(actor=admin_user, item=item, assignee=lab)
    assert work_item_assign(actor=admin_user, item=item, assignee=epi).assignee == epi


def test_a_late_check_ends_the_day_s_missing_check_item(tree, admin_user):
    from fangkong.quarantine.monitoring import daily_check_record, missing_checks_sweep

    world = World(tree, admin_user)
    world.cases = [world._case(days_ago=3)]  # a contact in the middle of centralised quarantine
    world.contact(0)
    order = QuarantineOrder.objects.get(status=OrderStatus.ACTIVE)
    yesterday = timezone.localdate() - timedelta(days=1)
    assert missing_checks_sweep(day=yesterday) == 1
    assert _open("quarantine.missing_check", order)
    daily_check_record(actor=admin_user, order=order, temperature="36.6", symptoms=[], day=yesterday)
    item = WorkItem.objects.get(kind="quarantine.missing_check", subject_id=str(order.pk))
    assert item.status == "done" and work_check() == []
    # an older database: the check came in without ending the item; check-work finds and ends it
    from fangkong.quarantine.models import DailyCheck

    before = yesterday - timedelta(days=1)
    assert missing_checks_sweep(day=before) == 1
    DailyCheck.objects.create(order=order, date=before, temperature="36.5", source="staff")
    found = work_check()
    assert [(f.kind, f.event) for f in found] == [("quarantine.missing_check", "check.recorded")]
    work_fix(actor=None, findings=found)
    assert work_check() == []
