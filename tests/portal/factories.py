"""Cases at fixed past moments (frozen dates) and portal objects made through the services."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from fangkong.cases.investigations import ItineraryData, itinerary_add
from fangkong.cases.models import Case
from fangkong.common.protocol import active_profile
from tests.cases.factories import make_case

DAY = date(2022, 5, 10)  # the day most tests draft a bulletin for


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """A local moment of ``day`` in the profile's timezone."""
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(active_profile().timezone))


def case_at(
    *, actor: Any, grid: Any, classification: str, when: datetime, name: str = "王小明", **stamps: datetime
) -> Case:
    """A case registered now, then moved (in the database) to ``when``: reported then, and
    confirmed/asymptomatic then unless ``stamps`` say otherwise."""
    from tests.people.factories import make_person

    person = make_person(actor=actor, grid=grid, name=name)
    case = make_case(actor=actor, grid=grid, classification=classification, person=person)
    fields: dict[str, Any] = {"reported_at": when}
    if classification == "confirmed":
        fields["confirmed_at"] = when
    if classification == "asymptomatic":
        fields["asymptomatic_at"] = when
    fields.update(stamps)
    Case.objects.filter(pk=case.pk).update(**fields)
    case.refresh_from_db()
    return case


def place(*, actor: Any, case: Case, start: str, place: str, publish: bool, end: str = "") -> Any:
    return itinerary_add(
        actor=actor,
        investigation=case.investigation,
        data=ItineraryData(start=start, end=end, place=place, publish=publish),
    )
