"""People under quarantine in mass testing: never pooled, sampled alone, and the single tube's
result is their order's test of the day (the same tube, the same result path)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from fangkong.cases.models import Case
from fangkong.common.errors import Conflict
from fangkong.quarantine.models import QuarantineOrder
from fangkong.quarantine.models import TestAppointment as Appointment
from fangkong.testing.batch import TubeScans, tubes_record
from fangkong.testing.codes import person_code
from fangkong.testing.models import TubeMember
from fangkong.testing.results import tube_results_record
from fangkong.testing.services import tube_close, tube_open, tube_scan
from fangkong.worklist.models import WorkItem
from tests.quarantine.test_lab import make_order
from tests.testing.conftest import barcode
from tests.testing.test_results import row

pytestmark = pytest.mark.django_db


def _isolated(mass, tree, admin_user, n: int) -> QuarantineOrder:
    return make_order(actor=admin_user, grid=tree.grid_a, name=f"隔离{n:02d}号", room=f"9{n}")


def _single(mass, n: int, person) -> object:
    tube = tube_open(
        actor=mass.collector, round=mass.round, site=mass.site, barcode=barcode(n), kind="single"
    )
    tube_scan(actor=mass.collector, tube_id=tube.pk, code=person_code(person))
    return tube_close(actor=mass.collector, tube=tube)


def test_a_person_under_quarantine_is_never_pooled_but_sampled_alone(mass, tree, admin_user):
    order = _isolated(mass, tree, admin_user, 1)
    pool = tube_open(actor=mass.collector, round=mass.round, site=mass.site, barcode=barcode(1))
    tube_scan(actor=mass.collector, tube_id=pool.pk, code=person_code(mass.people[0]))
    with pytest.raises(Conflict, match="隔离"):
        tube_scan(actor=mass.collector, tube_id=pool.pk, code=person_code(order.person))
    single = _single(mass, 2, order.person)
    assert TubeMember.objects.get(tube=single).person == order.person
    at = timezone.now() - timedelta(minutes=10)
    uploaded = tubes_record(
        actor=mass.collector,
        round=mass.round,
        site=mass.site,
        tubes=[
            TubeScans(1, barcode(3), [mass.people[1].pk, _isolated(mass, tree, admin_user, 2).person.pk], at)
        ],
    )
    assert not uploaded.tubes and "隔离" in uploaded.refused[0][2]
    alone = tubes_record(
        actor=mass.collector,
        round=mass.round,
        site=mass.site,
        tubes=[TubeScans(1, barcode(4), [mass.people[1].pk], at)],
        kind="single",
    )
    assert [(t.kind, t.capacity, t.members_count) for t in alone.tubes] == [("single", 1, 1)]


def test_a_negative_single_tube_is_the_orders_test_of_the_day(mass, tree, admin_user):
    order = _isolated(mass, tree, admin_user, 1)
    other = _isolated(mass, tree, admin_user, 2)  # sampled by the quarantine team: untouched here
    single = _single(mass, 1, order.person)
    out = tube_results_record(actor=mass.lab, rows=[row(1, single.barcode, "negative")])
    assert out.recorded == 1
    today = Appointment.objects.get(order=order, date=timezone.localdate())
    assert (today.result, today.result_at) == (
        "negative",
        single.__class__.objects.get(pk=single.pk).result_at,
    )
    assert (
        WorkItem.objects.filter(subject_id=str(order.pk), kind="quarantine.sample", status="done").count()
        == 1
    )
    assert Appointment.objects.get(order=other, date=timezone.localdate()).result == "pending"
    assert Appointment.objects.filter(order=order, result="pending").count() == 4  # the later days wait
    again = tube_results_record(actor=mass.lab, rows=[row(1, single.barcode, "negative")])
    assert (again.recorded, again.unchanged) == (0, 1)


def test_a_positive_single_tube_records_the_test_registers_the_case_and_converts_the_order(
    mass, tree, admin_user
):
    order = _isolated(mass, tree, admin_user, 1)
    single = _single(mass, 1, order.person)
    out = tube_results_record(actor=mass.lab, rows=[row(1, single.barcode, "positive", ct_orf=27.5)])
    (number,) = out.cases
    case = Case.objects.get(number=number)
    assert (case.person, case.classification) == (order.person, "suspected")
    assert Appointment.objects.get(order=order, date=timezone.localdate()).result == "positive"
    order.refresh_from_db()
    assert (order.status, order.converted_case) == ("converted", case)
