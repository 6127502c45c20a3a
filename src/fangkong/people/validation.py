"""Checking a person's details before they are stored: every field, every reason, at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.utils.translation import gettext as _

from fangkong.common.errors import Invalid
from fangkong.orgs.models import Level, OrgUnit
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import visible
from fangkong.people.idnumbers import (
    DOCUMENT,
    InvalidNumber,
    normalize_document,
    normalize_mobile,
    parse_resident_id,
)
from fangkong.people.models import IdType, Sex

LIMITS = {"name": 50, "id_number": 32, "building": 20, "unit": 20, "room": 20}


@dataclass
class PersonData:
    """What a user types to register or edit a person."""

    name: str
    id_type: str
    id_number: str
    org_unit_id: int | None
    phone: str = ""
    building: str = ""
    unit: str = ""
    room: str = ""
    sex: str = ""
    birth_date: date | None = None
    clear_phone: bool = False


SUFFIXES = {"building": ("号楼", "栋", "幢", "楼"), "unit": ("单元",), "room": ("室", "房", "号")}


def address_part(field: str, value: str) -> str:
    """Building, unit and room are kept bare ("9", not "9栋"): the display adds the words."""
    value = value.strip()
    for suffix in SUFFIXES[field]:
        if value.endswith(suffix) and len(value) > len(suffix):
            return value[: -len(suffix)].strip()
    return value


@dataclass
class CleanPerson:
    """Validated, normalised details, with the grid resolved inside the actor's scope."""

    name: str
    id_type: str
    id_number: str
    sex: str
    birth_date: date | None
    phone: str
    grid: OrgUnit
    building: str
    unit: str
    room: str
    warnings: list[str] = field(default_factory=list)


def _document(data: PersonData, errors: dict[str, list[str]]) -> tuple[str, str, date | None]:
    """(number, sex, birth date): derived from a resident ID, else as given."""
    number = normalize_document(data.id_number)
    if not number:
        errors.setdefault("id_number", []).append(_("This field is required."))
        return "", data.sex, data.birth_date
    if data.id_type == IdType.RESIDENT_ID:
        try:
            parsed = parse_resident_id(number)
        except InvalidNumber as error:
            errors.setdefault("id_number", []).append(str(error))
            return number, data.sex, data.birth_date
        return parsed.number, parsed.sex, parsed.birth_date
    if not DOCUMENT.fullmatch(number):
        errors.setdefault("id_number", []).append(_("Use letters and digits only."))
    return number, data.sex or Sex.UNKNOWN, data.birth_date


def person_clean(*, actor: Any, data: PersonData) -> CleanPerson:
    """Validate ``data``; raise ``Invalid`` naming each bad field and why. Nothing is written."""
    errors: dict[str, list[str]] = {}
    name = " ".join(data.name.split())
    if not name:
        errors.setdefault("name", []).append(_("This field is required."))
    for key, limit in LIMITS.items():
        value = getattr(data, key) or ""
        if len(value.strip()) > limit:
            errors.setdefault(key, []).append(
                _("At most %(limit)d characters (this has %(n)d).")
                % {"limit": limit, "n": len(value.strip())}
            )
    if data.id_type not in IdType.values:
        errors.setdefault("id_type", []).append(_("Unknown ID type “%(t)s”.") % {"t": data.id_type})
    number, sex, birth = _document(data, errors)
    if sex and sex not in Sex.values:
        errors.setdefault("sex", []).append(_("Unknown sex “%(s)s”.") % {"s": sex})
    if birth and birth > date.today():
        errors.setdefault("birth_date", []).append(_("The birth date is in the future."))
    phone = ""
    if data.phone.strip():
        try:
            phone = normalize_mobile(data.phone)
        except InvalidNumber as error:
            errors.setdefault("phone", []).append(str(error))
    grid = None
    if data.org_unit_id is None:
        errors.setdefault("org_unit", []).append(_("Choose the grid the person lives on."))
    else:
        grid = (
            visible(actor, OrgUnit.objects.all(), perm=Perm.PEOPLE_CHANGE).filter(pk=data.org_unit_id).first()
        )
        if grid is None:
            errors.setdefault("org_unit", []).append(
                _("Unknown org unit, or not one you may register people in.")
            )
        elif grid.level != Level.GRID:
            errors.setdefault("org_unit", []).append(
                _("People live on a grid; %(u)s is not one.") % {"u": grid.name}
            )
    if (data.unit.strip() or data.room.strip()) and not data.building.strip():
        errors.setdefault("building", []).append(_("Give the building when a unit or room is given."))
    if errors:
        raise Invalid(errors)
    assert grid is not None
    return CleanPerson(
        name=name,
        id_type=data.id_type,
        id_number=number,
        sex=sex or Sex.UNKNOWN,
        birth_date=birth,
        phone=phone,
        grid=grid,
        building=address_part("building", data.building),
        unit=address_part("unit", data.unit),
        room=address_part("room", data.room),
    )
