"""API of contacts: a case's contacts, register, confirm, dismiss; discovery and bulk decisions
(the ids given, or every proposal a filter matches, by the worker); companions' tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.responses import Status

from fangkong.cases.selectors import case_get
from fangkong.common.api import ErrorOut, Id, actor_of
from fangkong.common.errors import Invalid, NotFound
from fangkong.contacts import batch, decisions, discovery, selectors, services
from fangkong.contacts.companions import TestTaken, companion_tests_record
from fangkong.contacts.handoff import person_by_document
from fangkong.people.models import Person
from fangkong.people.selectors import person_get

router = Router()
ERRORS: dict[int, Any] = {409: ErrorOut, 422: ErrorOut}


class ContactOut(Schema):
    id: int
    source_case_id: int
    person_id: int
    kind: str
    via_contact_id: int | None
    exposure_type: str
    first_exposure: datetime
    last_exposure: datetime
    discovered_by: str
    status: str
    decided_at: datetime | None
    became_case_id: int | None


class ContactIn(Schema):
    """A close contact: the person by register number (in your scope) or by resident ID number
    (anywhere in the city; one outside your reach is handed off to their home unit)."""

    person_id: Id | None = None
    id_number: str = Field("", max_length=40)
    exposure_type: str
    first_exposure: datetime
    last_exposure: datetime
    note: str = ""


class DismissIn(Schema):
    reason: str


@router.get("/cases/{case_id}/contacts", response=list[ContactOut])
def contact_list(request: HttpRequest, case_id: int, status: str = "") -> Any:
    case = case_get(actor=actor_of(request), case_id=case_id)
    return selectors.contact_list(actor=actor_of(request), case_id=case.pk, status=status)


@router.post("/cases/{case_id}/contacts", response={201: ContactOut, **ERRORS})
def contact_register(request: HttpRequest, case_id: int, payload: ContactIn) -> Any:
    """Register a close contact (confirmed at once: the protocol's orders are made)."""
    actor = actor_of(request)
    case = case_get(actor=actor, case_id=case_id)
    person = _person_of(actor, payload)
    contact = services.contact_register(
        actor=actor,
        case=case,
        person=person,
        exposure_type=payload.exposure_type,
        first_exposure=payload.first_exposure,
        last_exposure=payload.last_exposure,
        note=payload.note,
    )
    return Status(201, contact)


def _person_of(actor: Any, payload: ContactIn) -> Person:
    """The person a contact row names; ``Invalid`` naming the field when nobody matches."""
    if payload.person_id is not None:
        try:
            return person_get(actor=actor, person_id=payload.person_id)
        except NotFound:
            raise Invalid.field("person_id", _("No person with this number in your area.")) from None
    person = person_by_document(number=payload.id_number) if payload.id_number.strip() else None
    if person is None:
        raise Invalid.field(
            "id_number", _("Give person_id or the ID number of a registered person; register them first.")
        )
    return person


class BatchIn(Schema):
    contacts: list[ContactIn] = Field(..., min_length=1, max_length=batch.LIMIT)


class BatchRefusalOut(Schema):
    index: int
    field: str
    reason: str


class BatchOut(Schema):
    confirmed: list[ContactOut]
    handed_off: list[ContactOut]
    refused: list[BatchRefusalOut]


@router.post("/cases/{case_id}/contacts/batch", response={200: BatchOut, **ERRORS})
def contacts_register_batch(request: HttpRequest, case_id: int, payload: BatchIn) -> Any:
    """Register many close contacts of a case in one batch: each is confirmed with its orders, or
    handed off to the home unit of a person outside your reach, or refused with its index (the
    position in ``contacts``), the field and the reason; the good ones are written."""
    actor = actor_of(request)
    case = case_get(actor=actor, case_id=case_id)
    refused: list[dict[str, Any]] = []
    exposures = []
    for index, row in enumerate(payload.contacts):
        try:
            person = _person_of(actor, row)
        except Invalid as error:
            refused += [
                {"index": index, "field": f, "reason": m} for f, ms in error.errors.items() for m in ms
            ]
            continue
        exposures.append(
            batch.Exposure(
                person=person,
                exposure_type=row.exposure_type,
                first=row.first_exposure,
                last=row.last_exposure,
                note=row.note,
                key=index,
            )
        )
    outcome = batch.contacts_register(actor=actor, case=case, exposures=exposures)
    for key, refusal in outcome.refused:
        fields = refusal.errors if isinstance(refusal, Invalid) else {"person": [refusal.text()]}
        refused += [{"index": key, "field": f, "reason": m} for f, ms in fields.items() for m in ms]
    return {
        "confirmed": outcome.done,
        "handed_off": outcome.handed_off,
        "refused": sorted(refused, key=lambda r: r["index"]),
    }


@router.get("/contacts/{contact_id}", response=ContactOut)
def contact_detail(request: HttpRequest, contact_id: int) -> Any:
    return selectors.contact_get(actor=actor_of(request), contact_id=contact_id)


@router.post("/contacts/{contact_id}/confirm", response={200: ContactOut, **ERRORS})
def contact_confirm(request: HttpRequest, contact_id: int) -> Any:
    actor = actor_of(request)
    return services.contact_confirm(
        actor=actor, contact=selectors.contact_get(actor=actor, contact_id=contact_id)
    )


@router.post("/contacts/{contact_id}/dismiss", response={200: ContactOut, **ERRORS})
def contact_dismiss(request: HttpRequest, contact_id: int, payload: DismissIn) -> Any:
    actor = actor_of(request)
    contact = selectors.contact_get(actor=actor, contact_id=contact_id)
    return services.contact_dismiss(actor=actor, contact=contact, reason=payload.reason)


class DiscoveryIn(Schema):
    start: datetime | None = None
    end: datetime | None = None


class DiscoveryOut(Schema):
    id: int
    case_id: int
    status: str
    stage: str
    percent: int
    range_start: datetime
    range_end: datetime
    clamped: bool
    backend: str
    no_data: bool
    exposures: int
    people_found: int
    proposed: int
    already_contacts: int
    unknown_people: int
    pings_dropped: int
    checkins_dropped: int
    error: str
    finished_at: datetime | None


class ProposalsDecisionIn(Schema):
    contact_ids: list[Id]  # how many: the service says
    decision: str
    reason: str = Field("", max_length=200)


class ProposalRefusalOut(Schema):
    contact_id: int
    reason: str


class ProposalsDecisionOut(Schema):
    done: int
    refused: list[ProposalRefusalOut]


@router.post("/cases/{case_id}/discover", response={202: DiscoveryOut, **ERRORS})
def discovery_start(request: HttpRequest, case_id: int, payload: DiscoveryIn) -> Any:
    """Queue a contact discovery in the location data and venue check-ins (poll the run)."""
    actor = actor_of(request)
    case = case_get(actor=actor, case_id=case_id)
    return Status(
        202, discovery.discovery_start(actor=actor, case=case, start=payload.start, end=payload.end)
    )


@router.get("/discovery/{run_id}", response=DiscoveryOut)
def discovery_detail(request: HttpRequest, run_id: int) -> Any:
    return selectors.discovery_run_get(actor=actor_of(request), run_id=run_id)


@router.post("/cases/{case_id}/proposals", response={200: ProposalsDecisionOut, **ERRORS})
def proposals_decide(request: HttpRequest, case_id: int, payload: ProposalsDecisionIn) -> Any:
    """Confirm or dismiss proposed contacts of a case in bulk; each refusal says why."""
    actor = actor_of(request)
    case = case_get(actor=actor, case_id=case_id)
    outcome = services.proposals_decide(
        actor=actor,
        case=case,
        contact_ids=payload.contact_ids,
        decision=payload.decision,
        reason=payload.reason,
    )
    refused = [{"contact_id": contact.pk, "reason": reason} for contact, reason in outcome.refused]
    return {"done": outcome.done, "refused": refused}


class MatchingDecisionIn(Schema):
    """Every proposal of the case on the review's ``tab`` that the filters match."""

    decision: str
    reason: str = Field("", max_length=200)
    tab: str = "proposed"
    found_by: str = ""
    min_score: int | None = Field(None, ge=0, le=100)
    exposure_type: str = ""
    q: str = Field("", max_length=50)


class DecisionOut(Schema):
    id: int
    case_id: int
    decision: str
    status: str
    total: int
    position: int
    percent: int
    done: int
    handed_off: int
    refused: list[dict[str, Any]]
    error: str
    finished_at: datetime | None


@router.post("/cases/{case_id}/proposals/matching", response={202: DecisionOut, **ERRORS})
def proposals_decide_matching(request: HttpRequest, case_id: int, payload: MatchingDecisionIn) -> Any:
    """Queue one decision on every proposal the filters match (up to the bulk limit), run by the
    worker in chunks; poll the decision for its progress."""
    actor = actor_of(request)
    case = case_get(actor=actor, case_id=case_id)
    filters = selectors.ReviewFilters.parse(
        {k: "" if v is None else str(v) for k, v in payload.dict().items()}, default_tab="proposed"
    )
    job = decisions.decision_start(
        actor=actor, case=case, filters=filters, decision=payload.decision, reason=payload.reason
    )
    return Status(202, job)


@router.get("/proposal-decisions/{decision_id}", response=DecisionOut)
def decision_detail(request: HttpRequest, decision_id: int) -> Any:
    return selectors.proposal_decision_get(actor=actor_of(request), decision_id=decision_id)


class CompanionTestIn(Schema):
    contact_id: Id
    number: int = Field(..., ge=1, le=9)
    tested_at: datetime
    result: str


class CompanionTestsIn(Schema):
    tests: list[CompanionTestIn] = Field(..., min_length=1, max_length=services.BULK_LIMIT)


class CompanionTestRefusalOut(Schema):
    index: int
    reason: str


class CompanionTestsOut(Schema):
    recorded: int
    cases: int
    refused: list[CompanionTestRefusalOut]


@router.post("/companion-tests", response={200: CompanionTestsOut, **ERRORS})
def companion_tests(request: HttpRequest, payload: CompanionTestsIn) -> Any:
    """Record spatiotemporal companions' tests (三天两检) in one set: each ends its missed-test
    item; a positive one registers a suspected case. A test outside your reach, unknown, already
    recorded or no longer asked for is refused with its index; the others are recorded."""
    taken = [
        TestTaken(contact_id=t.contact_id, number=t.number, tested_at=t.tested_at, result=t.result)
        for t in payload.tests
    ]
    outcome = companion_tests_record(actor=actor_of(request), results=taken)
    index = {id(t): i for i, t in enumerate(taken)}
    return {
        "recorded": len(outcome.recorded),
        "cases": outcome.cases,
        "refused": [{"index": index[id(t)], "reason": why} for t, why in outcome.refused],
    }
