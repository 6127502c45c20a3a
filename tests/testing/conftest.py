"""A round over the test tree's district (the community controlled: 10 in a tube), a site in the
community, a collector, a lab, and residents to sample."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from fangkong.testing.models import Round, SamplingSite
from fangkong.testing.services import SiteData, round_create, site_create
from tests.orgs.factories import user_with_role
from tests.people.factories import make_person


@dataclass
class Mass:
    round: Round
    site: SamplingSite
    collector: Any
    lab: Any
    commander: Any
    people: list[Any]


@pytest.fixture
def mass(tree, admin_user) -> Mass:
    commander = user_with_role("commander", tree.district, username="mass.commander")
    now = timezone.now()
    made = round_create(
        actor=commander,
        name="东区第1轮全员核酸",
        org_unit=tree.district,
        starts_at=now - timedelta(hours=2),
        ends_at=now + timedelta(hours=10),
        areas=[(tree.district, "elsewhere"), (tree.community, "controlled")],
    )
    site = site_create(
        actor=commander,
        community=tree.community,
        data=SiteData(
            name="湖贝广场采样点", address="湖贝路1号", lon=114.12, lat=22.55, hours="07:00-21:00", teams=3
        ),
    )
    collector = user_with_role("sampler", tree.community, username="mass.sampler")
    lab = user_with_role("lab", tree.district, username="mass.lab")
    people = [
        make_person(
            actor=admin_user, grid=tree.grid_a if n % 2 else tree.grid_b, name=f"李{n:02d}号", room=f"{n}"
        )
        for n in range(12)
    ]
    return Mass(made, site, collector, lab, commander, people)


def barcode(n: int) -> str:
    return f"{20260001000 + n:012d}"
