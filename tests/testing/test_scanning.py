"""Scanning people into tubes: the round's tube size for the site's area, one swab per person per
round, full and closed tubes refuse, a barcode is used once and must be the lab's format, the
核酸码 names a person without personal data, boxes take closed tubes only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import signing
from django.utils import timezone

from fangkong.audit.models import AuditEvent
from fangkong.common.errors import Conflict, Forbidden, Invalid, NotFound
from fangkong.people.crypto import decrypt
from fangkong.testing import services
from fangkong.testing.boxes import box_pack, box_receive
from fangkong.testing.codes import person_code, person_from_code
from fangkong.testing.models import Tube, TubeMember
from fangkong.testing.services import round_create, tube_close, tube_open, tube_scan
from tests.orgs.factories import user_with_role
from tests.testing.conftest import barcode

pytestmark = pytest.mark.django_db


def test_a_tube_of_the_controlled_community_takes_ten_people_then_refuses(mass):
    tube = tube_open(actor=mass.collector, round=mass.round, site=mass.site, barcode=barcode(1))
    assert (tube.capacity, tube.kind, tube.status) == (10, "pool", "open")
    for n, person in enumerate(mass.people[:10], 1):
        code = person_code(person) if n % 2 else decrypt(person.id_number_cipher)
        scanned = tube_scan(actor=mass.collector, tube_id=tube.pk, code=code)
        assert (scanned.count, scanned.masked_name) == (n, "李**号")
    assert scanned.full
    with pytest.raises(Conflict, match="已满"):
        tube_scan(actor=mass.collector, tube_id=tube.pk, code=person_code(mass.people[10]))
    assert AuditEvent.objects.filter(action="testing.tube.scan").count() == 10


def test_a_person_gives_one_swab_per_round_and_a_closed_tube_takes_nobody(mass):
    first = tube_open(actor=mass.collector, round=mass.round, site=mass.site, barcode=barcode(1))
    second = tube_open(actor=mass.collector, round=mass.round, site=mass.site, barcode=barcode(2))
    tube_scan(actor=mass.collector, tube_id=first.pk, code=person_code(mass.people[0]))
    with pytest.raises(Conflict, match=barcode(1)):
        tube_scan(actor=mass.collector, tube_id=second.pk, code=person_code(mass.people[0]))
    tube_close(actor=mass.collector, tube=first)
    with pytest.raises(Conflict, match="已封管"):
        tube_scan(actor=mass.collector, tube_id=first.pk, code=person_code(mass.people[1]))
    with pytest.raises(Conflict, match="为空"):
        tube_close(actor=mass.collector, tube=second)


def test_barcodes_are_of_the_labs_format_and_used_once(mass, tree):
    for bad in ("12", "ABC-123", "x" * 40, "２０２６", "\x00" * 12):
        with pytest.raises(Invalid) as error:
            tube_open(actor=mass.collector, round=mass.round, site=mass.site, barcode=bad)
        assert "barcode" in error.value.errors
    tube_open(actor=mass.collector, round=mass.round, site=mass.site, barcode=barcode(5))
    with pytest.raises(Conflict, match="已在"):
        tube_open(actor=mass.collector, round=mass.round, site=mass.site, barcode=barcode(5))
    stranger = user_with_role("sampler", tree.grid_far, username="far.sampler")
    with pytest.raises(Forbidden):
        tube_open(actor=stranger, round=mass.round, site=mass.site, barcode=barcode(6))


def test_the_code_names_the_person_and_nothing_else(mass, settings):
    person = mass.people[0]
    code = person_code(person)
    assert person.name not in code and decrypt(person.id_number_cipher) not in code
    assert person_from_code(code) == person
    assert person_from_code(code[:-1] + ("A" if code[-1] != "A" else "B")) is None
    assert person_from_code("FK" + signing.TimestampSigner(salt="other").sign("1")) is None
    assert person_from_code("nonsense\x00") is None
    with pytest.raises(Invalid) as unknown:
        tube = tube_open(actor=mass.collector, round=mass.round, site=mass.site, barcode=barcode(1))
        tube_scan(actor=mass.collector, tube_id=tube.pk, code="110101199003077777")
    assert "code" in unknown.value.errors


def test_a_round_not_under_way_opens_no_pooled_tube(mass):
    mass.round.ends_at = timezone.now() - timedelta(minutes=1)
    mass.round.save()
    with pytest.raises(Conflict, match="不在进行中"):
        tube_open(actor=mass.collector, round=mass.round, site=mass.site, barcode=barcode(1))


def test_boxes_take_closed_tubes_of_the_site_and_the_lab_receives_them(mass):
    closed = tube_open(actor=mass.collector, round=mass.round, site=mass.site, barcode=barcode(1))
    tube_scan(actor=mass.collector, tube_id=closed.pk, code=person_code(mass.people[0]))
    tube_close(actor=mass.collector, tube=closed)
    still_open = tube_open(actor=mass.collector, round=mass.round, site=mass.site, barcode=barcode(2))
    with pytest.raises(Invalid, match=barcode(2)):
        box_pack(
            actor=mass.collector,
            site=mass.site,
            round=mass.round,
            code="BOX1",
            barcodes=[barcode(1), barcode(2)],
        )
    assert Tube.objects.get(pk=still_open.pk).box is None and Tube.objects.get(pk=closed.pk).box is None
    box = box_pack(actor=mass.collector, site=mass.site, round=mass.round, code="box1", barcodes=[barcode(1)])
    assert (box.code, Tube.objects.get(pk=closed.pk).status) == ("BOX1", "packed")
    box_receive(actor=mass.lab, code="BOX1")
    assert Tube.objects.get(pk=closed.pk).status == "received"
    with pytest.raises(Conflict):
        box_receive(actor=mass.lab, code="BOX1")


def test_a_sealed_areas_tube_holds_one_household_decided_when_it_opens(mass, tree):
    sealed = round_create(
        actor=mass.commander,
        name="封控区单户单管",
        org_unit=tree.district,
        starts_at=timezone.now() - timedelta(hours=1),
        ends_at=timezone.now() + timedelta(hours=4),
        areas=[(tree.community, "sealed")],
    )
    tube = tube_open(actor=mass.collector, round=sealed, site=mass.site, barcode=barcode(1))
    assert tube.household and tube.capacity == 20
    tube_scan(actor=mass.collector, tube_id=tube.pk, code=person_code(mass.people[0]))
    with pytest.raises(Conflict, match="一户"):
        tube_scan(actor=mass.collector, tube_id=tube.pk, code=person_code(mass.people[1]))
    assert Tube.objects.get(pk=tube.pk).members_count == 1
    assert not tube_open(actor=mass.collector, round=mass.round, site=mass.site, barcode=barcode(2)).household


def test_a_tube_filled_by_another_phone_after_it_was_read_takes_nobody_more(mass, monkeypatch):
    """The place in the tube is claimed by the write itself: a tube that was open and not full
    when read, and full when written, refuses the scan and keeps its count."""
    tube = tube_open(actor=mass.collector, round=mass.round, site=mass.site, barcode=barcode(1))
    checks = iter([lambda t: None])  # the read saw room; the write finds none
    real = services._open_and_not_full
    monkeypatch.setattr(services, "_open_and_not_full", lambda t: next(checks, real)(t))
    Tube.objects.filter(pk=tube.pk).update(members_count=tube.capacity)
    with pytest.raises(Conflict, match="已满"):
        tube_scan(actor=mass.collector, tube_id=tube.pk, code=person_code(mass.people[0]))
    assert Tube.objects.get(pk=tube.pk).members_count == tube.capacity
    assert not TubeMember.objects.filter(tube=tube).exists()


def test_a_second_swab_in_the_round_is_rolled_back_whole(mass):
    first = tube_open(actor=mass.collector, round=mass.round, site=mass.site, barcode=barcode(1))
    second = tube_open(actor=mass.collector, round=mass.round, site=mass.site, barcode=barcode(2))
    tube_scan(actor=mass.collector, tube_id=first.pk, code=person_code(mass.people[0]))
    with pytest.raises(Conflict, match=barcode(1)):
        tube_scan(actor=mass.collector, tube_id=second.pk, code=decrypt(mass.people[0].id_number_cipher))
    assert Tube.objects.get(pk=second.pk).members_count == 0  # the place claimed is given back
    assert AuditEvent.objects.filter(action="testing.tube.scan").count() == 1


def test_a_tube_out_of_scope_is_not_found_and_one_in_view_is_forbidden(mass, tree):
    tube = tube_open(actor=mass.collector, round=mass.round, site=mass.site, barcode=barcode(1))
    far = user_with_role("sampler", tree.grid_far, username="far.sampler")
    with pytest.raises(NotFound):
        tube_scan(actor=far, tube_id=tube.pk, code=person_code(mass.people[0]))
    with pytest.raises(Forbidden):
        tube_scan(actor=mass.lab, tube_id=tube.pk, code=person_code(mass.people[0]))
    with pytest.raises(NotFound):
        tube_scan(actor=mass.collector, tube_id=10**12, code=person_code(mass.people[0]))
