"""A person in quarantine became a case: their orders end, and the work of those orders with them.

Raised by a positive test (``services.lab_result_record``) and by a case registered by hand
(``cases.signals.case_registered``, connected in ``QuarantineConfig.ready``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from django.db.models import Model
from django.utils import timezone

from fangkong.audit.services import audit_record_many
from fangkong.people.models import Person
from fangkong.quarantine.models import LIVE_STATUSES, OrderStatus, QuarantineOrder
from fangkong.worklist.kinds import ORDER, Event
from fangkong.worklist.services import work_items_end


def orders_convert(*, actor: Any, person: Person, case: Any, at: datetime) -> list[QuarantineOrder]:
    """The person became ``case``: every live order of theirs ends as ``converted`` (the one under
    way) or ``cancelled`` (the follow-ons it would have led to), their contacts become the case
    (the chain), and the orders' open work ends with them — in the caller's transaction."""
    live = list(
        QuarantineOrder.objects.select_for_update()
        .filter(person=person, status__in=LIVE_STATUSES)
        .order_by("day_one", "id")
    )
    if not live:
        return []
    active = [o for o in live if o.status == OrderStatus.ACTIVE]
    planned = [o for o in live if o.status == OrderStatus.PLANNED]
    QuarantineOrder.objects.filter(pk__in=[o.pk for o in active]).update(
        status=OrderStatus.CONVERTED, ended_at=at, converted_case=case, updated_at=timezone.now()
    )
    QuarantineOrder.objects.filter(pk__in=[o.pk for o in planned]).update(
        status=OrderStatus.CANCELLED, ended_at=at, updated_at=timezone.now()
    )
    contacts = {o.contact_id for o in live if o.contact_id is not None}
    if contacts:  # the chain: these contacts became a case
        contact_model = cast("type[Model]", QuarantineOrder._meta.get_field("contact").related_model)
        contact_model._default_manager.filter(pk__in=contacts, became_case__isnull=True).update(
            became_case=case, updated_at=timezone.now()
        )
    for orders, event in ((active, Event.ORDER_CONVERTED), (planned, Event.ORDER_CANCELLED)):
        work_items_end(
            actor=actor, event=event, subject_type=ORDER, subject_ids=[o.pk for o in orders], at=at
        )
    audit_record_many(
        actor=actor,
        action="quarantine.order.convert",
        targets=live,
        after=lambda o: {"case": getattr(case, "number", "")},
    )
    return live


def on_case_registered(sender: Any, *, actor: Any, case: Any, **kwargs: Any) -> None:
    """A person became a case (``cases.signals.case_registered``): their live orders convert."""
    orders_convert(actor=actor, person=case.person, case=case, at=case.reported_at)
