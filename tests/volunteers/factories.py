"""Volunteers made through the services, so the phone is encrypted exactly as in use."""

from __future__ import annotations

import itertools
from typing import Any

from fangkong.orgs.models import OrgUnit
from fangkong.volunteers.models import Volunteer
from fangkong.volunteers.services import volunteer_apply, volunteer_decide
from fangkong.volunteers.validation import SignUpData

_sequence = itertools.count(1)


def volunteer_phone() -> str:
    return f"137{next(_sequence):08d}"


def signup_data(*, area: OrgUnit, **overrides: Any) -> SignUpData:
    data = SignUpData(
        name="李小红",
        phone=volunteer_phone(),
        org_unit_id=area.pk,
        skills=["delivery", "driving"],
        availability="weekends",
        availability_note="周六上午",
        consent=True,
    )
    for key, value in overrides.items():
        setattr(data, key, value)
    return data


def make_volunteer(*, area: OrgUnit, approved_by: Any = None, **overrides: Any) -> Volunteer:
    """An applicant in ``area``; approved by ``approved_by`` when given."""
    volunteer = volunteer_apply(data=signup_data(area=area, **overrides))
    if approved_by is not None:
        volunteer_decide(actor=approved_by, volunteer=volunteer, decision="approve")
    return volunteer
