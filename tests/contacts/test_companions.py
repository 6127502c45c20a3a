"""Spatiotemporal companions: written by a discovery in bulk with their tests and a text, a missed
test makes one work item for the grid, a test taken ends it, a positive one makes a case, a close
proposal or a case ends the follow-up, and ``check-work`` knows the rules."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from django.utils import timezone

from fangkong.cases.models import Case
from fangkong.contacts.companions import (
    ENDED,
    KIND,
    TestTaken,
    companion_tests_missed,
    companion_tests_record,
)
from fangkong.contacts.discovery.data import colocation_params
from fangkong.contacts.discovery.runs import _proposals_write
from fangkong.contacts.models import CompanionTest, Contact, DiscoveryRun
from fangkong.contacts.services import contact_register
from fangkong.contacts.work import companion_work_check
from fangkong.engine.matching import RawPairs, finish, micros
from fangkong.notify.backends import locmem
from fangkong.notify.models import OutboxMessage
from fangkong.worklist.kinds import Event
from fangkong.worklist.lifecycle import MISSING, STALE
from fangkong.worklist.models import WorkItem
from tests.cases.factories import make_case
from tests.orgs.factories import user_with_role
from tests.people.factories import make_person

pytestmark = pytest.mark.django_db

Row = tuple[int, str, datetime, datetime]  # person, 'venue' or 'cell', overlap start, end


@pytest.fixture(autouse=True)
def sms_locmem(settings: Any) -> None:
    settings.FANGKONG_SMS_BACKEND = "fangkong.notify.backends.locmem.LocmemBackend"
    locmem.outbox.clear()


def morning(days: int, hour: int = 9) -> datetime:
    """``hour``:00 local, ``days`` days from today."""
    return timezone.localtime().replace(hour=hour, minute=0, second=0, microsecond=0) + timedelta(days=days)


def discover(case: Case, actor: Any, rows: list[Row], tmp_path: Path) -> DiscoveryRun:
    """Write what a run found (a crafted match result) as the worker does at its end."""
    now = timezone.now()
    run = DiscoveryRun.objects.create(
        case=case, created_by=actor, range_start=now - timedelta(days=5), range_end=now, backend="duckdb"
    )
    result = finish(
        pairs=RawPairs(
            person_id=pa.array([r[0] for r in rows], pa.int64()),
            case_id=pa.array([case.person_id] * len(rows), pa.int64()),
            where_kind=pa.array([r[1] for r in rows], pa.string()),
            where_id=pa.array([7] * len(rows), pa.int64()),
            overlap_start_us=pa.array([micros(r[2]) for r in rows], pa.int64()),
            overlap_end_us=pa.array([micros(r[3]) for r in rows], pa.int64()),
        ),
        cases_without_data=[],
    )
    return _proposals_write(run=run, result=result, dataset=tmp_path, params=colocation_params())


def crowd(actor: Any, grid: Any, n: int, *, kind: str) -> list[Row]:
    """``n`` people, each with one overlap yesterday: a 20-minute shared restaurant visit
    ('venue', proposed) or 30 minutes in the same cell ('cell', a companion)."""
    start = morning(-1, 12)
    return [
        (make_person(actor=actor, grid=grid, room=f"{i}").pk, kind, start, start + timedelta(minutes=30))
        for i in range(n)
    ]


@pytest.fixture
def case(tree, epidemiologist) -> Case:
    return make_case(
        actor=epidemiologist, grid=tree.grid_b, classification="confirmed", onset_date=timezone.localdate()
    )


def companion_of(case: Case, epidemiologist: Any, tree: Any, tmp_path: Path) -> Contact:
    (row,) = crowd(epidemiologist, tree.grid_a, 1, kind="cell")
    discover(case, epidemiologist, [row], tmp_path)
    return Contact.objects.get(person_id=row[0], kind="companion")


def test_the_write_is_bulk_whatever_the_number_of_people(
    case, epidemiologist, tree, tmp_path, django_assert_max_num_queries
):
    for n in (2, 25):
        rows = crowd(epidemiologist, tree.grid_a, n, kind="venue") + crowd(
            epidemiologist, tree.grid_a, n, kind="cell"
        )
        with django_assert_max_num_queries(30):
            run = discover(case, epidemiologist, rows, tmp_path)
        assert (run.proposed, run.companions, run.status) == (n, n, "succeeded")


def test_companions_get_their_tests_and_a_text_proposals_neither(case, epidemiologist, tree, tmp_path):
    rows = crowd(epidemiologist, tree.grid_a, 2, kind="cell") + crowd(
        epidemiologist, tree.grid_a, 1, kind="venue"
    )
    discover(case, epidemiologist, rows, tmp_path)
    companions = Contact.objects.filter(source_case=case, kind="companion")
    assert companions.count() == 2 and {c.status for c in companions} == {"confirmed"}
    tomorrow = timezone.localdate() + timedelta(days=1)
    assert set(CompanionTest.objects.values_list("number", "due_on")) == {
        (1, tomorrow),
        (2, tomorrow + timedelta(days=2)),
    }
    assert CompanionTest.objects.count() == 4
    texts = OutboxMessage.objects.filter(template="companion_notice")
    assert {m.person_id for m in texts} == {c.person_id for c in companions}
    message = texts.first()
    assert message is not None and message.status == "queued"
    assert message.params == {"days": "3", "tests": "2", "link": "http://127.0.0.1:8000/portal/help/"}
    assert "3天内完成2次核酸检测" in message.body
    proposal = Contact.objects.get(source_case=case, kind="close")
    assert (proposal.status, proposal.companion_tests.count()) == ("proposed", 0)


def test_a_person_already_followed_gets_no_second_series_nor_text(case, epidemiologist, tree, tmp_path):
    companion = companion_of(case, epidemiologist, tree, tmp_path)
    other = make_case(actor=epidemiologist, grid=tree.grid_b, classification="confirmed")
    start = morning(-1, 15)
    discover(
        other, epidemiologist, [(companion.person_id, "cell", start, start + timedelta(minutes=20))], tmp_path
    )
    assert Contact.objects.filter(person_id=companion.person_id, kind="companion").count() == 2
    assert CompanionTest.objects.filter(contact__person_id=companion.person_id).count() == 2
    assert OutboxMessage.objects.filter(person_id=companion.person_id).count() == 1


def test_a_missed_test_makes_one_item_for_the_grid_and_the_test_taken_ends_it(
    case, epidemiologist, grid_worker, tree, tmp_path
):
    companion = companion_of(case, epidemiologist, tree, tmp_path)
    assert companion_tests_missed(now=morning(2, 7)) == 0  # day 1's test is missed from 08:00 on day 2
    assert companion_tests_missed(now=morning(2)) == 1
    assert companion_tests_missed(now=morning(2, 10)) == 0  # once
    item = WorkItem.objects.get(kind=KIND)
    assert (item.org_unit_id, item.subject_id, item.status) == (tree.grid_a.pk, str(companion.pk), "open")
    assert item.due_at == morning(2) + timedelta(hours=2)
    assert "王*明" in item.title and "王小明" not in item.title
    assert companion_work_check() == []

    taken = timezone.now()
    outcome = companion_tests_record(
        actor=grid_worker,
        results=[TestTaken(contact_id=companion.pk, number=1, tested_at=taken, result="negative")],
    )
    assert (len(outcome.recorded), outcome.cases, outcome.refused) == (1, 0, [])
    item.refresh_from_db()
    assert item.status == "done"
    assert CompanionTest.objects.get(contact=companion, number=1).tested_at == taken
    # day 3's test missed too: a new item, for that test
    assert companion_tests_missed(now=morning(4)) == 1
    assert (
        WorkItem.objects.filter(kind=KIND, status="open").get().note
        == (timezone.localdate() + timedelta(days=3)).isoformat()
    )


def test_recording_refuses_what_it_cannot_take(case, epidemiologist, tree, tmp_path):
    companion = companion_of(case, epidemiologist, tree, tmp_path)
    stranger = user_with_role("grid_worker", tree.grid_far)
    now = timezone.now()
    test = TestTaken(contact_id=companion.pk, number=1, tested_at=now, result="negative")
    assert len(companion_tests_record(actor=stranger, results=[test]).refused) == 1
    assert len(companion_tests_record(actor=None, results=[test]).recorded) == 1
    again = companion_tests_record(actor=None, results=[test, TestTaken(companion.pk, 9, now, "negative")])
    assert (len(again.recorded), [taken.number for taken, _why in again.refused]) == (0, [1, 9])
    assert again.refused[0][1] != again.refused[1][1]  # each says why


def test_a_positive_test_registers_a_suspected_case_and_ends_the_follow_up(
    case, epidemiologist, tree, tmp_path
):
    companion = companion_of(case, epidemiologist, tree, tmp_path)
    companion_tests_missed(now=morning(2))
    outcome = companion_tests_record(
        actor=None,
        results=[TestTaken(contact_id=companion.pk, number=2, tested_at=timezone.now(), result="positive")],
    )
    assert outcome.cases == 1
    new_case = Case.objects.get(person_id=companion.person_id)
    assert new_case.classification == "suspected"
    companion.refresh_from_db()
    assert companion.became_case_id == new_case.pk
    assert CompanionTest.objects.get(contact=companion, number=1).result == ENDED
    assert WorkItem.objects.get(kind=KIND).status == "done"  # the test came in
    assert companion_tests_missed(now=morning(4)) == 0


def test_a_close_proposal_in_another_discovery_ends_the_companion_follow_up(
    case, epidemiologist, tree, tmp_path
):
    companion = companion_of(case, epidemiologist, tree, tmp_path)
    companion_tests_missed(now=morning(2))
    other = make_case(actor=epidemiologist, grid=tree.grid_b, classification="confirmed")
    start = morning(-1, 19)
    discover(
        other,
        epidemiologist,
        [(companion.person_id, "venue", start, start + timedelta(minutes=40))],
        tmp_path,
    )
    assert Contact.objects.get(source_case=other, person_id=companion.person_id).status == "proposed"
    item = WorkItem.objects.get(kind=KIND)
    assert item.status == "cancelled"
    assert set(CompanionTest.objects.filter(contact=companion).values_list("result", flat=True)) == {ENDED}
    assert companion_tests_missed(now=morning(4)) == 0


def test_check_work_finds_stale_and_missing_companion_items(case, epidemiologist, tree, tmp_path):
    companion = companion_of(case, epidemiologist, tree, tmp_path)
    companion_tests_missed(now=morning(2))
    item = WorkItem.objects.get(kind=KIND)
    CompanionTest.objects.filter(contact=companion, number=1).update(
        tested_at=timezone.now(), result="negative"
    )
    (finding,) = companion_work_check()
    assert (finding.problem, finding.item_id, finding.event) == (STALE, item.pk, Event.COMPANION_TESTED)

    CompanionTest.objects.filter(contact=companion, number=1).update(tested_at=None, result="")
    Contact.objects.filter(pk=companion.pk).update(status="dismissed")
    (finding,) = companion_work_check()
    assert (finding.problem, finding.event) == (STALE, Event.COMPANION_ENDED)

    Contact.objects.filter(pk=companion.pk).update(status="confirmed")
    WorkItem.objects.filter(pk=item.pk).delete()
    CompanionTest.objects.filter(contact=companion).update(due_on=timezone.localdate() - timedelta(days=2))
    (finding,) = companion_work_check()
    assert (finding.problem, finding.subject_id) == (MISSING, str(companion.pk))
    assert finding.repair is not None
    finding.repair()
    assert WorkItem.objects.filter(kind=KIND, status="open").count() == 1
    assert companion_work_check() == []


def test_a_companion_registered_by_hand_as_close_contact_is_followed_no_more(
    case, epidemiologist, tree, tmp_path
):
    companion = companion_of(case, epidemiologist, tree, tmp_path)
    companion_tests_missed(now=morning(2))
    last = timezone.now() - timedelta(hours=3)
    contact = contact_register(
        actor=epidemiologist,
        case=case,
        person=companion.person,
        exposure_type="social",
        first_exposure=last - timedelta(hours=1),
        last_exposure=last,
    )
    assert contact.kind == "close" and contact.status == "confirmed"
    assert WorkItem.objects.get(kind=KIND).status == "cancelled"
    assert set(CompanionTest.objects.filter(contact=companion).values_list("result", flat=True)) == {ENDED}
