"""The demo's location data speaks of the register's people and is written once per choice; the
demo epidemiologist's suspected cases are traced in it once."""

from __future__ import annotations

from datetime import timedelta

import pyarrow.compute as pc
import pyarrow.dataset as ds
import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from fangkong.contacts.models import CompanionTest, Contact
from fangkong.demo.load import demo_load
from fangkong.demo.mobility_demo import discovery_demo_run, mobility_demo_load
from fangkong.orgs.models import Membership, OrgUnit
from fangkong.people.models import Person
from tests.cases.factories import make_case

pytestmark = pytest.mark.django_db


def test_location_data_names_register_people_and_is_written_once(settings, tmp_path):
    settings.FANGKONG_MOBILITY_DIR = tmp_path / "mobility"
    demo_load(residents=300)
    today = timezone.localdate()
    first = mobility_demo_load(seed=7, today=today, people=120, days=2)
    assert first.created and first.people == 120 and first.pings > 0
    pings = ds.dataset(tmp_path / "mobility" / "pings", format="parquet", partitioning="hive").to_table()
    ids = set(pc.unique(pings["person_id"]).to_pylist())
    assert len(ids) == 120
    assert Person.objects.filter(pk__in=ids).count() == 120
    days = set(pc.unique(pings["day"].cast("string")).to_pylist())
    assert days == {str(today - timedelta(days=1)), str(today)}
    again = mobility_demo_load(seed=7, today=today, people=120, days=2)
    assert not again.created


def test_the_demo_traces_its_suspected_cases_once(settings, tmp_path):
    settings.FANGKONG_MOBILITY_DIR = tmp_path / "mobility"
    demo_load(residents=300)
    epidemiologist = get_user_model().objects.get(username="epidemiologist")
    area = Membership.objects.get(user=epidemiologist).org_unit
    grid = OrgUnit.objects.filter(level="grid", path__startswith=area.path).order_by("path").first()
    case = make_case(actor=epidemiologist, grid=grid, classification="suspected", hours_ago=1)
    today = timezone.localdate()
    mobility_demo_load(seed=7, today=today, people=300, days=2)

    (run,) = discovery_demo_run(today=today)
    assert (run.case_id, run.status, run.created_by_id) == (case.pk, "succeeded", epidemiologist.pk)
    written = Contact.objects.filter(source_case=case, discovered_by__in=["venue", "colocation"])
    assert run.proposed + run.companions == run.people_found - run.already_contacts - run.unknown_people > 0
    assert written.filter(kind="close", status="proposed").count() == run.proposed
    assert written.filter(kind="companion", status="confirmed").count() == run.companions
    assert CompanionTest.objects.filter(contact__source_case=case).count() == 2 * run.companions
    assert discovery_demo_run(today=today) == []
