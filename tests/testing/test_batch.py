"""Tubes recorded as a set follow the scan's rules with a constant number of queries: each bad
tube is refused with its key and reason, the others written with their members and audit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fangkong.audit.models import AuditEvent
from fangkong.testing.batch import TubeScans, tubes_record
from fangkong.testing.codes import person_code
from fangkong.testing.models import Tube, TubeMember
from fangkong.testing.services import may_sample, tube_open, tube_scan
from tests.people.factories import make_person
from tests.testing.conftest import barcode

pytestmark = pytest.mark.django_db


def test_bad_tubes_are_refused_by_key_and_the_rest_written(mass):
    at = timezone.now() - timedelta(minutes=5)
    ids = [p.pk for p in mass.people]
    taken = tube_open(actor=mass.collector, round=mass.round, site=mass.site, barcode=barcode(99))
    tube_scan(actor=mass.collector, tube_id=taken.pk, code=person_code(mass.people[11]))
    tubes = [
        TubeScans(1, barcode(1), ids[:5], at),
        TubeScans(2, barcode(1), ids[5:7], at),  # the same barcode twice
        TubeScans(3, barcode(3), ids[:1], at),  # sampled in tube 1 of the set
        TubeScans(4, barcode(4), ids[5:11] + [ids[0]] * 0 + [999999], at),  # unknown person
        TubeScans(5, barcode(99), ids[7:8], at),  # barcode used at the site
        TubeScans(6, "bad", ids[7:8], at),
        TubeScans(7, barcode(7), ids[11:12], at),  # sampled by scan already
        TubeScans(8, barcode(8), ids[5:10] * 3, at),  # over the tube size and twice
        TubeScans(9, barcode(9), ids[5:10], at),
    ]
    out = tubes_record(actor=mass.collector, round=mass.round, site=mass.site, tubes=tubes)
    assert sorted(t.barcode for t in out.tubes) == [barcode(1), barcode(9)] and out.people == 10
    assert [key for key, _f, _m in sorted(out.refused)] == [2, 3, 4, 5, 6, 7, 8]
    assert TubeMember.objects.filter(tube__barcode=barcode(9)).count() == 5
    assert Tube.objects.get(barcode=barcode(1)).status == "closed"
    assert AuditEvent.objects.filter(action="testing.tube.record").count() == 2


def test_the_queries_do_not_grow_with_the_tubes(mass, admin_user, tree):
    people = [make_person(actor=admin_user, grid=tree.grid_a, name=f"赵{n}", room=str(n)) for n in range(60)]
    at = timezone.now() - timedelta(minutes=5)
    may_sample(mass.collector, mass.site)  # the actor's roles are read once, then kept
    counts = []
    for start, size in ((0, 2), (20, 4)):
        chunk = people[start : start + size * 10]
        tubes = [
            TubeScans(n, barcode(100 + start + n), [p.pk for p in chunk[n * 10 : n * 10 + 10]], at)
            for n in range(size)
        ]
        with CaptureQueriesContext(connection) as queries:
            out = tubes_record(actor=mass.collector, round=mass.round, site=mass.site, tubes=tubes)
        assert len(out.tubes) == size
        counts.append(len(queries))
    assert counts[0] == counts[1]
