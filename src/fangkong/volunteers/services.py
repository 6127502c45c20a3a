"""Writes of the volunteer registry: sign-up, decisions, phone reveal, dispatch, hours, commendations.

Every write is audited; audit values hold masked PII only.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.audit.services import audit_record
from fangkong.common.errors import Conflict, Forbidden, Invalid, validated_save
from fangkong.common.locks import lock_fresh
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can
from fangkong.people.crypto import blind_index, decrypt, encrypt
from fangkong.people.masking import mask_name, mask_phone
from fangkong.people.pii import redact, refuse_personal_data
from fangkong.volunteers.models import (
    Commendation,
    Dispatch,
    DispatchStatus,
    Volunteer,
    VolunteerStatus,
)
from fangkong.volunteers.selectors import dispatchable_items
from fangkong.volunteers.validation import SignUpData, hours_clean, signup_clean
from fangkong.worklist.models import WorkItem

S = VolunteerStatus
# decision → (the states it may start from, the state it leads to)
DECISIONS: dict[str, tuple[frozenset[str], str]] = {
    "approve": (frozenset({S.APPLIED}), S.APPROVED),
    "reject": (frozenset({S.APPLIED}), S.REJECTED),
    "suspend": (frozenset({S.APPROVED}), S.SUSPENDED),
    "reinstate": (frozenset({S.SUSPENDED}), S.APPROVED),
}


class AlreadyRegistered(Conflict):
    """The phone is already registered; the message says no more than that."""

    def __init__(self) -> None:
        super().__init__(
            _(
                "This mobile number is already registered as a volunteer. Thank you! The street office will contact you."
            )
        )


def phone_index(phone: str) -> str:
    return blind_index(phone, purpose="volunteer-phone")


def masked_snapshot(volunteer: Volunteer) -> dict[str, Any]:
    """What the audit trail keeps of a volunteer: never plaintext PII."""
    return {
        "name": mask_name(volunteer.name),
        "phone": volunteer.phone_masked,
        "org_unit": volunteer.org_unit.code,
        "skills": volunteer.skill_list,
        "availability": volunteer.availability,
        "status": volunteer.status,
    }


def _require(actor: Any, perm: Perm, volunteer: Volunteer) -> None:
    if not can(actor, perm, volunteer.org_unit):
        raise Forbidden(_("Your role may not change volunteers in this area."))


@transaction.atomic
def volunteer_apply(*, data: SignUpData) -> Volunteer:
    """Store a public sign-up as ``applied`` (no actor: a resident, not a user).

    One registration per phone: a phone already applied, approved or suspended changes nothing
    (the attempt is audited; the public form answers it like a new sign-up, so that it tells nobody
    whether a number is registered; ``AlreadyRegistered`` only when a concurrent sign-up with the
    same phone wins the race); a rejected one may apply again, and the record is reopened with the
    new details.
    """
    clean = signup_clean(data=data)
    index = phone_index(clean.phone)
    volunteer = Volunteer.objects.select_for_update().filter(phone_index=index).first()
    if volunteer is not None and volunteer.status != S.REJECTED:
        audit_record(actor=None, action="volunteers.volunteer.apply_again", target=volunteer, after={})
        return volunteer  # unchanged
    action = "volunteers.volunteer.apply" if volunteer is None else "volunteers.volunteer.reapply"
    volunteer = volunteer or Volunteer(phone_index=index)
    volunteer.name = clean.name
    volunteer.phone_cipher = encrypt(clean.phone)
    volunteer.phone_masked = mask_phone(clean.phone)
    volunteer.org_unit = clean.area
    volunteer.skills = "," + ",".join(clean.skills) + ","
    volunteer.availability = clean.availability
    volunteer.availability_note = clean.availability_note
    volunteer.status = S.APPLIED
    volunteer.consent_at = timezone.now()
    volunteer.decided_by, volunteer.decided_at = None, None
    try:
        with transaction.atomic():
            validated_save(volunteer)
    except IntegrityError:  # a concurrent sign-up with the same phone won the race
        raise AlreadyRegistered() from None
    audit_record(actor=None, action=action, target=volunteer, after=masked_snapshot(volunteer))
    return volunteer


@transaction.atomic
def volunteer_decide(*, actor: Any, volunteer: Volunteer, decision: str, note: str = "") -> Volunteer:
    """Approve or reject an application, suspend an approved volunteer or reinstate a suspended one.

    Any other move is refused with ``Conflict`` naming both states.
    """
    _require(actor, Perm.VOLUNTEERS_CHANGE, volunteer)
    lock_fresh(volunteer)
    if decision not in DECISIONS:
        raise Invalid.field("decision", _("Unknown decision “%(d)s”.") % {"d": decision[:40]})
    sources, target = DECISIONS[decision]
    if volunteer.status not in sources:
        raise Conflict(
            _("Cannot move a volunteer from %(from)s to %(to)s.")
            % {"from": volunteer.get_status_display(), "to": S(target).label}
        )
    before = volunteer.status
    volunteer.status = target
    volunteer.decided_by, volunteer.decided_at = actor, timezone.now()
    if note.strip():
        volunteer.note = (volunteer.note + "\n" + note.strip()).strip()
    validated_save(volunteer, ["status", "decided_by", "decided_at", "note", "updated_at"])
    if target == S.SUSPENDED:  # a suspended volunteer is called back from what they were sent to
        live = Dispatch.objects.filter(volunteer=volunteer, status=DispatchStatus.DISPATCHED)
        for dispatch in live.select_related("volunteer__org_unit"):
            dispatch_cancel(actor=actor, dispatch=dispatch, reason=_("The volunteer was suspended."))
    audit_record(
        actor=actor,
        action=f"volunteers.volunteer.{decision}",
        target=volunteer,
        before={"status": before},
        after={"status": target, "note": redact(note.strip())[:200]},
    )
    return volunteer


@transaction.atomic
def volunteer_reveal_phone(*, actor: Any, volunteer: Volunteer) -> str:
    """The full mobile number, for a coordinator to call the volunteer; audited each time."""
    if not (
        can(actor, Perm.VOLUNTEERS_CHANGE, volunteer.org_unit)
        or can(actor, Perm.PEOPLE_REVEAL, volunteer.org_unit)
    ):
        raise Forbidden(_("Your role may not see full phone numbers."))
    audit_record(
        actor=actor, action="volunteers.volunteer.reveal", target=volunteer, after={"field": "phone"}
    )
    return decrypt(volunteer.phone_cipher)


@transaction.atomic
def dispatch_create(*, actor: Any, volunteer: Volunteer, work_item: WorkItem, note: str = "") -> Dispatch:
    """Send an approved volunteer to help with an open work item of their area.

    Only approved volunteers (``Conflict`` otherwise); the item must be open, in the volunteer's
    area subtree and visible to the actor; a volunteer is sent to one item once at a time.
    """
    _require(actor, Perm.VOLUNTEERS_CHANGE, volunteer)
    lock_fresh(volunteer)  # a suspension at the same moment: one of the two waits
    if volunteer.status != S.APPROVED:
        raise Conflict(
            _("Only approved volunteers can be dispatched; this one is %(s)s.")
            % {"s": volunteer.get_status_display()}
        )
    if not dispatchable_items(actor=actor, volunteer=volunteer).filter(pk=work_item.pk).exists():
        raise Invalid.field("work_item", _("Choose an open work item in the volunteer's area."))
    if Dispatch.objects.filter(
        volunteer=volunteer, work_item=work_item, status=DispatchStatus.DISPATCHED
    ).exists():
        raise Conflict(_("This volunteer is already dispatched to this work item."))
    dispatch = Dispatch(
        volunteer=volunteer,
        work_item=work_item,
        dispatched_by=actor,
        dispatched_at=timezone.now(),
        note=note.strip(),
    )
    try:
        with transaction.atomic():
            validated_save(dispatch)
    except IntegrityError:  # the same dispatch made at the same moment (one live per item)
        raise Conflict(_("This volunteer is already dispatched to this work item.")) from None
    audit_record(
        actor=actor,
        action="volunteers.dispatch.create",
        target=dispatch,
        after={"work_item": work_item.pk, "kind": work_item.kind},
    )
    return dispatch


@transaction.atomic
def dispatch_complete(
    *, actor: Any, dispatch: Dispatch, hours: Decimal | str, note: str = "", done_at: datetime | None = None
) -> Dispatch:
    """Log the hours worked (0 < h ≤ 24) and mark the dispatch done.

    The work item itself is left to its owner unit: a volunteer helps, the grid closes the item.
    """
    _require(actor, Perm.VOLUNTEERS_CHANGE, dispatch.volunteer)
    lock_fresh(dispatch)
    if dispatch.status != DispatchStatus.DISPATCHED:
        raise Conflict(
            _("Cannot log hours on a dispatch that is %(s)s.") % {"s": dispatch.get_status_display()}
        )
    dispatch.hours = hours_clean(hours)
    dispatch.status = DispatchStatus.DONE
    dispatch.done_at = done_at or timezone.now()
    if note.strip():
        dispatch.note = (dispatch.note + "\n" + note.strip()).strip()
    validated_save(dispatch, ["hours", "status", "done_at", "note", "updated_at"])
    audit_record(
        actor=actor,
        action="volunteers.dispatch.complete",
        target=dispatch,
        after={"hours": str(dispatch.hours)},
    )
    return dispatch


@transaction.atomic
def dispatch_cancel(*, actor: Any, dispatch: Dispatch, reason: str) -> Dispatch:
    """Call a volunteer back from a dispatch; the reason is kept in the note."""
    _require(actor, Perm.VOLUNTEERS_CHANGE, dispatch.volunteer)
    if not reason.strip():
        raise Invalid.field("reason", _("Say why the dispatch is cancelled."))
    lock_fresh(dispatch)
    if dispatch.status != DispatchStatus.DISPATCHED:
        raise Conflict(_("Cannot cancel a dispatch that is %(s)s.") % {"s": dispatch.get_status_display()})
    dispatch.status = DispatchStatus.CANCELLED
    dispatch.done_at = timezone.now()
    dispatch.note = (dispatch.note + "\n" + reason.strip()).strip()
    validated_save(dispatch, ["status", "done_at", "note", "updated_at"])
    audit_record(
        actor=actor,
        action="volunteers.dispatch.cancel",
        target=dispatch,
        after={"reason": redact(reason.strip())[:200]},
    )
    return dispatch


@transaction.atomic
def commendation_create(
    *, actor: Any, volunteer: Volunteer, citation: str, commended_on: date, published: bool = False
) -> Commendation:
    """Write a citation for an approved volunteer; it shows publicly only once published."""
    _require(actor, Perm.VOLUNTEERS_CHANGE, volunteer)
    lock_fresh(volunteer)  # a suspension at the same moment: one of the two waits
    if volunteer.status != S.APPROVED:
        raise Conflict(
            _("Only approved volunteers can be commended; this one is %(s)s.")
            % {"s": volunteer.get_status_display()}
        )
    if not citation.strip():
        raise Invalid.field("citation", _("Write why this volunteer is commended."))
    refuse_personal_data({"citation": citation})
    commendation = Commendation(
        volunteer=volunteer,
        citation=citation.strip(),
        commended_on=commended_on,
        curated_by=actor,
        published=published,
    )
    validated_save(commendation)
    audit_record(
        actor=actor,
        action="volunteers.commendation.create",
        target=commendation,
        after={"published": published, "citation": commendation.citation[:200]},
    )
    return commendation


@transaction.atomic
def commendation_publish(*, actor: Any, commendation: Commendation, published: bool) -> Commendation:
    """Show (or take down) a commendation on the public role-model list."""
    _require(actor, Perm.VOLUNTEERS_CHANGE, commendation.volunteer)
    if published and commendation.volunteer.status != S.APPROVED:
        raise Conflict(_("Only commendations of approved volunteers can be published."))
    before = commendation.published
    commendation.published = published
    commendation.curated_by = actor
    validated_save(commendation, ["published", "curated_by", "updated_at"])
    audit_record(
        actor=actor,
        action="volunteers.commendation.publish" if published else "volunteers.commendation.unpublish",
        target=commendation,
        before={"published": before},
        after={"published": published},
    )
    return commendation
