"""Writes to the people registry: register, edit, reveal (audited), merge."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from fangkong.audit.services import audit_record, changes
from fangkong.common.errors import Forbidden, Invalid
from fangkong.orgs.models import OrgUnit
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can
from fangkong.people.crypto import blind_index, decrypt, encrypt
from fangkong.people.idnumbers import normalize_document
from fangkong.people.masking import mask_id_number, mask_name, mask_phone
from fangkong.people.models import Household, Person, Sex
from fangkong.people.signals import persons_merging
from fangkong.people.validation import CleanPerson, PersonData, person_clean


class DuplicatePerson(Invalid):
    """The document is already registered; ``existing`` is that person."""

    def __init__(self, existing: Person, *, visible_to_actor: bool) -> None:
        message = (
            _("This document is already registered as %(p)s.") % {"p": existing}
            if visible_to_actor
            else _("This document is already registered in another area; ask its grid to update it.")
        )
        super().__init__({"id_number": [message]})
        self.existing = existing
        self.visible_to_actor = visible_to_actor


def id_index(*, id_type: str, number: str) -> str:
    """The blind index of a document number, taken of its normal form (``normalize_document``):
    the full-width and the ASCII forms of one number index alike."""
    return blind_index(normalize_document(number), purpose=f"id:{id_type}")


def phone_index(phone: str) -> str:
    return blind_index(phone, purpose="phone")


def masked_snapshot(person: Person) -> dict[str, Any]:
    """What the audit trail keeps of a person: never plaintext PII."""
    return {
        "name": mask_name(person.name),
        "id_type": person.id_type,
        "id_number": person.id_number_masked,
        "phone": person.phone_masked,
        "org_unit": person.org_unit.code if person.org_unit_id else None,
        "household": str(person.household) if person.household_id else None,
        "sex": person.sex,
        "birth_date": person.birth_date.isoformat() if person.birth_date else None,
    }


def household_get_or_create(*, grid: OrgUnit, building: str, unit: str, room: str) -> Household | None:
    """The household at an address on ``grid``; none when no building is given."""
    if not building:
        return None
    household, _created = Household.objects.get_or_create(
        org_unit=grid, building=building, unit=unit, room=room
    )
    return household


def _existing(*, id_type: str, number: str, exclude: int | None = None) -> Person | None:
    qs = Person.objects.select_related("org_unit").filter(
        id_type=id_type, id_number_index=id_index(id_type=id_type, number=number)
    )
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    person = qs.first()
    while person is not None and person.merged_into_id is not None:
        person = Person.objects.select_related("org_unit").get(pk=person.merged_into_id)
    return person


def _refuse_duplicate(*, actor: Any, clean: CleanPerson, exclude: int | None = None) -> None:
    existing = _existing(id_type=clean.id_type, number=clean.id_number, exclude=exclude)
    if existing is not None:
        raise DuplicatePerson(existing, visible_to_actor=can(actor, Perm.PEOPLE_VIEW, existing.org_unit))


def person_fill(person: Person, clean: CleanPerson, *, household: Household | None) -> None:
    """Put validated details on ``person``: encrypt, index and mask the PII."""
    person.name = clean.name
    person.id_type = clean.id_type
    person.sex = clean.sex
    person.birth_date = clean.birth_date
    person.id_number_cipher = encrypt(clean.id_number)
    person.id_number_index = id_index(id_type=clean.id_type, number=clean.id_number)
    person.id_number_masked = mask_id_number(clean.id_number)
    person.phone_cipher = encrypt(clean.phone) if clean.phone else None
    person.phone_index = phone_index(clean.phone) if clean.phone else ""
    person.phone_masked = mask_phone(clean.phone) if clean.phone else ""
    person.org_unit = clean.grid
    person.household = household


def _household_of(clean: CleanPerson) -> Household | None:
    return household_get_or_create(grid=clean.grid, building=clean.building, unit=clean.unit, room=clean.room)


@transaction.atomic
def person_create(*, actor: Any, data: PersonData) -> Person:
    """Register a person on a grid the actor may change.

    A document already registered is refused with ``DuplicatePerson`` carrying the existing person.
    """
    clean = person_clean(actor=actor, data=data)
    _refuse_duplicate(actor=actor, clean=clean)
    person = Person()
    person_fill(person, clean, household=_household_of(clean))
    try:
        with transaction.atomic():
            person.save()
    except IntegrityError:  # a concurrent registration of the same document won the race
        _refuse_duplicate(actor=actor, clean=clean)
        raise
    audit_record(actor=actor, action="people.person.create", target=person, after=masked_snapshot(person))
    return person


@transaction.atomic
def person_update(*, actor: Any, person: Person, data: PersonData) -> Person:
    """Change a person's details; the grid may move only within the actor's scope.

    The editor sees ID number and phone masked, so a blank ID number or phone keeps the stored
    one; ``clear_phone`` removes the phone.
    """
    if not can(actor, Perm.PEOPLE_CHANGE, person.org_unit):
        raise Forbidden(_("You may not change this person."))
    if not data.id_number.strip():
        data = replace(data, id_number=decrypt(person.id_number_cipher))
    if data.clear_phone:
        data = replace(data, phone="")
    elif not data.phone.strip() and person.phone_cipher:
        data = replace(data, phone=decrypt(person.phone_cipher))
    clean = person_clean(actor=actor, data=data)
    _refuse_duplicate(actor=actor, clean=clean, exclude=person.pk)
    before = masked_snapshot(person)
    person_fill(person, clean, household=_household_of(clean))
    person.save()
    old, new = changes(before, masked_snapshot(person))
    audit_record(actor=actor, action="people.person.update", target=person, before=old, after=new)
    return person


REVEALABLE = {"id_number": "id_number_cipher", "phone": "phone_cipher"}


@transaction.atomic
def person_reveal(*, actor: Any, person: Person, field: str) -> str:
    """The full ID number or phone of ``person``: allowed to roles with ``people.reveal``, audited."""
    if field not in REVEALABLE:
        raise Invalid.field("field", _("Only the ID number or the phone can be shown in full."))
    if not can(actor, Perm.PEOPLE_REVEAL, person.org_unit):
        raise Forbidden(_("Your role may not see full ID numbers or phones."))
    blob = getattr(person, REVEALABLE[field])
    value = decrypt(blob) if blob else ""
    audit_record(actor=actor, action="people.person.reveal", target=person, after={"field": field})
    return value


def _relations_to_person() -> list[Any]:
    """Every foreign key in the project that points at Person (so later apps are merged too)."""
    # seen from Person, a foreign key to it is a one-to-many relation (a one-to-one: one-to-one)
    return [
        f.field
        for f in Person._meta.related_objects
        if (f.one_to_many or f.one_to_one) and f.related_model is not Person
    ]


def same_person_likely(a: Person, b: Person) -> bool:
    """Two records may be one person mistyped: the same sex (when both are known), and the same
    name or the same birth date (a mistyped document number keeps the name; a mistyped name
    keeps the birth date)."""
    unknown = {Sex.UNKNOWN, ""}
    if a.sex not in unknown and b.sex not in unknown and a.sex != b.sex:
        return False
    same_name = "".join(a.name.split()) == "".join(b.name.split())
    return same_name or (a.birth_date is not None and a.birth_date == b.birth_date)


def _described(person: Person) -> str:
    born = person.birth_date.year if person.birth_date else "?"
    return f"{mask_name(person.name)} ({person.get_sex_display()}, {born})"


@transaction.atomic
def person_merge(*, actor: Any, keep: Person, drop: Person) -> Person:
    """Fold ``drop`` (e.g. registered with a mistyped ID) into ``keep``.

    Every row that pointed at ``drop`` points at ``keep`` afterwards; ``drop`` stays as a record
    marked ``merged_into`` so that its document still finds ``keep``. Both must be in scope, and
    look like one person (:func:`same_person_likely`). Rows that would clash are first folded or
    the merge refused by their apps (``persons_merging``).
    """
    if keep.pk == drop.pk:
        raise Invalid.field("drop", _("A person cannot be merged into themselves."))
    if drop.merged_into_id is not None:
        raise Invalid.field("drop", _("This record was already merged."))
    for person in (keep, drop):
        if not can(actor, Perm.PEOPLE_MERGE, person.org_unit):
            raise Forbidden(_("Your role may not merge these people."))
    if not same_person_likely(keep, drop):
        raise Invalid.field(
            "drop_id",
            _(
                "These look like two people: %(a)s and %(b)s differ in sex, or in both name and birth date. Merge only two records of one person."
            )
            % {"a": _described(keep), "b": _described(drop)},
        )
    persons_merging.send(sender=Person, actor=actor, keep=keep, drop=drop)  # fold or refuse clashes
    moved: dict[str, int] = {}
    for fk in _relations_to_person():
        count = fk.model._default_manager.filter(**{fk.name: drop}).update(**{fk.name: keep})
        if count:
            moved[fk.model._meta.label_lower + "." + fk.name] = count
    if keep.household_id is None and drop.household_id is not None:
        keep.household_id = drop.household_id
        keep.save(update_fields=["household", "updated_at"])
    drop.merged_into = keep
    drop.save(update_fields=["merged_into", "updated_at"])
    audit_record(
        actor=actor,
        action="people.person.merge",
        target=keep,
        before={"dropped": drop.pk, "dropped_document": drop.id_number_masked},
        after={"moved": moved},
    )
    return keep
