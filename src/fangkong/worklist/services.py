"""Writes to the worklist. Later capabilities create items through ``work_item_create``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.audit.services import audit_record, audit_record_many, audit_rows
from fangkong.common.errors import Conflict, Forbidden, Invalid, validated_save
from fangkong.common.rows import rows_insert
from fangkong.orgs.models import Membership, OrgUnit
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can
from fangkong.worklist.kinds import KINDS, REASONS, kinds_ended_by
from fangkong.worklist.models import OPEN_STATUSES, Priority, Status, WorkItem
from fangkong.worklist.signals import items_closed

ITEM_COLUMNS = (
    "kind",
    "title",
    "priority",
    "subject_type",
    "subject_id",
    "org_unit",
    "due_at",
    "status",
    "note",
    "created_at",
    "updated_at",
)
"""The columns ``work_items_create`` writes, in the order of its rows."""


@dataclass(frozen=True)
class NewItem:
    """One item of a batch for ``work_items_create``: a kind of the table, owned by a unit."""

    kind: str
    title: str
    org_unit_id: int
    due_at: datetime
    subject: models.Model | None = None
    priority: str = Priority.NORMAL
    note: str = ""


@transaction.atomic
def work_items_create(*, actor: Any, items: Sequence[NewItem]) -> list[int]:
    """New open items, written at once with one audit event each (``actor`` None: the platform);
    returns their ids, in order.

    Every item's kind must be a row of the table of kinds and its due time must carry a time
    zone; otherwise nothing is written. Rows are written as rows (no model instance each): one
    ``executemany`` for the items and one for their audit events."""
    priorities = frozenset(Priority.values)
    for item in items:
        if timezone.is_naive(item.due_at):
            raise Invalid.field("due_at", _("The due time must carry a time zone."))
        if item.kind not in KINDS:
            raise Invalid.field("kind", _("Unknown kind of work “%(k)s”.") % {"k": item.kind[:64]})
        if item.priority not in priorities:
            raise Invalid.field("priority", _("Unknown priority."))
    now = timezone.now()
    rows = [
        (
            item.kind,
            item.title[:200],
            item.priority,
            item.subject._meta.label_lower if item.subject is not None else "",
            str(item.subject.pk) if item.subject is not None else "",
            item.org_unit_id,
            item.due_at,
            Status.OPEN,
            item.note[:2000],
            now,
            now,
        )
        for item in items
    ]
    ids = rows_insert(
        WorkItem,
        columns=ITEM_COLUMNS,
        rows=rows,
        ids=True,
    )
    label = WorkItem._meta.label_lower
    audit_rows(
        actor=actor,
        action="worklist.item.create",
        rows=[
            (label, str(pk), row[1], row[5], {"kind": row[0], "due_at": row[6].isoformat()})
            for pk, row in zip(ids, rows, strict=True)
        ],
    )
    return ids


@transaction.atomic
def work_item_create(
    *,
    actor: Any,
    kind: str,
    title: str,
    org_unit: OrgUnit,
    due_at: datetime,
    subject: models.Model | None = None,
    priority: str = Priority.NORMAL,
    assignee: Any = None,
    note: str = "",
) -> WorkItem:
    """A new open item owned by ``org_unit``: the batch of one of ``work_items_create``, given to
    ``assignee`` when named. ``actor`` None means the platform created it."""
    if actor is not None and not can(actor, Perm.WORK_CHANGE, org_unit):
        raise Invalid.field("org_unit", _("Unknown org unit, or not one you may give work to."))
    if len(title) > 200 or not title.strip():
        raise Invalid.field("title", _("Give a title of at most 200 characters."))
    if len(note) > 2000:
        raise Invalid.field("note", _("Ensure this value has at most 2000 characters."))
    (pk,) = work_items_create(
        actor=actor,
        items=[
            NewItem(
                kind=kind,
                title=title,
                org_unit_id=org_unit.pk,
                due_at=due_at,
                subject=subject,
                priority=priority,
                note=note,
            )
        ],
    )
    item = WorkItem.objects.get(pk=pk)
    if assignee is not None:
        item.assignee = assignee
        item.save(update_fields=["assignee"])
    return item


def _require_change(actor: Any, item: WorkItem) -> None:
    if not can(actor, Perm.WORK_CHANGE, item.org_unit):
        raise Forbidden(_("Your role may not change this work item."))


def _does_kind(user: Any, item: WorkItem) -> bool:
    """Whether ``user`` holds, over the item's unit, a role that does its kind (the table of kinds);
    taking an item oneself is always allowed to those who may change it."""
    rule = KINDS.get(item.kind)
    if rule is None or getattr(user, "is_superuser", False):
        return True
    roles = {rule.role, *rule.also}
    return Membership.objects.filter(
        user=user, role__in=roles, org_unit__path__in=item.org_unit.lineage_paths
    ).exists()


@transaction.atomic
def work_item_assign(*, actor: Any, item: WorkItem, assignee: Any) -> WorkItem:
    """Give the item to ``assignee`` (who must hold a role over its unit), or take it back (None)."""
    _require_change(actor, item)
    if not item.is_open:
        raise Conflict(_("Cannot assign a work item that is %(s)s.") % {"s": item.get_status_display()})
    if assignee is not None and not can(assignee, Perm.WORK_VIEW, item.org_unit):
        raise Invalid.field(
            "assignee", _("%(u)s does not work in this unit.") % {"u": assignee.get_username()}
        )
    if assignee is not None and assignee != actor and not _does_kind(assignee, item):
        raise Invalid.field(
            "assignee",
            _("%(u)s does not do this kind of work (%(k)s).")
            % {"u": assignee.get_username(), "k": item.kind_label},
        )
    before = item.assignee.get_username() if item.assignee else None
    item.assignee = assignee
    item.status = Status.IN_PROGRESS if assignee is not None else Status.OPEN
    validated_save(item, ["assignee", "status", "updated_at"])
    audit_record(
        actor=actor,
        action="worklist.item.assign",
        target=item,
        before={"assignee": before},
        after={"assignee": assignee.get_username() if assignee else None},
    )
    return item


@transaction.atomic
def work_item_complete(
    *, actor: Any, item: WorkItem, note: str = "", done_at: datetime | None = None
) -> WorkItem:
    """Close an open item as done, with an optional note of what was done: the batch of one of
    ``work_items_complete`` (the same rules), refusing out loud what the batch refuses by count."""
    _require_change(actor, item)
    result = work_items_complete(actor=actor, items=[item], note=note, at=done_at)
    if not result.done:
        item.refresh_from_db()
        raise Conflict(
            _("Cannot complete a work item that is %(from)s; only open items become %(to)s.")
            % {"from": item.get_status_display(), "to": Status.DONE.label}
        )
    done = result.done[0]
    item.status, item.done_at, item.note, item.updated_at = (
        done.status,
        done.done_at,
        done.note,
        done.updated_at,
    )
    return item


@transaction.atomic
def work_item_note(*, actor: Any, item: WorkItem, note: str) -> WorkItem:
    """Add a note to an open item (why it is waiting, who was called) without closing it."""
    _require_change(actor, item)
    text = note.strip()
    if not text:
        raise Invalid.field("note", _("Write the note first."))
    if item.status not in OPEN_STATUSES:
        raise Conflict(
            _("The work item is %(s)s; notes are added to open work.") % {"s": item.get_status_display()}
        )
    item.note = (item.note + "\n" + text).strip()[-2000:]
    validated_save(item, ["note", "updated_at"])
    audit_record(actor=actor, action="worklist.item.note", target=item, after={"note": text[:200]})
    return item


@transaction.atomic
def work_item_cancel(*, actor: Any, item: WorkItem, reason: str) -> WorkItem:
    """Cancel an open item; the reason is required and kept in the note."""
    _require_change(actor, item)
    if not reason.strip():
        raise Invalid.field("reason", _("Say why the work item is cancelled."))
    if item.status not in OPEN_STATUSES:
        raise Conflict(
            _("Cannot cancel a work item that is %(from)s; only open items become %(to)s.")
            % {"from": item.get_status_display(), "to": Status.CANCELLED.label}
        )
    item.status = Status.CANCELLED
    item.done_at = timezone.now()
    item.note = (item.note + "\n" + reason.strip()).strip()
    validated_save(item, ["status", "done_at", "note", "updated_at"])
    audit_record(
        actor=actor, action="worklist.item.cancel", target=item, after={"reason": reason.strip()[:200]}
    )
    items_closed.send(sender=WorkItem, items=[item])
    return item


def user_by_username(username: str) -> Any:
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise Invalid.field("assignee", _("No user named “%(u)s”.") % {"u": username})
    return user


def _close(items: list[WorkItem], *, status: str, at: datetime, note: str, actor: Any, action: str) -> None:
    """Close ``items`` (open ones, already read) in one UPDATE, one audit event each in bulk."""
    if not items:
        return
    text, now = note.strip(), timezone.now()
    for item in items:
        item.status, item.done_at, item.updated_at = status, at, now
        if text:
            item.note = (item.note + "\n" + text).strip()[:2000]
    WorkItem.objects.bulk_update(items, ["status", "done_at", "note", "updated_at"], batch_size=500)
    audit_record_many(
        actor=actor, action=action, targets=items, after=lambda i: {"status": i.status, "note": text[:200]}
    )
    items_closed.send(sender=WorkItem, items=items)


@transaction.atomic
def work_items_end(
    *,
    actor: Any,
    event: str,
    subject_type: str,
    subject_ids: Iterable[int | str],
    at: datetime | None = None,
    due_on: date | None = None,
    due_after: datetime | None = None,
    due_before: datetime | None = None,
    note_startswith: str = "",
    reason: str = "",
) -> int:
    """End the open items that ``event`` ends (by the table in ``worklist.kinds``) for the subjects
    given: ``done`` or ``cancelled`` as the table says, with the event's words in the note.

    One query looks for the items, one reads them locked, one writes them, one writes their audit
    events, whatever the number of subjects (the first alone when there are none). ``due_on`` narrows to the items due that day (the one test of an order);
    ``due_after`` / ``due_before`` to those due after / before a moment (an order shortened, or
    starting later). The rule closes them, whoever
    triggered it, so no worklist permission is asked of ``actor``.
    """
    ends = kinds_ended_by(event=event, subject_type=subject_type)
    ids = sorted({str(pk) for pk in subject_ids})
    if not ends or not ids:
        return 0
    items = WorkItem.objects.filter(
        kind__in=list(ends), subject_type=subject_type, subject_id__in=ids, status__in=OPEN_STATUSES
    )
    if due_on is not None:
        tz = timezone.get_current_timezone()
        items = items.filter(
            due_at__gte=datetime.combine(due_on, time.min, tzinfo=tz),
            due_at__lte=datetime.combine(due_on, time.max, tzinfo=tz),
        )
    if due_after is not None:
        items = items.filter(due_at__gt=due_after)
    if due_before is not None:
        items = items.filter(due_at__lt=due_before)
    if note_startswith:  # the item of one day (a missing check names its day first in its note)
        items = items.filter(note__startswith=note_startswith)
    if not items.exists():  # the common case (a swab with no home sample asked): no locked read
        return 0
    found = list(items.select_related("org_unit").select_for_update(of=("self",)).order_by("pk"))
    _end_by_rule(found, ends=ends, event=event, actor=actor, at=at, reason=reason)
    return len(found)


def _end_by_rule(
    items: list[WorkItem], *, ends: dict[str, str], event: str, actor: Any, at: datetime | None, reason: str
) -> None:
    note = " ".join(filter(None, [str(REASONS.get(event, "")), reason.strip()]))
    moment = at or timezone.now()
    for status in (Status.DONE, Status.CANCELLED):
        chosen = [i for i in items if ends.get(i.kind) == status]
        action = "worklist.item.done_by_rule" if status == Status.DONE else "worklist.item.cancel_by_rule"
        _close(chosen, status=status, at=moment, note=note, actor=actor, action=action)


@transaction.atomic
def work_items_close(*, actor: Any, item_ids: list[int], event: str, reason: str = "") -> int:
    """End the open items ``item_ids`` because ``event`` happened to their subjects (a repair by
    ``check-work``): each ends done or cancelled as the table says for its kind; items whose kind
    ``event`` does not end are left as they are."""
    items = list(
        WorkItem.objects.select_related("org_unit")
        .select_for_update(of=("self",))
        .filter(pk__in=item_ids, status__in=OPEN_STATUSES)
        .order_by("pk")
    )
    ends = {
        i.kind: KINDS[i.kind].ends[event] for i in items if i.kind in KINDS and event in KINDS[i.kind].ends
    }
    items = [i for i in items if i.kind in ends]
    _end_by_rule(items, ends=ends, event=event, actor=actor, at=None, reason=reason)
    return len(items)


@transaction.atomic
def work_items_move(*, actor: Any, subject_type: str, from_id: int | str, to_id: int | str) -> int:
    """Point the items about one subject at another (a person's records merged), open and closed;
    each move is audited."""
    items = list(WorkItem.objects.filter(subject_type=subject_type, subject_id=str(from_id)))
    if not items:
        return 0
    WorkItem.objects.filter(pk__in=[i.pk for i in items]).update(
        subject_id=str(to_id), updated_at=timezone.now()
    )
    audit_record_many(
        actor=actor,
        action="worklist.item.move",
        targets=items,
        after=lambda i: {"from": str(from_id), "to": str(to_id)},
    )
    return len(items)


@dataclass(frozen=True)
class BulkCompleted:
    """What a bulk completion did: the items done, and how many it refused and why."""

    done: list[WorkItem]
    not_allowed: int  # the actor's role may not change work in the item's unit
    already_closed: int  # done or cancelled before (by hand, or by a rule when its subject ended)


@transaction.atomic
def work_items_complete(
    *, actor: Any, items: Iterable[WorkItem], note: str = "", at: datetime | None = None
) -> BulkCompleted:
    """Close ``items`` as done with one note, refusing (by count) those the actor may not change
    and those already closed; the rest are done together.

    The items are read again, locked, in one query (their status may have changed since the page
    showed them), then closed in one UPDATE with one audit event each, written in bulk: the number
    of queries does not grow with the number of items.
    """
    ids = sorted({item.pk for item in items})
    found = list(
        WorkItem.objects.filter(pk__in=ids)
        .select_related("org_unit")
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    allowed = [item for item in found if can(actor, Perm.WORK_CHANGE, item.org_unit)]
    done = [item for item in allowed if item.status in OPEN_STATUSES]
    _close(
        done,
        status=Status.DONE,
        at=at or timezone.now(),
        note=note,
        actor=actor,
        action="worklist.item.complete",
    )
    return BulkCompleted(
        done=done, not_allowed=len(ids) - len(allowed), already_closed=len(allowed) - len(done)
    )
