"""Cases for tests, registered through the service."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from fangkong.cases.models import Case
from fangkong.cases.services import CaseDetails, case_register
from tests.people.factories import make_person


def make_case(
    *, actor: Any, grid: Any, classification: str = "suspected", hours_ago: float = 2, **details: Any
) -> Case:
    person = make_person(actor=actor, grid=grid) if "person" not in details else details.pop("person")
    return case_register(
        actor=actor,
        person=person,
        classification=classification,
        reported_at=timezone.now() - timedelta(hours=hours_ago),
        details=CaseDetails(**details),
    )
