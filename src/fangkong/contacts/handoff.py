"""Cross-district hand-off (协查): a contact who lives outside the case team's reach.

The case's team registers the contact under its case (``contacts.batch``); the contact is
``handed_off`` and the person's home unit gets a hand-off request and a work item. An
epidemiologist of that unit (anyone who may put the person under quarantine there) accepts it —
the contact is then confirmed by them, with the protocol's orders and work items made in their
unit — or declines it with a reason (the person does not live there any more, the record is
wrong): the contact is dismissed with that reason, and the case's team sees it. The case's side
sees the status and the masked name only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import reduce
from operator import or_

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.audit.services import audit_record_many
from fangkong.cases.models import Case
from fangkong.common.errors import Conflict, DomainError, Forbidden, Invalid
from fangkong.contacts.batch import Decided, contacts_confirm_as, in_reach
from fangkong.contacts.models import Contact, ContactStatus, Handoff, HandoffStatus
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import scope_roots, visible
from fangkong.people.idnumbers import normalize_resident_id
from fangkong.people.models import IdType, Person
from fangkong.people.services import id_index
from fangkong.worklist.kinds import CONTACT, Event
from fangkong.worklist.services import work_items_end


def person_by_document(*, number: str, id_type: str = IdType.RESIDENT_ID) -> Person | None:
    """The person with this document, anywhere in the city (exact, through the blind index): a
    contact named by ID number who may live in another district. Callers show the masked name."""
    number = normalize_resident_id(number)
    if not number:
        return None
    return (
        Person.objects.select_related("org_unit")
        .filter(id_type=id_type, id_number_index=id_index(id_type=id_type, number=number))
        .filter(merged_into__isnull=True)
        .first()
    )


def handoffs_for(*, actor: User, status: str = "") -> QuerySet[Handoff]:
    """Hand-offs the actor can see: those to their units (to decide) and those from their cases."""
    rows = visible(actor, Handoff.objects.all(), perm=Perm.CASES_VIEW).select_related(
        "contact__person", "contact__source_case", "contact__org_unit", "requested_by", "decided_by"
    )
    return rows.filter(status=status) if status else rows


def handoffs_split(*, actor: User, rows: QuerySet[Handoff]) -> tuple[QuerySet[Handoff], QuerySet[Handoff]]:
    """``rows`` as (to decide: the person lives where the actor may quarantine people; sent: the
    others, seen through the case)."""
    if actor.is_superuser:
        return rows, rows.none()
    roots = scope_roots(actor, str(Perm.QUARANTINE_CHANGE))
    if not roots:
        return rows.none(), rows
    near = reduce(or_, (Q(contact__org_unit__path__startswith=r.path) for r in roots))
    return rows.filter(near), rows.exclude(near)


def _chosen(actor: User, ids: Sequence[int]) -> list[Handoff]:
    return list(handoffs_for(actor=actor).select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk"))


def _refusal(actor: User, handoff: Handoff) -> DomainError | None:
    if handoff.status != HandoffStatus.REQUESTED:
        return Conflict(_("This hand-off was already %(s)s.") % {"s": handoff.get_status_display()})
    if not in_reach(actor, handoff.contact.person):
        return Forbidden(_("Only the person's home unit decides this hand-off."))
    return None


@transaction.atomic
def handoffs_accept(*, actor: User, handoff_ids: Sequence[int], at: datetime | None = None) -> Decided:
    """The home unit takes the contacts over: each is confirmed by the actor (orders, test days and
    work items made in the person's unit) and its hand-off item is done."""
    at = at or timezone.now()
    outcome = Decided()
    handoffs = _chosen(actor, handoff_ids)
    good = []
    for handoff in handoffs:
        error = _refusal(actor, handoff)
        if error is not None:
            outcome.refused.append((handoff.pk, error))
        else:
            good.append(handoff)
    by_case: dict[int, list[Contact]] = {}
    for handoff in good:
        by_case.setdefault(handoff.contact.source_case_id, []).append(handoff.contact)
    cases = Case.objects.in_bulk(list(by_case))
    for case_id in sorted(by_case):  # the cases' locks in id order, like every batch
        Case.objects.select_for_update().filter(pk=case_id).values_list("pk", flat=True).first()
        contacts_confirm_as(actor=actor, case=cases[case_id], contacts=by_case[case_id], at=at)
        outcome.done.extend(by_case[case_id])
    _close(actor=actor, handoffs=good, status=HandoffStatus.ACCEPTED, at=at, event=Event.HANDOFF_ACCEPTED)
    return outcome


@transaction.atomic
def handoffs_decline(*, actor: User, handoff_ids: Sequence[int], reason: str) -> Decided:
    """The home unit sends the contacts back with a reason: each is dismissed with it."""
    reason = reason.strip()
    if not reason:
        raise Invalid.field("reason", _("Say why your unit does not take this contact over."))
    at, outcome, good = timezone.now(), Decided(), []
    for handoff in _chosen(actor, handoff_ids):
        error = _refusal(actor, handoff)
        if error is not None:
            outcome.refused.append((handoff.pk, error))
        else:
            good.append(handoff)
    note = (_("Hand-off declined: %(r)s") % {"r": reason})[:500]
    Contact.objects.filter(pk__in=[h.contact_id for h in good]).update(
        status=ContactStatus.DISMISSED, decided_at=at, note=note, updated_at=at
    )
    outcome.done.extend(h.contact for h in good)
    _close(
        actor=actor,
        handoffs=good,
        status=HandoffStatus.DECLINED,
        at=at,
        event=Event.HANDOFF_DECLINED,
        reason=reason[:500],
    )
    return outcome


def _close(
    *,
    actor: User,
    handoffs: list[Handoff],
    status: str,
    at: datetime,
    event: str,
    reason: str = "",
) -> None:
    if not handoffs:
        return
    Handoff.objects.filter(pk__in=[h.pk for h in handoffs]).update(
        status=status, decided_by=actor, decided_at=at, reason=reason, updated_at=at
    )
    work_items_end(
        actor=actor,
        event=event,
        subject_type=CONTACT,
        subject_ids=[h.contact_id for h in handoffs],
        at=at,
        reason=reason,
    )
    audit_record_many(
        actor=actor,
        action=f"contacts.handoff.{status}",
        targets=handoffs,
        after=lambda h: {"case": h.contact.source_case.number, "reason": reason[:200]},
    )
