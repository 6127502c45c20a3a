"""The demo volunteers load through the services into the demo city."""

from __future__ import annotations

from datetime import date

import pytest

from fangkong.demo.load import demo_load
from fangkong.demo.users import FIRST_STREET_CODE
from fangkong.demo.volunteers_demo import volunteers_demo_load
from fangkong.volunteers.models import Commendation, Dispatch, Volunteer
from fangkong.volunteers.selectors import public_commendations

pytestmark = pytest.mark.django_db


def test_the_demo_volunteers_load_once():
    demo_load(residents=500)
    counts = volunteers_demo_load(today=date(2022, 5, 3))
    assert counts["created"] == 1
    in_street = Volunteer.objects.filter(org_unit__path__contains=f"/{FIRST_STREET_CODE}/")
    assert in_street.count() == 40 and Volunteer.objects.count() > 40
    assert in_street.filter(status="applied").count() == 6
    assert in_street.filter(status="approved").count() == 33
    assert Dispatch.objects.filter(status="done", hours__gt=0).exists()
    assert public_commendations().count() == Commendation.objects.count() == 3
    assert volunteers_demo_load(today=date(2022, 5, 3))["created"] == 0
