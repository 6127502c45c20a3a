"""API of cases, their timeline, investigation and itinerary. Illegal moves answer 409."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema
from ninja.responses import Status

from fangkong.cases import investigations, selectors, services
from fangkong.cases.models import Case
from fangkong.common.api import Day, ErrorOut, Id, PageNumber, PageOut, Search, actor_of, page_out
from fangkong.common.pagination import paginate
from fangkong.orgs.roles import Perm
from fangkong.people.masking import mask_name
from fangkong.people.selectors import person_get

router = Router()
ERRORS: dict[int, Any] = {409: ErrorOut, 422: ErrorOut}


class CaseOut(Schema):
    id: int
    number: str
    person_id: int
    person_name_masked: str
    org_unit_id: int
    district_id: int
    classification: str
    outcome: str
    severity: str
    origin: str
    hospital: str
    onset_date: date | None
    sampled_at: datetime | None
    reported_at: datetime
    confirmed_at: datetime | None
    asymptomatic_at: datetime | None
    excluded_at: datetime | None
    outcome_at: datetime | None
    contacts_identified_at: datetime | None
    contacts_controlled_at: datetime | None
    note: str

    @staticmethod
    def resolve_person_name_masked(obj: Case) -> str:
        return mask_name(obj.person.name)


class CaseIn(Schema):
    person_id: Id
    classification: str = "suspected"
    reported_at: datetime | None = None
    origin: str = "local"
    hospital: str = ""
    onset_date: date | None = None
    sampled_at: datetime | None = None
    note: str = ""


class DetailsIn(Schema):
    origin: str = "local"
    hospital: str = ""
    onset_date: date | None = None
    sampled_at: datetime | None = None
    note: str = ""


class ClassifyIn(Schema):
    to: str
    at: datetime | None = None
    severity: str = ""
    note: str = ""


class OutcomeIn(Schema):
    outcome: str
    at: datetime | None = None


class SeverityIn(Schema):
    severity: str
    at: datetime | None = None


class EventOut(Schema):
    kind: str
    from_value: str
    to_value: str
    at: datetime
    recorded_at: datetime
    note: str


class InvestigationOut(Schema):
    started_at: datetime | None
    completed_at: datetime | None
    workplace: str
    summary: str


class InvestigationCompleteIn(Schema):
    summary: str = ""
    workplace: str = ""


class ItineraryIn(Schema):
    start: str
    place: str
    end: str = ""
    org_unit_id: Id | None = None
    longitude: str = ""
    latitude: str = ""
    transport_number: str = ""
    seat: str = ""
    publish: bool = False


class ItineraryOut(Schema):
    id: int
    start_at: datetime
    end_at: datetime | None
    place: str
    org_unit_id: int | None
    longitude: float | None
    latitude: float | None
    transport_number: str
    seat: str
    publish: bool


def _now(value: datetime | None) -> datetime:
    return value or timezone.now()


@router.get("/cases", response=PageOut[CaseOut])
def case_list(
    request: HttpRequest,
    classification: str = "",
    district: Id | None = None,
    since: Day | None = None,
    until: Day | None = None,
    q: Search = "",
    page: PageNumber = 1,
) -> Any:
    filters = selectors.CaseFilters(
        classification=classification, district_id=district, reported_since=since, reported_until=until, q=q
    )
    return page_out(paginate(selectors.case_list(actor=actor_of(request), filters=filters), page=page))


@router.post("/cases", response={201: CaseOut, **ERRORS})
def case_register(request: HttpRequest, payload: CaseIn) -> Any:
    actor = actor_of(request)
    person = person_get(actor=actor, person_id=payload.person_id)
    details = services.CaseDetails(
        origin=payload.origin,
        hospital=payload.hospital,
        onset_date=payload.onset_date,
        sampled_at=payload.sampled_at,
        note=payload.note,
    )
    case = services.case_register(
        actor=actor,
        person=person,
        classification=payload.classification,
        reported_at=_now(payload.reported_at),
        details=details,
    )
    return Status(201, case)


@router.get("/cases/{case_id}", response=CaseOut)
def case_detail(request: HttpRequest, case_id: int) -> Any:
    return selectors.case_get(actor=actor_of(request), case_id=case_id)


@router.put("/cases/{case_id}", response={200: CaseOut, **ERRORS})
def case_update(request: HttpRequest, case_id: int, payload: DetailsIn) -> Any:
    actor = actor_of(request)
    case = selectors.case_get(actor=actor, case_id=case_id)
    return services.case_update(actor=actor, case=case, details=services.CaseDetails(**payload.dict()))


@router.get("/cases/{case_id}/timeline", response=list[EventOut])
def case_timeline(request: HttpRequest, case_id: int) -> Any:
    return selectors.case_timeline(case=selectors.case_get(actor=actor_of(request), case_id=case_id))


@router.post("/cases/{case_id}/classify", response={200: CaseOut, **ERRORS})
def case_classify(request: HttpRequest, case_id: int, payload: ClassifyIn) -> Any:
    actor = actor_of(request)
    case = selectors.case_get(actor=actor, case_id=case_id)
    return services.case_classify(
        actor=actor,
        case=case,
        to=payload.to,
        at=_now(payload.at),
        severity=payload.severity,
        note=payload.note,
    )


@router.post("/cases/{case_id}/outcome", response={200: CaseOut, **ERRORS})
def case_outcome(request: HttpRequest, case_id: int, payload: OutcomeIn) -> Any:
    actor = actor_of(request)
    case = selectors.case_get(actor=actor, case_id=case_id)
    return services.case_set_outcome(actor=actor, case=case, outcome=payload.outcome, at=_now(payload.at))


@router.post("/cases/{case_id}/severity", response={200: CaseOut, **ERRORS})
def case_severity(request: HttpRequest, case_id: int, payload: SeverityIn) -> Any:
    actor = actor_of(request)
    case = selectors.case_get(actor=actor, case_id=case_id)
    return services.case_set_severity(actor=actor, case=case, severity=payload.severity, at=_now(payload.at))


@router.get("/cases/{case_id}/investigation", response=InvestigationOut)
def investigation_detail(request: HttpRequest, case_id: int) -> Any:
    return selectors.investigation_of(case=selectors.case_get(actor=actor_of(request), case_id=case_id))


@router.post("/cases/{case_id}/investigation/start", response={200: InvestigationOut, **ERRORS})
def investigation_start(request: HttpRequest, case_id: int) -> Any:
    actor = actor_of(request)
    investigation = selectors.investigation_of(case=selectors.case_get(actor=actor, case_id=case_id))
    return investigations.investigation_start(actor=actor, investigation=investigation)


@router.post("/cases/{case_id}/investigation/complete", response={200: InvestigationOut, **ERRORS})
def investigation_complete(request: HttpRequest, case_id: int, payload: InvestigationCompleteIn) -> Any:
    actor = actor_of(request)
    investigation = selectors.investigation_of(case=selectors.case_get(actor=actor, case_id=case_id))
    return investigations.investigation_complete(
        actor=actor, investigation=investigation, summary=payload.summary, workplace=payload.workplace
    )


@router.get("/cases/{case_id}/itinerary", response=list[ItineraryOut])
def itinerary_list(request: HttpRequest, case_id: int) -> Any:
    case = selectors.case_get(actor=actor_of(request), case_id=case_id)
    return selectors.itinerary_of(investigation=selectors.investigation_of(case=case))


@router.post("/cases/{case_id}/itinerary", response={201: ItineraryOut, **ERRORS})
def itinerary_add(request: HttpRequest, case_id: int, payload: ItineraryIn) -> Any:
    actor = actor_of(request)
    investigation = selectors.investigation_of(case=selectors.case_get(actor=actor, case_id=case_id))
    entry = investigations.itinerary_add(
        actor=actor, investigation=investigation, data=investigations.ItineraryData(**payload.dict())
    )
    return Status(201, entry)


@router.delete("/itinerary/{entry_id}", response={204: None})
def itinerary_remove(request: HttpRequest, entry_id: int) -> Any:
    actor = actor_of(request)
    entry = selectors.itinerary_entry_get(actor=actor, entry_id=entry_id, perm=Perm.CASES_VIEW)
    investigations.itinerary_remove(actor=actor, entry=entry)
    return Status(204, None)
