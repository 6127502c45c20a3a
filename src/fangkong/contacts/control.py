"""When contacts came under control, kept on the records so that the KPI is a plain count.

Rules:

- A confirmed close contact is **under control** when the first step of its quarantine is done:
  the transfer to a site (centralised) or the delivery of the notice (home) — the work item made
  with the contact's first order — or when the person became a case before it was (the order was
  converted and the step cancelled with it: the person is isolated as a case from then). While
  that item is open, or when it was cancelled for any other reason, the contact is not under
  control. A contact who got no first step (the person was already in quarantine and
  the live order was extended) is under control when confirmed. ``Contact.controlled_at`` holds
  the time; it is empty for proposed, dismissed and secondary contacts.
- A **case's close contacts are under control** when it has at least one confirmed close contact
  and every one of them is: ``Case.contacts_controlled_at`` is the latest of their times, empty
  until then (a case with no confirmed close contact stays empty).

Both are refreshed by the services that change what they depend on: a contact confirmed (with its
orders), and a first-step work item closed (``worklist.signals.item_closed``). Each refresh is one
set-wise ``UPDATE`` per table, for one contact or for the whole register (the migration that added
the field, and bulk loads).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connection

from fangkong.worklist.models import Status

FIRST_STEPS = ("quarantine.transfer", "quarantine.notice")
ORDER_LABEL = "quarantine.quarantineorder"

CONTACT_SQL = """
UPDATE {contact} SET controlled_at = CASE WHEN kind = %s AND status = %s THEN (
    SELECT CASE WHEN COUNT(w.id) = 0 THEN {contact}.decided_at
                WHEN COUNT(w.id) = COUNT(CASE WHEN w.status = %s OR (w.status = %s AND o.status = %s)
                                              THEN 1 END) THEN MAX(w.done_at) END
    FROM {order} o
    JOIN {item} w ON w.subject_id = CAST(o.id AS VARCHAR(64)) AND w.kind IN (%s, %s)
                 AND w.subject_type = %s
    WHERE o.contact_id = {contact}.id
) END
"""

CASE_SQL = """
UPDATE {case} SET contacts_controlled_at = (
    SELECT CASE WHEN COUNT(*) > 0 AND COUNT(*) = COUNT(k.controlled_at) THEN MAX(k.controlled_at) END
    FROM {contact} k
    WHERE k.source_case_id = {case}.id AND k.kind = %s AND k.status = %s
)
"""


def _tables() -> dict[str, str]:
    from fangkong.cases.models import Case
    from fangkong.contacts.models import Contact
    from fangkong.quarantine.models import QuarantineOrder
    from fangkong.worklist.models import WorkItem

    return {
        "case": Case._meta.db_table,
        "contact": Contact._meta.db_table,
        "order": QuarantineOrder._meta.db_table,
        "item": WorkItem._meta.db_table,
    }


def _where(column: str, ids: list[int] | None) -> tuple[str, list[int]]:
    if ids is None:
        return "", []
    return f" WHERE {column} IN ({', '.join(['%s'] * len(ids))})", ids


def control_refresh(*, contact_ids: Iterable[int] | None, case_ids: Iterable[int] | None) -> None:
    """Recompute ``controlled_at`` of the contacts and ``contacts_controlled_at`` of the cases
    given (``None``: all of them; an empty list: none) by the rules of the module. The cases given
    are locked first (inside the caller's transaction): two changes to one case's contacts at the
    same moment cannot leave it with a value computed from a view that missed the other."""
    from fangkong.cases.models import Case
    from fangkong.contacts.models import ContactKind, ContactStatus
    from fangkong.quarantine.models import OrderStatus

    tables = _tables()
    contacts = None if contact_ids is None else sorted(set(contact_ids))
    cases = None if case_ids is None else sorted(set(case_ids))
    if cases:  # one refresh of a case at a time, each reading what the one before committed
        list(
            Case.objects.select_for_update().filter(pk__in=cases).order_by("pk").values_list("pk", flat=True)
        )
    with connection.cursor() as cursor:
        if contacts is None or contacts:
            where, params = _where("id", contacts)
            cursor.execute(
                CONTACT_SQL.format(**tables) + where,
                [
                    ContactKind.CLOSE,
                    ContactStatus.CONFIRMED,
                    Status.DONE,
                    Status.CANCELLED,
                    OrderStatus.CONVERTED,
                    *FIRST_STEPS,
                    ORDER_LABEL,
                    *params,
                ],
            )
        if cases is None or cases:
            where, params = _where("id", cases)
            cursor.execute(
                CASE_SQL.format(**tables) + where, [ContactKind.CLOSE, ContactStatus.CONFIRMED, *params]
            )


def on_items_closed(sender: Any, *, items: list[Any], **kwargs: Any) -> None:
    """First steps done or cancelled: their contacts (and those contacts' cases) are refreshed, in
    one query for the set."""
    from fangkong.contacts.models import Contact

    orders = [
        int(item.subject_id)
        for item in items
        if item.kind in FIRST_STEPS and item.subject_type == ORDER_LABEL and item.subject_id.isdigit()
    ]
    if not orders:
        return
    rows = list(Contact.objects.filter(orders__pk__in=orders).values_list("pk", "source_case_id").distinct())
    control_refresh(contact_ids=[pk for pk, _case in rows], case_ids=[case for _pk, case in rows])
