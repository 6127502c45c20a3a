"""One implementation of the rules: the same outbreak built one by one and in one batch gives the
same rows, and a batch costs the same number of queries whatever its size."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fangkong.audit.models import AuditEvent
from fangkong.contacts.batch import Exposure, contacts_confirm, contacts_register
from fangkong.contacts.models import Contact
from fangkong.contacts.services import contact_confirm, contact_propose, contact_register
from fangkong.quarantine.models import QuarantineOrder, TestAppointment
from fangkong.worklist.models import WorkItem
from tests.cases.factories import make_case
from tests.people.factories import make_person

pytestmark = pytest.mark.django_db


def _outbreak(tree, epi) -> dict[str, Any]:
    """A case, 12 people to register (each with a household member at home, one of them already
    in quarantine as another case's contact, one who lives alone), and 6 people found by a
    discovery (proposals) — the same for both builds."""
    onset = timezone.localdate() - timedelta(days=3)
    case = make_case(actor=epi, grid=tree.grid_a, hours_ago=1, onset_date=onset)
    earlier = make_case(actor=epi, grid=tree.grid_a, hours_ago=30, onset_date=onset)
    people = [make_person(actor=epi, grid=tree.grid_b, room=f"{i + 1}01") for i in range(12)]
    for i in range(11):  # a household member of each, not themselves registered
        make_person(actor=epi, grid=tree.grid_b, room=f"{i + 1}01")
    found = [make_person(actor=epi, grid=tree.grid_a, building="", unit="", room="") for _ in range(6)]
    now = timezone.now()
    contact_register(
        actor=epi,
        case=earlier,
        person=people[0],
        exposure_type="social",
        first_exposure=now - timedelta(days=2, hours=1),
        last_exposure=now - timedelta(days=2),
        at=now - timedelta(days=1),
    )
    proposals = [
        contact_propose(
            case=case,
            person=p,
            kind="close",
            exposure_type="colocation",
            first_exposure=now - timedelta(hours=9),
            last_exposure=now - timedelta(hours=8, minutes=30),
            discovered_by="colocation",
        )
        for p in found
    ]
    last = now - timedelta(hours=6)
    exposures = [
        Exposure(
            person=p,
            exposure_type="social",
            first=last - timedelta(hours=i % 3 + 1),
            last=last - timedelta(minutes=i),
        )
        for i, p in enumerate(people)
    ]
    return {"case": case, "exposures": exposures, "proposals": [p.pk for p in proposals if p], "at": now}


def _rows(case) -> dict[str, list[tuple[Any, ...]]]:
    """Every row the decisions wrote, without ids or timestamps (people named by their number)."""
    orders = {o.pk: (o.person_id, o.kind) for o in QuarantineOrder.objects.all()}
    return {
        "contacts": sorted(
            Contact.objects.filter(source_case=case).values_list(
                "person_id",
                "kind",
                "status",
                "exposure_type",
                "first_exposure",
                "last_exposure",
                "discovered_by",
                "decided_at",
                "controlled_at",
                "via_contact__person_id",
                "org_unit_id",
            )
        ),
        "orders": sorted(
            (p, k, s, d, e, le, orders.get(f))
            for p, k, s, d, e, le, f in QuarantineOrder.objects.values_list(
                "person_id", "kind", "status", "day_one", "planned_end", "last_exposure", "follows_id"
            )
        ),
        "tests": sorted(
            (orders[o], day, date, result)
            for o, day, date, result in TestAppointment.objects.values_list(
                "order_id", "day", "date", "result"
            )
        ),
        "items": sorted(
            (kind, title, unit, due, status, orders.get(int(sid)) if stype.endswith("order") else sid)
            for kind, title, unit, due, status, stype, sid in WorkItem.objects.values_list(
                "kind", "title", "org_unit_id", "due_at", "status", "subject_type", "subject_id"
            )
            if stype.endswith("order")
        ),
        "audit": sorted(AuditEvent.objects.values_list("action", "target_type", "org_unit_id")),
        "case": [
            tuple(
                type(case)
                .objects.filter(pk=case.pk)
                .values_list("contacts_controlled_at", "contacts_identified_at")[0]
            )
        ],
    }


def test_one_by_one_and_one_batch_write_the_same_rows(tree, epidemiologist):
    scene = _outbreak(tree, epidemiologist)
    case, at = scene["case"], scene["at"]
    with transaction.atomic():
        for e in scene["exposures"]:
            contact_register(
                actor=epidemiologist,
                case=case,
                person=e.person,
                exposure_type=e.exposure_type,
                first_exposure=e.first,
                last_exposure=e.last,
                at=at,
            )
        for pk in scene["proposals"]:
            contact_confirm(actor=epidemiologist, contact=Contact.objects.get(pk=pk), at=at)
        one_by_one = _rows(case)
        transaction.set_rollback(True)
    with transaction.atomic():
        done = contacts_register(actor=epidemiologist, case=case, exposures=scene["exposures"], at=at)
        confirmed = contacts_confirm(actor=epidemiologist, case=case, contact_ids=scene["proposals"], at=at)
        batch = _rows(case)
        transaction.set_rollback(True)
    assert not done.refused and not confirmed.refused
    assert len(batch["contacts"]) == 12 + 6 + 11  # with the 11 household members proposed
    assert len(batch["orders"]) > 30 and len(batch["items"]) > 100
    for table in one_by_one:
        assert one_by_one[table] == batch[table], table


def _register_queries(tree, epidemiologist, size: int) -> list[str]:
    case = make_case(
        actor=epidemiologist,
        grid=tree.grid_a,
        hours_ago=1,
        onset_date=timezone.localdate() - timedelta(days=3),
    )
    people = [
        make_person(actor=epidemiologist, grid=tree.grid_b, room=f"{size}{i + 1}01") for i in range(size)
    ]
    last = timezone.now() - timedelta(hours=6)
    exposures = [
        Exposure(person=p, exposure_type="social", first=last - timedelta(hours=1), last=last) for p in people
    ]
    with CaptureQueriesContext(connection) as queries:
        outcome = contacts_register(actor=epidemiologist, case=case, exposures=exposures)
    assert len(outcome.done) == size
    return [q["sql"].split(" times: ")[-1] for q in queries.captured_queries]  # executemany: "N times: …"


def test_a_batch_costs_a_constant_number_of_queries(tree, epidemiologist):
    """5 contacts or 60: the same reads, locks and updates; the inserts are bulk, split only
    where the database limits the parameters of one statement (SQLite: about 80 rows)."""
    small = _register_queries(tree, epidemiologist, 5)
    large = _register_queries(tree, epidemiologist, 60)

    def others(queries: list[str]) -> list[str]:
        return [q.split(" WHERE ")[0] for q in queries if not q.startswith("INSERT")]

    assert len(others(large)) == len(others(small)), "\n".join(q[:120] for q in large)
    inserts = [q for q in large if q.startswith("INSERT")]
    assert len(inserts) <= 3 * len([q for q in small if q.startswith("INSERT")]), len(inserts)
