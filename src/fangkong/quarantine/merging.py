"""Two records of one person merged: their work and their live orders become one.

Rules (run inside the merge's transaction, before the rows of ``drop`` move to ``keep``):

- Work items about the dropped person move to the person kept (open and closed alike).
- For each live order of ``drop`` whose kind ``keep`` also has live, the two become one: ``keep``'s
  order stays and is extended to the later end (its missing test days are added with their
  sampling items — re-dated, not duplicated); ``drop``'s is cancelled, its open work cancelled with
  it. A room of the dropped order moves to the kept one when that had none (the transfer is done).
- A live order of ``drop`` with no counterpart simply moves to ``keep`` with the other rows.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from fangkong.audit.services import audit_record
from fangkong.common.protocol import active_profile
from fangkong.protocols import QuarantineRule
from fangkong.quarantine.models import LIVE_STATUSES, OrderKind, OrderStatus, QuarantineOrder
from fangkong.quarantine.orders import extend_order
from fangkong.worklist.kinds import ORDER, PERSON, Event
from fangkong.worklist.services import work_items_end, work_items_move


def _rule_of(kind: str) -> QuarantineRule | None:
    profile = active_profile()
    rules = list(profile.close_contact.stages)
    if profile.secondary_contact.quarantine is not None:
        rules.append(profile.secondary_contact.quarantine)
    return next((rule for rule in rules if rule.kind == kind), None)


def on_persons_merging(sender: Any, *, actor: Any, keep: Any, drop: Any, **kwargs: Any) -> None:
    """Move ``drop``'s work to ``keep`` and fold their live orders of one kind into one."""
    work_items_move(actor=actor, subject_type=PERSON, from_id=drop.pk, to_id=keep.pk)
    live = list(
        QuarantineOrder.objects.select_for_update()
        .filter(person__in=[keep, drop], status__in=LIVE_STATUSES)
        .order_by("pk")
    )
    kept = {o.kind: o for o in live if o.person_id == keep.pk}
    now = timezone.now()
    for gone in (o for o in live if o.person_id == drop.pk and o.kind in kept):
        survivor = kept[gone.kind]
        rule = _rule_of(gone.kind)
        if rule is not None:
            extend_order(
                actor=actor,
                order=survivor,
                rule=rule,
                exposure=max(gone.last_exposure, survivor.last_exposure),
            )
        if gone.room_id is not None and survivor.room_id is None and survivor.kind == OrderKind.CENTRALISED:
            survivor.site_id, survivor.room_id = gone.site_id, gone.room_id
            survivor.save(update_fields=["site", "room", "updated_at"])
            work_items_end(
                actor=actor, event=Event.ORDER_ROOM, subject_type=ORDER, subject_ids=[survivor.pk], at=now
            )
        QuarantineOrder.objects.filter(follows=gone).exclude(pk=survivor.pk).update(follows=None)
        gone.status, gone.ended_at, gone.room = OrderStatus.CANCELLED, now, None
        gone.note = f"合并入隔离令 #{survivor.pk}"[:500]
        gone.save(update_fields=["status", "ended_at", "room", "note", "updated_at"])
        work_items_end(
            actor=actor, event=Event.ORDER_CANCELLED, subject_type=ORDER, subject_ids=[gone.pk], at=now
        )
        audit_record(
            actor=actor,
            action="quarantine.order.fold",
            target=survivor,
            before={"folded": gone.pk},
            after={"planned_end": survivor.planned_end.isoformat()},
        )
