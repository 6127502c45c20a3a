"""Writes to contacts one at a time: each is the batch of one of ``contacts.batch`` (one
implementation of the rules), raising the refusal the batch reports.

A confirmed close contact gets the protocol's orders at once; when the protocol tracks secondary
contacts, the members of the close contact's household are proposed as secondary contacts, for an
epidemiologist to confirm. A contact who lives outside the actor's reach is handed off to the
person's home unit (``contacts.handoff``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.audit.services import audit_record
from fangkong.cases.models import Case
from fangkong.common.errors import Conflict, Invalid
from fangkong.contacts import batch
from fangkong.contacts.models import Contact, ContactKind
from fangkong.contacts.rules import exposure_check, lookback_reference, require_case_change
from fangkong.people.models import Person

__all__ = ["exposure_check", "lookback_reference", "require_case_change"]


def _one(outcome: batch.Decided) -> Contact:
    if outcome.refused:
        raise outcome.refused[0][1]
    return (outcome.done or outcome.handed_off)[0]


def contact_register(
    *,
    actor: Any,
    case: Case,
    person: Person,
    exposure_type: str,
    first_exposure: datetime,
    last_exposure: datetime,
    note: str = "",
    at: datetime | None = None,
) -> Contact:
    """A close contact found by the investigation: registered confirmed (at ``at``, default now),
    with its orders — or handed off when the person lives outside the actor's reach."""
    exposure = batch.Exposure(
        person=person, exposure_type=exposure_type, first=first_exposure, last=last_exposure, note=note
    )
    return _one(batch.contacts_register(actor=actor, case=case, exposures=[exposure], at=at))


@transaction.atomic
def contact_propose(
    *,
    case: Case,
    person: Person,
    kind: str,
    exposure_type: str,
    first_exposure: datetime,
    last_exposure: datetime,
    discovered_by: str,
    via: Contact | None = None,
) -> Contact | None:
    """A proposed contact (household, venue, location data) awaiting an epidemiologist; ``None``
    when the person is already a contact of the case or is the case."""
    Case.objects.select_for_update().filter(pk=case.pk).values_list("pk", flat=True).first()
    taken = Contact.objects.filter(source_case=case, person=person).exclude(kind=ContactKind.COMPANION)
    if person.pk == case.person_id or taken.exists():
        return None
    try:
        with transaction.atomic():
            return Contact.objects.create(
                source_case=case,
                person=person,
                org_unit=person.org_unit,
                kind=kind,
                via_contact=via,
                exposure_type=exposure_type,
                first_exposure=first_exposure,
                last_exposure=last_exposure,
                discovered_by=discovered_by,
            )
    except IntegrityError:
        return None


def contact_confirm(*, actor: Any, contact: Contact, at: datetime | None = None) -> Contact:
    """Confirm a proposed contact: the batch of one of ``batch.contacts_confirm``."""
    return _one(
        batch.contacts_confirm(actor=actor, case=contact.source_case, contact_ids=[contact.pk], at=at)
    )


def contact_dismiss(*, actor: Any, contact: Contact, reason: str) -> Contact:
    """Dismiss a proposal (not a contact after all); the reason is kept."""
    return _one(
        batch.contacts_dismiss(actor=actor, case=contact.source_case, contact_ids=[contact.pk], reason=reason)
    )


@transaction.atomic
def case_contacts_identified(*, actor: Any, case: Case, at: datetime | None = None) -> Case:
    """The epidemiologist's word that every close contact of ``case`` has been found: the time the
    KPI "confirmation → all close contacts identified" measures."""
    require_case_change(actor, case)
    if case.contacts_identified_at is not None:
        raise Conflict(
            _("Already marked at %(t)s.")
            % {"t": timezone.localtime(case.contacts_identified_at).strftime("%Y-%m-%d %H:%M")}
        )
    at = at or timezone.now()
    if at < case.reported_at or at > timezone.now():
        raise Invalid.field("at", _("Give a time between the report and now."))
    case.contacts_identified_at = at
    case.save(update_fields=["contacts_identified_at", "updated_at"])
    audit_record(actor=actor, action="contacts.case.identified", target=case, after={"at": at.isoformat()})
    return case


BULK_LIMIT = 5000
"""The most contacts one bulk decision takes (one batch: its orders, tests and items in bulk)."""


@dataclass(frozen=True)
class BulkOutcome:
    """What a bulk decision did: how many contacts it decided (handed off included), and why each
    other one was refused."""

    done: int
    refused: list[tuple[Contact, str]]
    handed_off: int = 0


def decision_check(*, decision: str, reason: str) -> None:
    """A bulk decision is "confirm" or "dismiss"; a dismissal says why."""
    if decision not in {"confirm", "dismiss"}:
        raise Invalid.field("decision", _("Unknown decision."))
    if decision == "dismiss" and not reason.strip():
        raise Invalid.field("reason", _("Say why these are not contacts."))


def bulk_size_check(contact_ids: list[int]) -> None:
    """A bulk decision names at least one contact and at most :data:`BULK_LIMIT`."""
    if not contact_ids:
        raise Invalid.field("contacts", _("Choose at least one proposed contact."))
    if len(contact_ids) > BULK_LIMIT:
        raise Invalid.field(
            "contacts",
            _("Decide at most %(n)d contacts at once (each confirmation makes its orders).")
            % {"n": BULK_LIMIT},
        )


def proposals_decide(
    *, actor: Any, case: Case, contact_ids: list[int], decision: str, reason: str = ""
) -> BulkOutcome:
    """Confirm or dismiss several proposed contacts of ``case`` in one batch (a refusal does not
    undo the others); ids of other cases are ignored."""
    require_case_change(actor, case)
    decision_check(decision=decision, reason=reason)
    bulk_size_check(contact_ids)
    if decision == "confirm":
        outcome = batch.contacts_confirm(actor=actor, case=case, contact_ids=contact_ids)
    else:
        outcome = batch.contacts_dismiss(actor=actor, case=case, contact_ids=contact_ids, reason=reason)
    refused_ids = {pk: error.text() for pk, error in outcome.refused}
    refused = [
        (c, refused_ids[c.pk])
        for c in Contact.objects.filter(pk__in=list(refused_ids)).select_related("person").order_by("pk")
    ]
    return BulkOutcome(
        done=len(outcome.done) + len(outcome.handed_off), refused=refused, handed_off=len(outcome.handed_off)
    )
