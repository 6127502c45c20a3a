"""The worklist's invariant, runnable on any database: ``fangkong check-work``.

Two kinds of exception break it:

- **stale**: an open item whose subject no longer needs it — the event that should have ended it
  (by the table in ``worklist.kinds``) has happened, e.g. a sampling item of a released order;
- **missing**: a live subject without the item it needs, e.g. a pending test day of a live order
  with no sampling item, an open case never investigated with no investigation item.

Each domain app registers a ``WorkCheck`` for the subjects it owns (in its ``AppConfig.ready``);
the worklist cannot read their models itself (the layers point one way). ``--fix`` ends the stale
items through the same rule as the services (done or cancelled as the table says, audited), and
asks the owning check to create the missing ones.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.db import transaction

from fangkong.worklist.kinds import REASONS
from fangkong.worklist.models import OPEN_STATUSES, WorkItem

STALE, MISSING = "stale", "missing"


@dataclass(frozen=True)
class Finding:
    """One exception to the invariant: what is wrong, about which subject, and why."""

    problem: str  # STALE or MISSING
    kind: str
    subject_type: str
    subject_id: str
    why: str
    item_id: int | None = None  # the stale item
    event: str = ""  # the event that should have ended it (stale)
    # how to repair it when ending the item by its event is not the way (a missing item to make)
    repair: Callable[[], Any] | None = field(default=None, compare=False, repr=False)


class WorkCheck(Protocol):
    """The rules of one app's subjects: ``find`` returns every exception among them."""

    def __call__(self) -> list[Finding]: ...


CHECKS: dict[str, WorkCheck] = {}


def register_check(name: str, check: WorkCheck) -> None:
    """Add (or replace) the check of an app's subjects."""
    CHECKS[name] = check


def open_items_about(subject_type: str, kinds: list[str] | None = None) -> list[WorkItem]:
    """The open items about subjects of one type (for a check to judge), in one query."""
    items = WorkItem.objects.filter(subject_type=subject_type, status__in=OPEN_STATUSES)
    if kinds is not None:
        items = items.filter(kind__in=kinds)
    return list(
        items.only("id", "kind", "subject_type", "subject_id", "due_at", "status", "note").order_by("id")
    )


def stale(item: WorkItem, event: str) -> Finding:
    return Finding(
        problem=STALE,
        kind=item.kind,
        subject_type=item.subject_type,
        subject_id=item.subject_id,
        why=str(REASONS.get(event, event)),
        item_id=item.pk,
        event=event,
    )


def work_check() -> list[Finding]:
    """Every exception to the invariant in the database, check by check."""
    return [finding for name in sorted(CHECKS) for finding in CHECKS[name]()]


@transaction.atomic
def work_fix(*, actor: Any, findings: list[Finding]) -> dict[str, int]:
    """Repair ``findings``: stale items end as the table says for their event (one batch per event,
    audited as the services do), the others by their own ``repair`` (a missing item created).
    Returns the counts."""
    from fangkong.worklist.services import work_items_close

    by_event: dict[str, list[int]] = defaultdict(list)
    created = 0
    for finding in findings:
        if finding.repair is not None:  # a missing item made, or items moved to where they belong
            finding.repair()
            created += 1
        elif finding.problem == STALE and finding.item_id is not None:
            by_event[finding.event].append(finding.item_id)
    closed = sum(
        work_items_close(actor=actor, item_ids=ids, event=event, reason="check-work")
        for event, ids in by_event.items()
    )
    return {"closed": closed, "repaired": created}
