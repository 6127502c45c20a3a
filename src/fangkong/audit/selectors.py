"""Reading the audit trail: admins and commanders, within their scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from fangkong.audit.models import AuditEvent
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import visible


@dataclass(frozen=True)
class AuditFilters:
    action: str = ""
    actor: str = ""
    target_type: str = ""
    target_id: str = ""
    since: date | None = None
    until: date | None = None


def audit_event_list(*, actor: Any, filters: AuditFilters) -> QuerySet[AuditEvent]:
    """Events in the actor's scope, newest first; ``until`` includes the whole day."""
    qs = visible(actor, AuditEvent.objects.select_related("actor", "org_unit"), perm=Perm.AUDIT_VIEW)
    if filters.action:
        qs = qs.filter(action__startswith=filters.action)
    if filters.actor:
        qs = qs.filter(actor__username=filters.actor)
    if filters.target_type:
        qs = qs.filter(target_type=filters.target_type)
    if filters.target_id:
        qs = qs.filter(target_id=filters.target_id)
    tz = timezone.get_current_timezone()
    if filters.since:
        qs = qs.filter(at__gte=datetime.combine(filters.since, time.min, tzinfo=tz))
    if filters.until:
        qs = qs.filter(at__lte=datetime.combine(filters.until, time.max, tzinfo=tz))
    return qs


def audit_action_names(*, actor: Any) -> list[str]:
    qs = visible(actor, AuditEvent.objects.all(), perm=Perm.AUDIT_VIEW)
    return sorted(set(qs.values_list("action", flat=True).distinct()))
