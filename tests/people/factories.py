"""Factories for people: built through the service so PII is encrypted exactly as in use."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from fangkong.orgs.models import OrgUnit
from fangkong.people.idnumbers import make_resident_id
from fangkong.people.models import Person
from fangkong.people.services import person_create
from fangkong.people.validation import PersonData

_sequence = itertools.count(1)


def resident_id(*, area_code: str = "440303", birth: date = date(1990, 5, 17), male: bool = True) -> str:
    n = next(_sequence)
    seq = (n * 2 + (1 if male else 0)) % 1000
    return make_resident_id(area_code=area_code, birth_date=birth, sequence=seq)


def phone_number() -> str:
    return f"139{next(_sequence):08d}"


def make_person(*, actor: Any, grid: OrgUnit, name: str = "王小明", **overrides: Any) -> Person:
    data = PersonData(
        name=name,
        id_type="resident_id",
        id_number=overrides.pop("id_number", None) or resident_id(),
        phone=overrides.pop("phone", None) or phone_number(),
        org_unit_id=grid.pk,
        building=overrides.pop("building", "3"),
        unit=overrides.pop("unit", "1"),
        room=overrides.pop("room", "502"),
    )
    for key, value in overrides.items():
        setattr(data, key, value)
    return person_create(actor=actor, data=data)
