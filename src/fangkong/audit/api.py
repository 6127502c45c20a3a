"""API of the audit trail (admins and commanders, within scope)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from fangkong.audit.models import AuditEvent
from fangkong.audit.selectors import AuditFilters, audit_event_list
from fangkong.common.api import Day, PageNumber, PageOut, actor_of, page_out
from fangkong.common.pagination import paginate

router = Router()


class AuditEventOut(Schema):
    id: int
    at: datetime
    actor: str | None
    action: str
    target_type: str
    target_id: str
    target_label: str
    org_unit_id: int | None
    before: Any = None
    after: Any = None
    ip: str | None

    @staticmethod
    def resolve_actor(obj: AuditEvent) -> str | None:
        return obj.actor.get_username() if obj.actor else None


@router.get("/events", response=PageOut[AuditEventOut])
def event_list(
    request: HttpRequest,
    action: str = "",
    actor: str = "",
    target_type: str = "",
    target_id: str = "",
    since: Day | None = None,
    until: Day | None = None,
    page: PageNumber = 1,
) -> Any:
    filters = AuditFilters(
        action=action, actor=actor, target_type=target_type, target_id=target_id, since=since, until=until
    )
    return page_out(paginate(audit_event_list(actor=actor_of(request), filters=filters), page=page))
