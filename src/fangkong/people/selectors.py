"""Reads of the people registry, always through the scoping function."""

from __future__ import annotations

import re
from contextlib import suppress
from typing import Any

from django.db.models import Q, QuerySet

from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import visible, visible_get
from fangkong.orgs.selectors import org_unit_get
from fangkong.people.crypto import blind_index
from fangkong.people.idnumbers import InvalidNumber, normalize_document, normalize_mobile
from fangkong.people.models import Household, IdType, Person, PersonImport
from fangkong.people.services import id_index

DOCUMENT = re.compile(r"^[0-9A-Za-z]{6,32}$")


def person_search_filter(q: str) -> Q:
    """A name fragment matches by name; a document number or a mobile matches exactly by index."""
    q = q.strip()
    condition = Q(name__contains=q)
    with suppress(InvalidNumber):
        condition |= Q(phone_index=blind_index(normalize_mobile(q), purpose="phone"))
    compact = normalize_document(q).replace("-", "")
    if DOCUMENT.match(compact):
        condition |= Q(id_number_index__in=[id_index(id_type=t, number=compact) for t in IdType.values])
    return condition


def person_list(*, actor: Any, q: str = "", org_unit_id: int | None = None) -> QuerySet[Person]:
    """People the actor may see, merged records left out; ``org_unit_id`` narrows to a subtree."""
    qs = visible(actor, Person.objects.filter(merged_into__isnull=True), perm=Perm.PEOPLE_VIEW)
    if org_unit_id is not None:
        unit = org_unit_get(actor=actor, unit_id=org_unit_id)
        qs = qs.filter(org_unit__path__startswith=unit.path)
    if q.strip():
        qs = qs.filter(person_search_filter(q))
    return qs.select_related("org_unit", "household")


def person_get(*, actor: Any, person_id: int, perm: str = Perm.PEOPLE_VIEW) -> Person:
    qs = Person.objects.select_related("org_unit", "household", "merged_into")
    return visible_get(actor, qs, perm=perm, pk=person_id, what="person")


def household_get(*, actor: Any, household_id: int) -> Household:
    qs = Household.objects.select_related("org_unit")
    return visible_get(actor, qs, perm=Perm.PEOPLE_VIEW, pk=household_id, what="household")


def household_members(*, actor: Any, household: Household) -> QuerySet[Person]:
    return visible(actor, household.members.filter(merged_into__isnull=True), perm=Perm.PEOPLE_VIEW)


def person_import_list(*, actor: Any) -> QuerySet[PersonImport]:
    return visible(
        actor, PersonImport.objects.select_related("org_unit", "created_by"), perm=Perm.PEOPLE_CHANGE
    ).defer("content")


def person_import_get(*, actor: Any, import_id: int) -> PersonImport:
    qs = PersonImport.objects.select_related("org_unit", "created_by").defer("content")
    return visible_get(actor, qs, perm=Perm.PEOPLE_CHANGE, pk=import_id, what="import")
