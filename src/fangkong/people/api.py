"""API of the people registry. Lists and details are masked; full values need ``reveal``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import File, Form, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status
from pydantic import Field

from fangkong.common.api import ErrorOut, Id, PageNumber, PageOut, Search, actor_of, page_out
from fangkong.common.pagination import paginate
from fangkong.orgs.roles import Perm
from fangkong.orgs.selectors import org_unit_get
from fangkong.people import selectors, services
from fangkong.people.imports import person_import_create
from fangkong.people.masking import mask_name
from fangkong.people.models import Person
from fangkong.people.validation import PersonData

router = Router()


class PersonOut(Schema):
    id: int
    name_masked: str
    sex: str
    birth_year: int | None
    id_type: str
    id_number_masked: str
    phone_masked: str
    org_unit_id: int
    org_unit_code: str
    org_unit_name: str
    household_id: int | None
    address: str

    @staticmethod
    def resolve_name_masked(obj: Person) -> str:
        return mask_name(obj.name)

    @staticmethod
    def resolve_birth_year(obj: Person) -> int | None:
        return obj.birth_date.year if obj.birth_date else None

    @staticmethod
    def resolve_org_unit_code(obj: Person) -> str:
        return obj.org_unit.code

    @staticmethod
    def resolve_org_unit_name(obj: Person) -> str:
        return obj.org_unit.name

    @staticmethod
    def resolve_address(obj: Person) -> str:
        return str(obj.household) if obj.household_id else ""


class PersonDetailOut(PersonOut):
    name: str
    merged_into_id: int | None


class PersonIn(Schema):
    name: str
    id_type: str = "resident_id"
    id_number: str
    org_unit_id: Id | None = None
    phone: str = ""
    building: str = ""
    unit: str = ""
    room: str = ""
    sex: str = ""
    birth_date: date | None = None

    def data(self) -> PersonData:
        return PersonData(**self.dict())


class RevealIn(Schema):
    field: str


class RevealOut(Schema):
    field: str
    value: str


class MergeIn(Schema):
    drop_id: Id


class HouseholdOut(Schema):
    id: int
    org_unit_id: int
    building: str
    unit: str
    room: str
    members: list[PersonOut]


@router.get("/persons", response=PageOut[PersonOut])
def person_list(
    request: HttpRequest,
    q: Search = "",
    org_unit: Id | None = None,
    page: PageNumber = 1,
    size: Annotated[int, Field(ge=1, le=1000)] = 25,
) -> Any:
    qs = selectors.person_list(actor=actor_of(request), q=q, org_unit_id=org_unit)
    return page_out(paginate(qs, page=page, size=size))


@router.post("/persons", response={201: PersonDetailOut, 422: ErrorOut})
def person_create(request: HttpRequest, payload: PersonIn) -> Any:
    return Status(201, services.person_create(actor=actor_of(request), data=payload.data()))


@router.get("/persons/{person_id}", response=PersonDetailOut)
def person_detail(request: HttpRequest, person_id: int) -> Any:
    return selectors.person_get(actor=actor_of(request), person_id=person_id)


@router.put("/persons/{person_id}", response={200: PersonDetailOut, 422: ErrorOut})
def person_update(request: HttpRequest, person_id: int, payload: PersonIn) -> Any:
    actor = actor_of(request)
    person = selectors.person_get(actor=actor, person_id=person_id)
    return services.person_update(actor=actor, person=person, data=payload.data())


@router.post("/persons/{person_id}/reveal", response=RevealOut)
def person_reveal(request: HttpRequest, person_id: int, payload: RevealIn) -> Any:
    actor = actor_of(request)
    person = selectors.person_get(actor=actor, person_id=person_id)
    return {
        "field": payload.field,
        "value": services.person_reveal(actor=actor, person=person, field=payload.field),
    }


@router.post("/persons/{person_id}/merge", response=PersonDetailOut)
def person_merge(request: HttpRequest, person_id: int, payload: MergeIn) -> Any:
    """Fold the record ``drop_id`` into this person; every link moves here."""
    actor = actor_of(request)
    keep = selectors.person_get(actor=actor, person_id=person_id, perm=Perm.PEOPLE_MERGE)
    drop = selectors.person_get(actor=actor, person_id=payload.drop_id, perm=Perm.PEOPLE_MERGE)
    return services.person_merge(actor=actor, keep=keep, drop=drop)


@router.get("/households/{household_id}", response=HouseholdOut)
def household_detail(request: HttpRequest, household_id: int) -> Any:
    actor = actor_of(request)
    household = selectors.household_get(actor=actor, household_id=household_id)
    return {
        "id": household.pk,
        "org_unit_id": household.org_unit_id,
        "building": household.building,
        "unit": household.unit,
        "room": household.room,
        "members": list(
            selectors.household_members(actor=actor, household=household).select_related("org_unit")
        ),
    }


class PersonImportOut(Schema):
    id: int
    file_name: str
    org_unit_id: int
    status: str
    total_rows: int
    processed_rows: int
    created_count: int
    percent: int
    errors: list[dict[str, Any]]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


@router.post("/imports", response={202: PersonImportOut, 422: ErrorOut})
def import_create(request: HttpRequest, org_unit_id: Form[Id], file: File[UploadedFile]) -> Any:
    """Upload an .xlsx or .csv of residents; the worker imports all rows or none."""
    actor = actor_of(request)
    unit = org_unit_get(actor=actor, unit_id=org_unit_id, perm=Perm.PEOPLE_CHANGE)
    job = person_import_create(actor=actor, org_unit=unit, file_name=file.name or "", content=file.read())
    return Status(202, job)


@router.get("/imports", response=PageOut[PersonImportOut])
def import_list(request: HttpRequest, page: PageNumber = 1) -> Any:
    return page_out(paginate(selectors.person_import_list(actor=actor_of(request)), page=page))


@router.get("/imports/{import_id}", response=PersonImportOut)
def import_detail(request: HttpRequest, import_id: int) -> Any:
    return selectors.person_import_get(actor=actor_of(request), import_id=import_id)
