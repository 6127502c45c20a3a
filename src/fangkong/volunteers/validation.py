"""Checking a sign-up before it is stored: every field, every reason, at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from fangkong.common.errors import Invalid
from fangkong.orgs.models import Level, OrgUnit
from fangkong.people.idnumbers import InvalidNumber, normalize_mobile
from fangkong.volunteers.models import Availability, Skill

AREA_LEVELS = (Level.STREET, Level.COMMUNITY, Level.GRID)
MAX_HOURS = Decimal(24)


@dataclass
class SignUpData:
    """What a resident types on the public sign-up form."""

    name: str = ""
    phone: str = ""
    org_unit_id: int | None = None
    skills: list[str] = field(default_factory=list)
    availability: str = ""
    availability_note: str = ""
    consent: bool = False


@dataclass
class CleanSignUp:
    name: str
    phone: str
    area: OrgUnit
    skills: list[str]
    availability: str
    availability_note: str


def phone_or_none(raw: str) -> str | None:
    """The normalised mainland mobile, or None when it is not one."""
    try:
        return normalize_mobile(raw)
    except InvalidNumber:
        return None


def signup_clean(*, data: SignUpData) -> CleanSignUp:
    """Validate a sign-up; raise ``Invalid`` naming each bad field. Nothing is written.

    The area must be a street, community or grid (volunteers are organised by the street office
    and serve where they live); at least one skill; consent is required.
    """
    errors: dict[str, list[str]] = {}
    name = " ".join(data.name.split())
    if not name:
        errors.setdefault("name", []).append(_("Please give your name."))
    elif len(name) > 50:
        errors.setdefault("name", []).append(_("At most %(limit)d characters.") % {"limit": 50})
    phone = ""
    if not data.phone.strip():
        errors.setdefault("phone", []).append(_("Please give your mobile number."))
    else:
        try:
            phone = normalize_mobile(data.phone)
        except InvalidNumber as error:
            errors.setdefault("phone", []).append(str(error))
    area = None
    if data.org_unit_id is None:
        errors.setdefault("org_unit", []).append(_("Choose the street or community you can serve."))
    else:
        area = OrgUnit.objects.filter(pk=data.org_unit_id, level__in=AREA_LEVELS).first()
        if area is None:
            errors.setdefault("org_unit", []).append(_("Choose a street or community from the list."))
    skills = sorted(set(data.skills))
    if not skills:
        errors.setdefault("skills", []).append(_("Tick at least one way you can help."))
    elif unknown := [s for s in skills if s not in Skill.values]:
        errors.setdefault("skills", []).append(_("Unknown skill “%(s)s”.") % {"s": unknown[0][:40]})
    if data.availability not in Availability.values:
        errors.setdefault("availability", []).append(_("Choose when you are available."))
    note = data.availability_note.strip()
    if len(note) > 200:
        errors.setdefault("availability_note", []).append(_("At most %(limit)d characters.") % {"limit": 200})
    if not data.consent:
        errors.setdefault("consent", []).append(
            _("Please agree that the street office may store your details and call you.")
        )
    if errors:
        raise Invalid(errors)
    assert area is not None
    return CleanSignUp(
        name=name,
        phone=phone,
        area=area,
        skills=skills,
        availability=data.availability,
        availability_note=note,
    )


def hours_clean(raw: object) -> Decimal:
    """Hours worked on one dispatch: more than 0 and at most 24, to a tenth of an hour."""
    try:
        hours = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise Invalid.field("hours", _("Give the hours as a number, e.g. 2.5.")) from None
    if not hours.is_finite() or hours <= 0 or hours > MAX_HOURS:
        raise Invalid.field("hours", _("Hours must be more than 0 and at most 24."))
    if hours != hours.quantize(Decimal("0.1")):
        raise Invalid.field("hours", _("Give the hours to a tenth of an hour at most."))
    return hours
