"""Two records of one person merged: their contacts of the same case become one.

Rules (for each case and kind where both records are contacts):

- The contact kept is the one further along — confirmed, then proposed, then dismissed — the
  kept record's on a tie; its exposure widens to cover both.
- The other one's quarantine orders, evidence and the secondary contacts found through it move to
  the kept contact, which is audited (``contacts.contact.fold``) and then deleted; the case's
  under-control time is refreshed.
"""

from __future__ import annotations

from typing import Any

from fangkong.audit.services import audit_record
from fangkong.contacts.control import control_refresh
from fangkong.contacts.models import Contact, ContactEvidence, ContactStatus

RANK = {ContactStatus.CONFIRMED: 2, ContactStatus.PROPOSED: 1, ContactStatus.DISMISSED: 0}


def on_persons_merging(sender: Any, *, actor: Any, keep: Any, drop: Any, **kwargs: Any) -> None:
    """Fold the contacts that would clash once ``drop``'s rows point at ``keep``."""
    from fangkong.quarantine.models import QuarantineOrder

    for theirs in Contact.objects.filter(person=drop).select_related("source_case"):
        mine = Contact.objects.filter(
            source_case_id=theirs.source_case_id, person=keep, kind=theirs.kind
        ).first()
        if mine is None:
            continue
        kept, gone = (
            (theirs, mine)
            if RANK[ContactStatus(theirs.status)] > RANK[ContactStatus(mine.status)]
            else (mine, theirs)
        )
        kept.first_exposure = min(kept.first_exposure, gone.first_exposure)
        kept.last_exposure = max(kept.last_exposure, gone.last_exposure)
        kept.save(update_fields=["first_exposure", "last_exposure", "updated_at"])
        QuarantineOrder.objects.filter(contact=gone).update(contact=kept)
        ContactEvidence.objects.filter(contact=gone).update(contact=kept)
        Contact.objects.filter(via_contact=gone).update(via_contact=kept)
        audit_record(
            actor=actor,
            action="contacts.contact.fold",
            target=kept,
            before={"folded": gone.pk, "status": gone.status},
            after={"case": theirs.source_case.number, "status": kept.status},
        )
        gone.delete()
        control_refresh(contact_ids=[kept.pk], case_ids=[kept.source_case_id])
