"""A contact registered by hand while a discovery writes its proposals for the same case: no
duplicate contact, no lost decision — with real threads, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.db import close_old_connections, connection
from django.utils import timezone

from fangkong.contacts.discovery import discovery_execute, discovery_start
from fangkong.contacts.models import Contact
from fangkong.contacts.services import contact_register
from fangkong.quarantine.models import QuarantineOrder
from tests.cases.factories import make_case
from tests.engine.conftest import ping, write_checkins, write_pings
from tests.people.factories import make_person

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def diners(tree, epidemiologist, tmp_path: Path, settings: Any):
    """A confirmed case who dined at venue 7 yesterday at 15:00 with four others (checked in)."""
    settings.FANGKONG_MOBILITY_DIR = tmp_path / "mobility"
    root = tmp_path / "mobility"
    case = make_case(
        actor=epidemiologist,
        grid=tree.grid_a,
        classification="confirmed",
        onset_date=timezone.localdate() - timedelta(days=1),
        hours_ago=1,
    )
    people = [
        make_person(actor=epidemiologist, grid=tree.grid_b, building="", unit="", room="") for _ in range(4)
    ]
    three = (timezone.localtime() - timedelta(days=1)).replace(hour=15, minute=0, second=0, microsecond=0)
    write_pings(root, [ping(p.pk, three, 40) for p in [case.person, *people]])
    write_checkins(
        root,
        [(case.person_id, 7, three, three + timedelta(minutes=50))]
        + [(p.pk, 7, three + timedelta(minutes=10), three + timedelta(minutes=40)) for p in people],
    )
    pq.write_table(
        pa.table({"venue_id": pa.array([7], pa.int64()), "name": ["湖贝餐厅"]}), root / "venues.parquet"
    )
    return case, people, three


def _in_threads(*jobs: Any) -> list[BaseException]:
    """Run the jobs at the same moment, each in its own thread with its own connection."""
    start, errors = threading.Barrier(len(jobs)), []

    def run(job: Any) -> None:
        try:
            start.wait()
            job()
        except BaseException as error:
            errors.append(error)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


@pytest.mark.parametrize("rounds", [3])
def test_a_hand_registration_during_a_discovery_is_one_contact_confirmed(diners, epidemiologist, rounds):
    case, people, three = diners
    for round_ in range(rounds):
        if round_:  # a new discovery of the same case, racing a new hand registration
            Contact.objects.filter(source_case=case).exclude(status="confirmed").delete()
        run = discovery_start(actor=epidemiologist, case=case, enqueue=False)
        person = people[round_]

        def by_hand(person: Any = person) -> None:
            contact_register(
                actor=epidemiologist,
                case=case,
                person=person,
                exposure_type="venue",
                first_exposure=three + timedelta(minutes=10),
                last_exposure=three + timedelta(minutes=40),
            )

        errors = _in_threads(lambda run=run: discovery_execute(run_id=run.pk), by_hand)
        assert errors == [], errors
        rows = list(Contact.objects.filter(source_case=case, person=person, kind="close"))
        assert len(rows) == 1, rows  # no duplicate
        assert rows[0].status == "confirmed"  # the hand's decision is not lost
        assert QuarantineOrder.objects.filter(person=person, status="active").count() == 1
        others = Contact.objects.filter(source_case=case, person__in=people[round_ + 1 :])
        assert others.count() == len(people) - round_ - 1  # the discovery's proposals are there
