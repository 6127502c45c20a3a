from datetime import timedelta

import pytest
from django.utils import timezone

from fangkong.cases.investigations import (
    ItineraryData,
    investigation_complete,
    investigation_start,
    itinerary_add,
    itinerary_remove,
    parse_local_time,
)
from fangkong.cases.models import ItineraryEntry
from fangkong.common.errors import Conflict, Invalid
from fangkong.worklist.models import WorkItem
from tests.cases.factories import make_case

pytestmark = pytest.mark.django_db


def test_times_are_typed_as_on_the_phone_in_local_time():
    at = parse_local_time("2022-05-03 14:30", field="start")
    assert (at.isoformat()) == "2022-05-03T14:30:00+08:00"
    assert parse_local_time(" 2022-05-03T09:05 ", field="start").hour == 9
    with pytest.raises(Invalid) as error:
        parse_local_time("3/5 14:30", field="start")
    assert list(error.value.errors) == ["start"]


def test_three_stop_itinerary(tree, epidemiologist):
    case = make_case(actor=epidemiologist, grid=tree.grid_a)
    inv = case.investigation
    investigation_start(actor=epidemiologist, investigation=inv)
    rows = [
        ItineraryData(
            start="2022-05-01 08:00",
            end="2022-05-01 08:40",
            place="地铁1号线",
            transport_number="g1234",
            seat="5a",
        ),
        ItineraryData(
            start="2022-05-01 12:00",
            end="2022-05-01 13:00",
            place="湖贝美食城",
            publish=True,
            longitude="114.123456",
            latitude="22.543210",
        ),
        ItineraryData(start="2022-05-01 19:00", place="家", org_unit_id=tree.grid_a.pk),
    ]
    for row in rows:
        itinerary_add(actor=epidemiologist, investigation=inv, data=row)
    entries = list(inv.itinerary.all())
    assert [e.place for e in entries] == ["地铁1号线", "湖贝美食城", "家"]
    assert (entries[0].transport_number, entries[0].seat) == ("G1234", "5A")
    assert entries[1].publish and str(entries[1].latitude) == "22.543210"


def test_a_bad_row_names_every_field(tree, epidemiologist):
    case = make_case(actor=epidemiologist, grid=tree.grid_a)
    data = ItineraryData(
        start="2022-05-01 12:00", end="2022-05-01 11:00", place=" ", longitude="200", latitude=""
    )
    with pytest.raises(Invalid) as error:
        itinerary_add(actor=epidemiologist, investigation=case.investigation, data=data)
    assert set(error.value.errors) == {"end", "place", "longitude"}
    assert ItineraryEntry.objects.count() == 0


def test_completing_closes_the_investigate_work_item(tree, epidemiologist):
    case = make_case(actor=epidemiologist, grid=tree.grid_a)
    at = timezone.now() - timedelta(minutes=5)
    investigation_complete(actor=epidemiologist, investigation=case.investigation, summary="已完成", at=at)
    item = WorkItem.objects.get(kind="case.investigate", subject_id=str(case.pk))
    assert (item.status, item.done_at) == ("done", at)
    assert case.investigation.started_at == at
    with pytest.raises(Conflict):
        investigation_complete(actor=epidemiologist, investigation=case.investigation)


def test_removing_a_row_is_audited(tree, epidemiologist):
    case = make_case(actor=epidemiologist, grid=tree.grid_a)
    entry = itinerary_add(
        actor=epidemiologist,
        investigation=case.investigation,
        data=ItineraryData(start="2022-05-01 08:00", place="超市"),
    )
    itinerary_remove(actor=epidemiologist, entry=entry)
    from fangkong.audit.models import AuditEvent

    assert AuditEvent.objects.get(action="cases.itinerary.remove").before["place"] == "超市"
