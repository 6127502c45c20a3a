"""Writes to contacts: register by hand, propose, confirm (→ quarantine orders), dismiss.

The look-back window comes from the active profile: it opens ``lookback_days`` before symptom
onset (before sampling for an asymptomatic case; before the report when neither is known), at
00:00 local. An exposure that ended before it is not a contact. A confirmed close contact gets
the protocol's orders at once; when the protocol tracks secondary contacts, the members of the
close contact's household are proposed as secondary contacts, for an epidemiologist to confirm.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.audit.services import audit_record
from fangkong.cases.models import Case, Classification
from fangkong.common.errors import Conflict, Forbidden, Invalid
from fangkong.common.protocol import active_profile
from fangkong.contacts.control import control_refresh
from fangkong.contacts.models import Contact, ContactKind, ContactStatus, DiscoveredBy, ExposureType
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can
from fangkong.people.models import Person
from fangkong.quarantine.services import orders_for_contact


def lookback_reference(case: Case) -> datetime:
    """The moment the look-back is counted from: the earlier of symptom onset (00:00 local) and
    sampling — sampling alone for an asymptomatic infection; the report when neither is known."""
    onset = timezone.make_aware(datetime.combine(case.onset_date, time.min)) if case.onset_date else None
    if case.classification == Classification.ASYMPTOMATIC or onset is None:
        return case.sampled_at or onset or case.reported_at
    return min(onset, case.sampled_at) if case.sampled_at else onset


def require_case_change(actor: Any, case: Case) -> None:
    if not can(actor, Perm.CASES_CHANGE, case.org_unit):
        raise Forbidden(_("Your role may not change the contacts of this case."))


def exposure_check(
    case: Case, person: Person, *, exposure_type: str, first: datetime, last: datetime
) -> None:
    """Refuse, naming each field, an exposure that cannot make ``person`` a contact of ``case``:
    the case itself, an unknown type, times out of order or in the future, or a last exposure
    before the protocol's look-back window."""
    errors: dict[str, list[str]] = {}
    if person.pk == case.person_id:
        errors["person"] = [_("A case is not its own contact.")]
    if exposure_type not in ExposureType.values:
        errors["exposure_type"] = [_("Unknown exposure “%(e)s”.") % {"e": exposure_type}]
    if timezone.is_naive(first) or timezone.is_naive(last):
        errors["last_exposure"] = [_("The time must carry a time zone.")]
    elif last < first:
        errors["last_exposure"] = [_("The last exposure is before the first.")]
    elif last > timezone.now():
        errors["last_exposure"] = [_("The time is in the future.")]
    else:
        rule = active_profile().close_contact
        reference = lookback_reference(case)
        if not rule.is_within_lookback(last, reference):
            start = timezone.localtime(rule.lookback_start(reference)).strftime("%Y-%m-%d %H:%M")
            errors["last_exposure"] = [
                _(
                    "Before the look-back window, which opens %(t)s (%(n)d days before onset or sampling): not a close contact."
                )
                % {"t": start, "n": rule.lookback_days}
            ]
    if errors:
        raise Invalid(errors)


def _create(
    *,
    case: Case,
    person: Person,
    kind: str,
    exposure_type: str,
    first: datetime,
    last: datetime,
    discovered_by: str,
    via: Contact | None = None,
    note: str = "",
) -> Contact:
    # one writer of a case's contacts at a time: a discovery writing its proposals holds this
    # lock too, so a contact entered meanwhile cannot break its bulk insert
    Case.objects.select_for_update().filter(pk=case.pk).values_list("pk", flat=True).first()
    try:
        with transaction.atomic():
            return Contact.objects.create(
                source_case=case,
                person=person,
                org_unit=person.org_unit,
                kind=kind,
                via_contact=via,
                exposure_type=exposure_type,
                first_exposure=first,
                last_exposure=last,
                discovered_by=discovered_by,
                note=note[:500],
            )
    except IntegrityError:
        raise Conflict(_("This person is already a contact of case %(n)s.") % {"n": case.number}) from None


@transaction.atomic
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
    with its orders."""
    require_case_change(actor, case)
    exposure_check(case, person, exposure_type=exposure_type, first=first_exposure, last=last_exposure)
    contact = _create(
        case=case,
        person=person,
        kind=ContactKind.CLOSE,
        exposure_type=exposure_type,
        first=first_exposure,
        last=last_exposure,
        discovered_by=DiscoveredBy.MANUAL,
        note=note,
    )
    audit_record(actor=actor, action="contacts.contact.register", target=contact, after={"case": case.number})
    return contact_confirm(actor=actor, contact=contact, at=at)


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
    if person.pk == case.person_id or Contact.objects.filter(source_case=case, person=person).exists():
        return None
    return _create(
        case=case,
        person=person,
        kind=kind,
        exposure_type=exposure_type,
        first=first_exposure,
        last=last_exposure,
        discovered_by=discovered_by,
        via=via,
    )


@transaction.atomic
def contact_confirm(*, actor: Any, contact: Contact, at: datetime | None = None) -> Contact:
    """Confirm a contact: the protocol's orders follow, and (for a close contact, when tracked)
    the household is proposed as secondary contacts."""
    require_case_change(actor, contact.source_case)
    if contact.status == ContactStatus.CONFIRMED and contact.decided_at is not None:
        raise Conflict(_("The contact is already confirmed."))
    if contact.status == ContactStatus.DISMISSED:
        raise Conflict(_("Cannot confirm a contact that was dismissed."))
    now = timezone.now()
    if at is not None and (timezone.is_naive(at) or at > now or at < contact.last_exposure):
        raise Invalid.field("at", _("Give a time between the last exposure and now."))
    now = at or now
    contact.status, contact.decided_at = ContactStatus.CONFIRMED, now
    contact.save(update_fields=["status", "decided_at", "updated_at"])
    audit_record(actor=actor, action="contacts.contact.confirm", target=contact)
    orders_for_contact(actor=actor, contact=contact, confirmed_at=now)
    control_refresh(contact_ids=[contact.pk], case_ids=[contact.source_case_id])
    if contact.kind == ContactKind.CLOSE and active_profile().secondary_contact.tracked:
        _propose_household(contact)
    return contact


def _propose_household(contact: Contact) -> int:
    """Household members of a confirmed close contact, as proposed secondary contacts. They live
    with the close contact until the close contact is isolated: their exposure lasts until the
    confirmation, so their quarantine counts from then."""
    household = contact.person.household_id
    if household is None:
        return 0
    members = Person.objects.filter(household_id=household, merged_into__isnull=True).exclude(
        pk=contact.person_id
    )
    proposed = 0
    for member in members:
        made = contact_propose(
            case=contact.source_case,
            person=member,
            kind=ContactKind.SECONDARY,
            exposure_type=ExposureType.HOUSEHOLD,
            first_exposure=contact.first_exposure,
            last_exposure=max(contact.last_exposure, contact.decided_at or contact.last_exposure),
            discovered_by=DiscoveredBy.HOUSEHOLD,
            via=contact,
        )
        proposed += made is not None
    return proposed


@transaction.atomic
def contact_dismiss(*, actor: Any, contact: Contact, reason: str) -> Contact:
    """Dismiss a proposal (not a contact after all); the reason is kept."""
    require_case_change(actor, contact.source_case)
    if contact.status != ContactStatus.PROPOSED:
        raise Conflict(
            _("Only a proposed contact can be dismissed; this one is %(s)s.")
            % {"s": contact.get_status_display()}
        )
    if not reason.strip():
        raise Invalid.field("reason", _("Say why this is not a contact."))
    contact.status, contact.decided_at, contact.note = (
        ContactStatus.DISMISSED,
        timezone.now(),
        reason.strip()[:500],
    )
    contact.save(update_fields=["status", "decided_at", "note", "updated_at"])
    audit_record(
        actor=actor, action="contacts.contact.dismiss", target=contact, after={"reason": reason.strip()[:200]}
    )
    return contact


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


BULK_LIMIT = 500
"""The most contacts one bulk decision takes (about 25 ms each to confirm: well inside a request)."""


@dataclass(frozen=True)
class BulkOutcome:
    """What a bulk decision did: how many contacts it decided, and why each other one was refused."""

    done: int
    refused: list[tuple[Contact, str]]


def proposals_decide(
    *, actor: Any, case: Case, contact_ids: list[int], decision: str, reason: str = ""
) -> BulkOutcome:
    """Confirm or dismiss several proposed contacts of ``case`` at once, each in its own
    transaction (one refusal does not undo the others); ids of other cases are ignored."""
    require_case_change(actor, case)
    if decision not in {"confirm", "dismiss"}:
        raise Invalid.field("decision", _("Unknown decision."))
    if decision == "dismiss" and not reason.strip():
        raise Invalid.field("reason", _("Say why these are not contacts."))
    if not contact_ids:
        raise Invalid.field("contacts", _("Choose at least one proposed contact."))
    if len(contact_ids) > BULK_LIMIT:
        raise Invalid.field(
            "contacts",
            _("Decide at most %(n)d contacts at once (each confirmation makes its orders).")
            % {"n": BULK_LIMIT},
        )
    chosen = Contact.objects.select_related("source_case__org_unit", "person").filter(
        source_case=case, pk__in=contact_ids
    )
    done, refused = 0, []
    for contact in chosen.order_by("id"):
        try:
            if decision == "confirm":
                contact_confirm(actor=actor, contact=contact)
            else:
                contact_dismiss(actor=actor, contact=contact, reason=reason)
        except (Conflict, Invalid) as error:
            refused.append((contact, error.text()))
        else:
            done += 1
    return BulkOutcome(done=done, refused=refused)
