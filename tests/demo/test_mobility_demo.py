"""The demo's location data speaks of the register's people and is written once per choice."""

from __future__ import annotations

from datetime import timedelta

import pyarrow.compute as pc
import pyarrow.dataset as ds
import pytest
from django.utils import timezone

from fangkong.demo.load import demo_load
from fangkong.demo.mobility_demo import mobility_demo_load
from fangkong.people.models import Person

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
