"""Writes to flow investigations (流调): open, start, itinerary rows, complete.

Completing the investigation closes the case's "investigate" work item and sets the time that
the timeliness KPI "confirmation → investigation complete" measures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.audit.services import audit_record
from fangkong.cases.models import Case, CaseEvent, Investigation, ItineraryEntry
from fangkong.common.errors import Conflict, Forbidden, Invalid
from fangkong.orgs.models import OrgUnit
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can, visible
from fangkong.worklist.kinds import CASE, Event
from fangkong.worklist.services import work_items_end

TIME_FORMAT = "%Y-%m-%d %H:%M"


def parse_local_time(raw: str, *, field: str) -> datetime:
    """A time typed as ``2022-05-03 14:30`` (or with ``T``), in the local time zone, in the years
    2000–2100 (anything else is a typing error, and years 1 and 9999 cannot be stored in UTC)."""
    text = re.sub(r"\s+", " ", raw.strip().replace("T", " "))
    try:
        naive = datetime.strptime(text, TIME_FORMAT)
    except ValueError:
        raise Invalid.field(field, _("Type the time as 2022-05-03 14:30.")) from None
    if not 2000 <= naive.year <= 2100:
        raise Invalid.field(field, _("The year must be between 2000 and 2100."))
    return timezone.make_aware(naive)


def investigation_open(*, case: Case) -> Investigation:
    """The (not yet started) investigation of a newly registered case."""
    return Investigation.objects.create(case=case)


def _require(actor: Any, investigation: Investigation) -> None:
    if not can(actor, Perm.CASES_CHANGE, investigation.case.org_unit):
        raise Forbidden(_("Your role may not change this investigation."))


def _timeline(investigation: Investigation, *, actor: Any, kind: str, at: datetime) -> None:
    CaseEvent.objects.create(case=investigation.case, kind=kind, at=at, actor=actor)
    audit_record(
        actor=actor, action=f"cases.{kind}", target=investigation, org_unit=investigation.case.org_unit
    )


@transaction.atomic
def investigation_start(
    *, actor: Any, investigation: Investigation, at: datetime | None = None
) -> Investigation:
    """Mark the investigation started by ``actor`` (once)."""
    _require(actor, investigation)
    if investigation.started_at is not None:
        raise Conflict(_("The investigation was already started."))
    investigation.started_at, investigation.investigator = at or timezone.now(), actor
    investigation.save(update_fields=["started_at", "investigator", "updated_at"])
    _timeline(investigation, actor=actor, kind="investigation.start", at=investigation.started_at)
    return investigation


@transaction.atomic
def investigation_complete(
    *,
    actor: Any,
    investigation: Investigation,
    summary: str = "",
    workplace: str = "",
    at: datetime | None = None,
) -> Investigation:
    """Complete the investigation; its open "investigate" work items are done with it."""
    _require(actor, investigation)
    if investigation.completed_at is not None:
        raise Conflict(_("The investigation was already completed."))
    at = at or timezone.now()
    if investigation.started_at is None:
        investigation.started_at, investigation.investigator = at, actor
    investigation.completed_at = at
    investigation.summary, investigation.workplace = summary.strip()[:5000], workplace.strip()[:200]
    investigation.save()
    _timeline(investigation, actor=actor, kind="investigation.complete", at=at)
    case = investigation.case
    work_items_end(
        actor=actor, event=Event.CASE_INVESTIGATED, subject_type=CASE, subject_ids=[case.pk], at=at
    )
    return investigation


@dataclass
class ItineraryData:
    """One row as typed: times as text (``2022-05-03 14:30``), coordinates as text."""

    start: str
    place: str
    end: str = ""
    org_unit_id: int | None = None
    longitude: str = ""
    latitude: str = ""
    transport_number: str = ""
    seat: str = ""
    publish: bool = False


def _coordinate(raw: str, *, field: str, limit: int, errors: dict[str, list[str]]) -> Decimal | None:
    if not raw.strip():
        return None
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        errors[field] = [_("Not a number.")]
        return None
    if not -limit <= value <= limit:
        errors[field] = [_("Between -%(l)d and %(l)d.") % {"l": limit}]
    return value.quantize(Decimal("0.000001"))


@transaction.atomic
def itinerary_add(*, actor: Any, investigation: Investigation, data: ItineraryData) -> ItineraryEntry:
    """Add a row to the itinerary; every bad field is named at once."""
    _require(actor, investigation)
    errors: dict[str, list[str]] = {}
    start = end = None
    for field, raw in (("start", data.start), ("end", data.end)):
        if field == "end" and not raw.strip():
            continue
        try:
            value = parse_local_time(raw, field=field)
        except Invalid as error:
            errors.update(error.errors)
            continue
        if field == "start":
            start = value
        else:
            end = value
    if start and end and end < start:
        errors["end"] = [_("The end is before the start.")]
    if start and start > timezone.now():
        errors["start"] = [_("The time is in the future.")]
    place = " ".join(data.place.split())
    if not place:
        errors["place"] = [_("This field is required.")]
    for field, limit in (("place", 200), ("transport_number", 20), ("seat", 20)):
        if len(getattr(data, field).strip()) > limit:
            errors[field] = [
                _("At most %(limit)d characters (this has %(n)d).")
                % {"limit": limit, "n": len(getattr(data, field).strip())}
            ]
    longitude = _coordinate(data.longitude, field="longitude", limit=180, errors=errors)
    latitude = _coordinate(data.latitude, field="latitude", limit=90, errors=errors)
    if (longitude is None) != (latitude is None) and "longitude" not in errors and "latitude" not in errors:
        errors["longitude"] = [_("Give both longitude and latitude, or neither.")]
    unit = None
    if data.org_unit_id is not None:
        unit = visible(actor, OrgUnit.objects.all(), perm=Perm.ORGS_VIEW).filter(pk=data.org_unit_id).first()
        if unit is None:
            errors["org_unit"] = [_("Unknown org unit.")]
    if errors:
        raise Invalid(errors)
    assert start is not None
    entry = ItineraryEntry.objects.create(
        investigation=investigation,
        start_at=start,
        end_at=end,
        place=place,
        org_unit=unit,
        longitude=longitude,
        latitude=latitude,
        transport_number=data.transport_number.strip().upper(),
        seat=data.seat.strip().upper(),
        publish=data.publish,
    )
    audit_record(
        actor=actor,
        action="cases.itinerary.add",
        target=entry,
        org_unit=investigation.case.org_unit,
        after={"start": start.isoformat(), "place": place, "publish": data.publish},
    )
    return entry


@transaction.atomic
def itinerary_remove(*, actor: Any, entry: ItineraryEntry) -> None:
    """Delete a row (a mistyped one); the audit trail keeps what it said."""
    _require(actor, entry.investigation)
    audit_record(
        actor=actor,
        action="cases.itinerary.remove",
        target=entry,
        org_unit=entry.investigation.case.org_unit,
        before={"start": entry.start_at.isoformat(), "place": entry.place},
    )
    entry.delete()
