"""Writing the audit trail. Services call ``audit_record`` inside their transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import models
from django.utils import timezone

from fangkong.audit.models import AuditEvent
from fangkong.common.context import client_ip
from fangkong.common.rows import rows_insert


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
    event = _event(actor=actor, action=action, target=target, before=before, after=after, org_unit=org_unit)
    event.save()
    return event


def audit_record_many(
    *,
    actor: Any,
    action: str,
    targets: Sequence[models.Model],
    after: Callable[[Any], dict[str, Any]] | None = None,
) -> int:
    """One event per target, written at once (imports, batch services); same rules as
    ``audit_record``."""
    return audit_rows(
        actor=actor,
        action=action,
        rows=[
            (t._meta.label_lower, str(t.pk), str(t)[:200], _unit_id(t), after(t) if after else None)
            for t in targets
        ],
    )


def audit_rows(
    *,
    actor: Any,
    action: str,
    rows: Sequence[tuple[str, str, str, int | None, dict[str, Any] | None]],
) -> int:
    """One event per row (target type, target id, target label, owner unit id, after), for
    writers that hold rows rather than instances (``worklist.services.work_items_create``)."""
    if not rows:
        return 0
    now, ip = timezone.now(), client_ip.get()
    actor_id = actor.pk if getattr(actor, "is_authenticated", False) else None
    rows_insert(
        AuditEvent,
        columns=(
            "actor",
            "action",
            "target_type",
            "target_id",
            "target_label",
            "org_unit",
            "after",
            "at",
            "ip",
        ),
        rows=[
            (actor_id, action, kind, pk, label[:200], unit, data, now, ip)
            for kind, pk, label, unit, data in rows
        ],
    )
    return len(rows)


def _event(
    *, actor: Any, action: str, target: models.Model, before: Any, after: Any, org_unit: Any
) -> AuditEvent:
    return AuditEvent(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        target_label=str(target)[:200],
        org_unit_id=org_unit.pk if org_unit is not None else _unit_id(target),
        before=before,
        after=after,
        ip=client_ip.get(),
    )


def _unit_id(target: models.Model) -> int | None:
    """The unit that owns ``target`` (its ``org_unit_id``, read without loading the unit)."""
    unit_id = getattr(target, "org_unit_id", None)
    if unit_id is not None:
        return int(unit_id)
    unit = getattr(target, "org_unit", None)
    return unit.pk if unit is not None else None


def changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the keys whose values differ, as (before, after)."""
    keys = [key for key in after if before.get(key) != after.get(key)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}
