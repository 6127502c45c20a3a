"""Writing the audit trail. Services call ``audit_record`` inside their transaction."""

from __future__ import annotations

from typing import Any

from django.db import models

from fangkong.audit.models import AuditEvent
from fangkong.common.context import client_ip


def audit_record(
    *,
    actor: Any,
    action: str,
    target: models.Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    org_unit: Any = None,
) -> AuditEvent:
    """Record that ``actor`` did ``action`` to ``target``.

    The owning org unit is the target's own ``org_unit`` unless given, so the event is scoped
    like its target. Values in ``before``/``after`` must already be masked where they are PII.
    """
    unit = org_unit if org_unit is not None else getattr(target, "org_unit", None)
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        target_label=str(target)[:200],
        org_unit=unit,
        before=before,
        after=after,
        ip=client_ip.get(),
    )


def changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the keys whose values differ, as (before, after)."""
    keys = [key for key in after if before.get(key) != after.get(key)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}
