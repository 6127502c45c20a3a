"""Reading the outbox: within the viewer's units (``people.view``), newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from fangkong.notify.models import OutboxMessage
from fangkong.notify.phones import phone_key, sms_number
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import visible, visible_get


@dataclass(frozen=True)
class OutboxFilters:
    status: str = ""
    template: str = ""
    day: date | None = None  # queued that local day
    phone: str = ""  # a whole number, matched exactly (by its blind index)


def outbox_list(*, actor: Any, filters: OutboxFilters) -> QuerySet[OutboxMessage]:
    """Messages of the actor's units, newest first. A phone that is not a whole mobile number
    matches nothing (there is no partial search over encrypted numbers)."""
    qs = visible(
        actor,
        OutboxMessage.objects.select_related("org_unit", "person", "created_by"),
        perm=Perm.PEOPLE_VIEW,
    ).order_by("-created_at", "-id")
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.template:
        qs = qs.filter(template=filters.template)
    if filters.day:
        start = timezone.make_aware(datetime.combine(filters.day, time.min))
        qs = qs.filter(created_at__gte=start, created_at__lt=start + timedelta(days=1))
    if filters.phone.strip():
        number = sms_number(filters.phone)
        qs = qs.filter(phone_index=phone_key(number)) if number else qs.none()
    return qs


def outbox_get(*, actor: Any, message_id: int) -> OutboxMessage:
    """One message in the actor's scope; ``NotFound`` otherwise."""
    return visible_get(
        actor,
        OutboxMessage.objects.select_related("org_unit", "person"),
        perm=Perm.PEOPLE_VIEW,
        pk=message_id,
        what="message",
    )
