"""Contacts of a case registered, confirmed and dismissed as sets: the one implementation of the rules.

Each service takes a set and writes it in a constant number of queries per batch (bulk inserts of
contacts, hand-offs, orders, test days, work items and audit events; one ``UPDATE`` per status
change). Locks are taken once per batch in a fixed order: the case first, then its contacts (by
id), then the people (by id, in ``quarantine.orders``). A discovery run writing proposals for the
same case takes the case lock too, so a contact entered meanwhile is never written twice.

A batch applies to its good members and names each bad one with its reason (``refused``), or, when
``all_or_nothing`` (imports), refuses as a whole before writing anything. The one-at-a-time
services in ``contacts.services`` are batches of one that raise the refusal.

A contact who lives outside the actor's scope (the actor may not make quarantine orders where the
person lives) is registered under the case and handed to the person's home unit (协查): its status
is ``handed_off`` until that unit accepts it (``contacts.handoff``), which confirms it there.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.audit.services import audit_record_many
from fangkong.cases.models import Case, Classification
from fangkong.cases.models import Outcome as CaseOutcome
from fangkong.common.errors import Conflict, DomainError, Invalid
from fangkong.common.protocol import active_profile
from fangkong.common.rows import objects_insert
from fangkong.contacts.companions import companions_end
from fangkong.contacts.control import control_refresh
from fangkong.contacts.models import (
    Contact,
    ContactKind,
    ContactStatus,
    DiscoveredBy,
    ExposureType,
    Handoff,
)
from fangkong.contacts.rules import exposure_check, require_case_change
from fangkong.orgs.models import OrgUnit
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can
from fangkong.people.models import Person
from fangkong.quarantine.orders import orders_for_contacts
from fangkong.worklist.services import NewItem, work_items_create

LIMIT = 10_000
"""The most people one batch takes (an import's row limit; the review page decides up to 5,000)."""


@dataclass(frozen=True)
class Exposure:
    """One person's exposure to the case, to register as a close contact; ``key`` names it in a
    refusal (a row number, a person id)."""

    person: Person
    exposure_type: str
    first: datetime
    last: datetime
    note: str = ""
    key: Hashable = None


@dataclass
class Decided:
    """What a batch did: contacts confirmed (or dismissed), contacts handed off to their home unit,
    and each refused member with the error that refused it."""

    done: list[Contact] = field(default_factory=list)
    handed_off: list[Contact] = field(default_factory=list)
    refused: list[tuple[Hashable, DomainError]] = field(default_factory=list)


def _lock_case(case: Case) -> None:
    Case.objects.select_for_update().filter(pk=case.pk).values_list("pk", flat=True).first()


def _case_people(person_ids: Sequence[int]) -> dict[int, str]:
    """Why each of these people cannot be a contact: a case in treatment (its number) or dead."""
    reasons: dict[int, str] = {}
    for pk, number, classification, outcome in (
        Case.objects.filter(person_id__in=person_ids)
        .exclude(classification=Classification.EXCLUDED)
        .values_list("person_id", "number", "classification", "outcome")
    ):
        if outcome == CaseOutcome.DECEASED:
            reasons[pk] = _("The person has died (case %(n)s).") % {"n": number}
        elif outcome == CaseOutcome.IN_TREATMENT and classification != Classification.SUSPECTED:
            reasons[pk] = _("The person is case %(n)s, isolated for treatment.") % {"n": number}
    return reasons


def in_reach(actor: User, person: Person) -> bool:
    """Whether ``actor`` may put ``person`` under quarantine (else the contact is handed off)."""
    return can(actor, Perm.QUARANTINE_CHANGE, person.org_unit)


@transaction.atomic
def contacts_register(
    *,
    actor: User,
    case: Case,
    exposures: Sequence[Exposure],
    at: datetime | None = None,
    all_or_nothing: bool = False,
) -> Decided:
    """Close contacts found by the investigation: registered, then confirmed with their orders
    (at ``at``, default now) — or handed off when they live outside the actor's reach.

    Refused: an exposure the protocol does not count (``exposure_check``), a person listed twice,
    already a close contact of the case, a case in treatment, dead, or a merged record. A pending
    household proposal of the same person is dismissed: the close contact replaces it."""
    require_case_change(actor, case)
    if len(exposures) > LIMIT:
        raise Invalid.field("contacts", _("At most %(n)d people at once.") % {"n": LIMIT})
    if at is not None and (timezone.is_naive(at) or at > timezone.now()):
        raise Invalid.field("at", _("Give a time between the last exposure and now."))
    _lock_case(case)
    ids = [e.person.pk for e in exposures]
    close = {
        c.person_id: c
        for c in Contact.objects.select_for_update(of=("self",)).filter(
            source_case=case, person_id__in=ids, kind=ContactKind.CLOSE
        )
    }
    already = {pk for pk, c in close.items() if c.status != ContactStatus.PROPOSED}
    cases = _case_people(ids)
    outcome, good, seen = Decided(), [], set()
    for e in exposures:
        error: DomainError | None = None
        try:
            exposure_check(case, e.person, exposure_type=e.exposure_type, first=e.first, last=e.last)
        except Invalid as invalid:
            error = invalid
        if error is None and at is not None and at < e.last:
            error = Invalid.field("at", _("Give a time between the last exposure and now."))
        if error is None:
            reason = (
                _("Listed twice.")
                if e.person.pk in seen
                else _("This person is already a contact of case %(n)s.") % {"n": case.number}
                if e.person.pk in already
                else _("This record was merged into another; use the one kept.")
                if e.person.merged_into_id is not None
                else cases.get(e.person.pk, "")
            )
            error = Conflict(reason) if reason else None
        seen.add(e.person.pk)
        if error is not None:
            outcome.refused.append((e.key if e.key is not None else e.person.pk, error))
        else:
            good.append(e)
    if all_or_nothing and outcome.refused:
        return outcome
    proposed = [(e, close[e.person.pk]) for e in good if e.person.pk in close]
    contacts = objects_insert(
        [
            Contact(
                source_case=case,
                person=e.person,
                org_unit_id=e.person.org_unit_id,
                kind=ContactKind.CLOSE,
                exposure_type=e.exposure_type,
                first_exposure=e.first,
                last_exposure=e.last,
                discovered_by=DiscoveredBy.MANUAL,
                note=e.note[:500],
            )
            for e in good
            if e.person.pk not in close
        ]
    )
    contacts = [*contacts, *_take_over(proposed)]
    for contact in contacts:
        contact.source_case = case
    Contact.objects.filter(  # a household proposal of the same person is now moot
        source_case=case,
        person_id__in=[e.person.pk for e in good],
        kind=ContactKind.SECONDARY,
        status=ContactStatus.PROPOSED,
    ).update(
        status=ContactStatus.DISMISSED,
        decided_at=timezone.now(),
        note=_("Registered as a close contact."),
        updated_at=timezone.now(),
    )
    audit_record_many(
        actor=actor,
        action="contacts.contact.register",
        targets=contacts,
        after=lambda c: {"case": case.number},
    )
    _decide(actor=actor, case=case, contacts=contacts, at=at or timezone.now(), outcome=outcome)
    return outcome


def _take_over(proposed: list[tuple[Exposure, Contact]]) -> list[Contact]:
    """Proposals (found by a discovery) of people the investigation now registers by hand: the
    proposal becomes the registered contact, its exposure widened to cover both, so that a
    person is never a contact twice and the hand's decision is not lost to the discovery's."""
    for e, contact in proposed:
        contact.person = e.person
        contact.first_exposure = min(contact.first_exposure, e.first)
        contact.last_exposure = max(contact.last_exposure, e.last)
        contact.exposure_type = e.exposure_type
        contact.note = e.note[:500] or contact.note
    Contact.objects.bulk_update(
        [c for _e, c in proposed],
        ["first_exposure", "last_exposure", "exposure_type", "note"],
        batch_size=1000,
    )
    return [c for _e, c in proposed]


def _decide(*, actor: User, case: Case, contacts: list[Contact], at: datetime, outcome: Decided) -> None:
    """Confirm the contacts within the actor's reach and hand off the others."""
    units = OrgUnit.objects.in_bulk({c.person.org_unit_id for c in contacts})
    for contact in contacts:
        contact.person.org_unit = units[contact.person.org_unit_id]
    near = [c for c in contacts if in_reach(actor, c.person)]
    far = [c for c in contacts if not in_reach(actor, c.person)]
    contacts_confirm_as(actor=actor, case=case, contacts=near, at=at)
    outcome.done.extend(near)
    _hand_off(actor=actor, case=case, contacts=far, at=at)
    outcome.handed_off.extend(far)


def contacts_confirm_as(*, actor: User, case: Case, contacts: list[Contact], at: datetime) -> None:
    """Confirm contacts already checked and locked: the protocol's orders follow, then (for close
    contacts, when tracked) their households are proposed as secondary contacts, and the people
    stop being followed as spatiotemporal companions of any case. The caller checked the actor's right to decide (the case's team, or the home unit accepting a hand-off)."""
    if not contacts:
        return
    Contact.objects.filter(pk__in=[c.pk for c in contacts]).update(
        status=ContactStatus.CONFIRMED, decided_at=at, updated_at=timezone.now()
    )
    for contact in contacts:
        contact.status, contact.decided_at = ContactStatus.CONFIRMED, at
    audit_record_many(actor=actor, action="contacts.contact.confirm", targets=contacts)
    orders_for_contacts(actor=actor, contacts=contacts, confirmed_at=at)
    companions_end(  # quarantined now: no longer followed as spatiotemporal companions
        actor=actor, at=at, person_ids=[c.person_id for c in contacts if c.kind != ContactKind.COMPANION]
    )
    control_refresh(contact_ids=[c.pk for c in contacts], case_ids=[case.pk])
    if active_profile().secondary_contact.tracked:
        _propose_households(case=case, contacts=[c for c in contacts if c.kind == ContactKind.CLOSE])


def _hand_off(*, actor: User, case: Case, contacts: list[Contact], at: datetime) -> None:
    """Contacts outside the actor's reach: ``handed_off``, with a hand-off request and a work item
    for the epidemiologists of the person's home unit."""
    if not contacts:
        return
    Contact.objects.filter(pk__in=[c.pk for c in contacts]).update(
        status=ContactStatus.HANDED_OFF, updated_at=timezone.now()
    )
    for contact in contacts:
        contact.status = ContactStatus.HANDED_OFF
    handoffs = objects_insert([Handoff(contact=c, requested_by=actor) for c in contacts])
    due = at + timedelta(hours=active_profile().timeliness.contact_control_hours)
    work_items_create(
        actor=None,
        items=[
            NewItem(
                kind="contacts.handoff",
                title=_("Hand-off from case %(n)s: take over a close contact") % {"n": case.number},
                org_unit_id=c.org_unit_id,
                due_at=due,
                subject=c,
                priority="urgent",
            )
            for c in contacts
        ],
    )
    audit_record_many(
        actor=actor,
        action="contacts.handoff.request",
        targets=handoffs,
        after=lambda h: {"case": case.number, "unit": h.contact.org_unit_id},
    )


@transaction.atomic
def contacts_confirm(
    *, actor: User, case: Case, contact_ids: Sequence[int], at: datetime | None = None
) -> Decided:
    """Confirm proposed contacts of ``case`` (ids of other cases are ignored): each gets the
    protocol's orders, or is handed off when the person lives outside the actor's reach.
    Refused: already decided, or a time outside last exposure → now."""
    require_case_change(actor, case)
    now = timezone.now()
    if at is not None and (timezone.is_naive(at) or at > now):
        raise Invalid.field("at", _("Give a time between the last exposure and now."))
    _lock_case(case)
    chosen = list(
        Contact.objects.select_for_update(of=("self",))
        .select_related("person__org_unit")
        .filter(source_case=case, pk__in=contact_ids)
        .order_by("pk")
    )
    outcome, good = Decided(), []
    for contact in chosen:
        contact.source_case = case
        error: DomainError | None = None
        if contact.status == ContactStatus.CONFIRMED:
            error = Conflict(_("The contact is already confirmed."))
        elif contact.status == ContactStatus.DISMISSED:
            error = Conflict(_("Cannot confirm a contact that was dismissed."))
        elif contact.status == ContactStatus.HANDED_OFF:
            error = Conflict(_("Handed off to the person's home unit; it confirms the contact there."))
        elif at is not None and at < contact.last_exposure:
            error = Invalid.field("at", _("Give a time between the last exposure and now."))
        if error is not None:
            outcome.refused.append((contact.pk, error))
        else:
            good.append(contact)
    _decide(actor=actor, case=case, contacts=good, at=at or now, outcome=outcome)
    return outcome


@transaction.atomic
def contacts_dismiss(*, actor: User, case: Case, contact_ids: Sequence[int], reason: str) -> Decided:
    """Dismiss proposed contacts of ``case`` (not contacts after all); the reason is kept."""
    require_case_change(actor, case)
    if not reason.strip():
        raise Invalid.field("reason", _("Say why this is not a contact."))
    _lock_case(case)
    chosen = list(
        Contact.objects.select_for_update(of=("self",))
        .select_related("person")
        .filter(source_case=case, pk__in=contact_ids)
        .order_by("pk")
    )
    outcome = Decided()
    for contact in chosen:
        if contact.status != ContactStatus.PROPOSED:
            outcome.refused.append(
                (
                    contact.pk,
                    Conflict(
                        _("Only a proposed contact can be dismissed; this one is %(s)s.")
                        % {"s": contact.get_status_display()}
                    ),
                )
            )
        else:
            outcome.done.append(contact)
    now, note = timezone.now(), reason.strip()[:500]
    Contact.objects.filter(pk__in=[c.pk for c in outcome.done]).update(
        status=ContactStatus.DISMISSED, decided_at=now, note=note, updated_at=now
    )
    for contact in outcome.done:
        contact.status, contact.decided_at, contact.note = ContactStatus.DISMISSED, now, note
    audit_record_many(
        actor=actor,
        action="contacts.contact.dismiss",
        targets=outcome.done,
        after=lambda c: {"reason": reason.strip()[:200]},
    )
    return outcome


def _propose_households(*, case: Case, contacts: list[Contact]) -> int:
    """Household members of confirmed close contacts, as proposed secondary contacts. They live
    with the close contact until the close contact is isolated: their exposure lasts until the
    confirmation, so their quarantine counts from then. Nobody already a contact of the case
    (of any kind but companion), the case, or someone proposed twice."""
    by_household = {c.person.household_id: c for c in contacts if c.person.household_id is not None}
    if not by_household:
        return 0
    members = list(
        Person.objects.filter(household_id__in=list(by_household), merged_into__isnull=True).values_list(
            "pk", "household_id", "org_unit_id"
        )
    )
    taken = set(
        Contact.objects.filter(source_case=case, person_id__in=[m[0] for m in members])
        .exclude(kind=ContactKind.COMPANION)
        .values_list("person_id", flat=True)
    ) | {case.person_id}
    proposals = []
    for pk, household, unit in members:
        if pk in taken:
            continue
        taken.add(pk)
        via = by_household[household]
        proposals.append(
            Contact(
                source_case=case,
                person_id=pk,
                org_unit_id=unit,
                kind=ContactKind.SECONDARY,
                via_contact=via,
                exposure_type=ExposureType.HOUSEHOLD,
                first_exposure=via.first_exposure,
                last_exposure=max(via.last_exposure, via.decided_at or via.last_exposure),
                discovered_by=DiscoveredBy.HOUSEHOLD,
            )
        )
    objects_insert(proposals)
    return len(proposals)
