"""The lab at scale: the tests due, results in bulk, and the audited correction of a result.

Reads (``tests_due``, ``unit_suggestions``) pass through the scoping function. Writes are set-wise
for negative results — one read, one bulk update, one ``work_items_end`` per test date, one batch of
audit events, whatever the number of tests — and one by one for positive results, since each one
registers a suspected case through ``services.lab_result_record``. Tests that cannot take the result
are refused by count with the reason, never silently.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fangkong.audit.services import audit_record, audit_record_many
from fangkong.common.errors import Conflict, Forbidden, Invalid, NotFound
from fangkong.orgs.models import OrgUnit
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can, visible
from fangkong.people.idnumbers import normalize_document
from fangkong.people.masking import mask_name
from fangkong.people.services import id_index
from fangkong.quarantine import services
from fangkong.quarantine.models import (
    LabResultImport,
    OrderStatus,
    QuarantineOrder,
    Site,
    TestAppointment,
    TestResult,
)
from fangkong.quarantine.orders import SAMPLING_HOUR
from fangkong.worklist.kinds import ORDER, Event
from fangkong.worklist.services import work_item_create, work_items_end

MAX_BATCH = 1000
# Why a test in a batch was not given the result (the keys are also the API's words).
REFUSALS = {
    "unknown": gettext_lazy("unknown or outside your area"),
    "resulted": gettext_lazy("already resulted"),
    "not_due": gettext_lazy("not yet due"),
    "not_active": gettext_lazy("order not active"),
}
SORTS = {
    "date": ("date", "order__org_unit__path", "id"),
    "-date": ("-date", "order__org_unit__path", "-id"),
    "grid": ("order__org_unit__path", "date", "id"),
    "site": ("order__site__name", "date", "id"),
    "person": ("order__person__name", "date", "id"),
}


# --- reads -------------------------------------------------------------------------------------


def tests_due(
    *,
    actor: Any,
    on: date,
    only_day: bool = False,
    site_id: int | None = None,
    unit: OrgUnit | None = None,
    q: str = "",
    sort: str = "date",
) -> QuerySet[TestAppointment]:
    """Pending tests of active orders due on ``on`` and, unless ``only_day``, those overdue before it.

    ``q`` finds an order by its number (digits), a person by the full ID number, or by a part of
    the name; ``unit`` keeps its subtree (the order's grid), ``site_id`` one quarantine site.
    """
    qs = visible(
        actor,
        TestAppointment.objects.select_related(
            "order__person", "order__org_unit", "order__site", "order__room"
        ),
        perm=Perm.QUARANTINE_VIEW,
    ).filter(result=TestResult.PENDING, order__status=OrderStatus.ACTIVE)
    qs = qs.filter(date=on) if only_day else qs.filter(date__lte=on)
    if site_id is not None:
        qs = qs.filter(order__site_id=site_id)
    if unit is not None:
        qs = qs.filter(order__org_unit__path__startswith=unit.path)
    q = q.strip()
    if q:
        qs = qs.filter(_search(q))
    return qs.order_by(*SORTS.get(sort, SORTS["date"]))


def _search(q: str) -> Q:
    if q.isdigit() and len(q) <= 12:
        return Q(order_id=int(q))
    if len(normalize_document(q)) == 18:
        return Q(
            order__person__id_type="resident_id",
            order__person__id_number_index=id_index(id_type="resident_id", number=q),
        )
    return Q(order__person__name__contains=q[:50])


def sites_for(*, actor: Any) -> QuerySet[Site]:
    return visible(actor, Site.objects.all(), perm=Perm.QUARANTINE_VIEW).order_by("name")


def unit_find(*, actor: Any, text: str) -> OrgUnit | None:
    """The unit in scope whose code is ``text``, else the first whose name contains it."""
    text = text.strip()[:100]
    if not text:
        return None
    units = visible(actor, OrgUnit.objects.all(), perm=Perm.QUARANTINE_VIEW)
    return units.filter(code=text).first() or units.filter(name__contains=text).order_by("path").first()


def unit_suggestions(*, actor: Any, text: str, limit: int = 15) -> list[OrgUnit]:
    """Units in scope for the type-ahead: code prefix or a part of the name (with the two units
    above each, so that 128 grids named 第1网格 can be told apart)."""
    text = text.strip()[:100]
    if not text:
        return []
    units = visible(actor, OrgUnit.objects.all(), perm=Perm.QUARANTINE_VIEW)
    found = units.filter(Q(code__startswith=text) | Q(name__contains=text)).select_related("parent__parent")
    return list(found.order_by("path")[:limit])


def lab_import_list(*, actor: Any) -> QuerySet[LabResultImport]:
    """Result imports in scope, and the actor's own, newest first."""
    mine = LabResultImport.objects.filter(created_by=actor)
    return (visible(actor, LabResultImport.objects.all(), perm=Perm.QUARANTINE_VIEW) | mine).order_by(
        "-created_at", "-id"
    )


def lab_import_get(*, actor: Any, import_id: int) -> LabResultImport:
    found = lab_import_list(actor=actor).select_related("created_by").filter(pk=import_id).first()
    if found is None:
        raise NotFound("lab import")
    return found


# --- writes ------------------------------------------------------------------------------------


@dataclass
class LabBatch:
    """What a batch did: the tests given the result, the cases registered, refusals by reason."""

    result: str
    recorded: list[TestAppointment] = field(default_factory=list)
    cases: list[Any] = field(default_factory=list)
    refused: Counter[str] = field(default_factory=Counter)

    def refusals(self) -> list[tuple[str, int]]:
        """(reason in words, count), in the order of ``REFUSALS``."""
        return [(str(REFUSALS[key]), self.refused[key]) for key in REFUSALS if self.refused[key]]


def _sort_out(actor: Any, ids: list[int], at: datetime, batch: LabBatch) -> list[TestAppointment]:
    """Read the tests the actor may change (one query), count the others as refused by reason."""
    found = list(
        visible(actor, TestAppointment.objects.filter(pk__in=ids), perm=Perm.QUARANTINE_CHANGE)
        .select_related("order__person", "order__org_unit")
        .select_for_update(of=("self",))
    )
    if len(found) < len(ids):
        batch.refused["unknown"] += len(ids) - len(found)
    accepted = []
    for test in found:
        refusal = services.result_refusal(test=test, order=test.order, at=at)
        if refusal:
            batch.refused[refusal] += 1
        else:
            accepted.append(test)
    return accepted


def negatives_write(*, actor: Any, rows: list[tuple[TestAppointment, datetime]]) -> None:
    """Write negative results for tests already checked (see ``results_write``)."""
    results_write(actor=actor, rows=rows, result=TestResult.NEGATIVE)


def results_write(*, actor: Any, rows: list[tuple[TestAppointment, datetime]], result: str) -> None:
    """Write ``result`` for tests already checked (pending, active order, due), in the caller's
    transaction: one bulk update, one ``work_items_end`` per test date, one batch of audit events.
    The orders are locked first so that none is converted underneath. (A positive result's case
    is registered by the caller's rule, which converts the order.)"""
    if not rows:
        return
    order_ids = sorted({test.order_id for test, _at in rows})
    list(QuarantineOrder.objects.select_for_update().filter(pk__in=order_ids).values_list("pk", flat=True))
    for test, at in rows:
        test.result, test.result_at = result, at
    TestAppointment.objects.bulk_update([t for t, _at in rows], ["result", "result_at"], batch_size=500)
    by_date: dict[date, list[tuple[TestAppointment, datetime]]] = defaultdict(list)
    for test, at in rows:
        by_date[test.date].append((test, at))
    for day, group in sorted(by_date.items()):
        work_items_end(
            actor=actor,
            event=Event.TEST_RESULTED,
            subject_type=ORDER,
            subject_ids=[t.order_id for t, _at in group],
            at=max(at for _t, at in group),
            due_on=day,
            reason=str(TestResult(result).label),
        )
    dates = iter([t.date.isoformat() for t, _at in rows])
    audit_record_many(
        actor=actor,
        action=f"quarantine.test.{result}",
        targets=[t.order for t, _at in rows],
        after=lambda _order: {"date": next(dates)},
    )


def tests_of_swabs(*, swabs: Sequence[tuple[int, date]]) -> dict[tuple[int, date], TestAppointment]:
    """The pending tests that swabs taken from quarantined people stand for: by (person, day
    sampled), the test of that day of the person's active order (one query; locked). A swab
    of mass testing in a single tube is the order's test of the day (the same tube, the same
    result)."""
    if not swabs:
        return {}
    people, days = {person for person, _day in swabs}, {day for _person, day in swabs}
    tests = (
        TestAppointment.objects.filter(
            order__person_id__in=people,
            order__status=OrderStatus.ACTIVE,
            date__in=days,
            result=TestResult.PENDING,
        )
        .select_related("order")
        .select_for_update(of=("self",))
    )
    wanted = set(swabs)
    return {(t.order.person_id, t.date): t for t in tests if (t.order.person_id, t.date) in wanted}


@transaction.atomic
def lab_results_record(
    *, actor: Any, appointment_ids: list[int], result: str, at: datetime | None = None
) -> LabBatch:
    """Record one result for a set of tests (the batch of one is a single result).

    A test takes it when the actor may change its order, it is still pending, its order is active
    and its day has come; every other test is refused and counted by reason. Negative results are
    written set-wise; each positive one registers a suspected case and converts the order, through
    ``services.lab_result_record``.
    """
    if result not in (TestResult.NEGATIVE, TestResult.POSITIVE):
        raise Invalid.field("result", _("A result is negative or positive."))
    if not can(actor, Perm.QUARANTINE_CHANGE):
        raise Forbidden(_("Your role may not record test results."))
    ids = sorted({int(pk) for pk in appointment_ids if 0 < int(pk) < 2**63})
    if not ids:
        raise Invalid.field("tests", _("Tick at least one test."))
    if len(ids) > MAX_BATCH:
        raise Invalid.field("tests", _("At most %(n)d tests at a time.") % {"n": MAX_BATCH})
    at = at or timezone.now()
    if at > timezone.now():
        raise Invalid.field("result_at", _("The time is in the future."))
    batch = LabBatch(result=result)
    accepted = _sort_out(actor, ids, at, batch)
    if result == TestResult.NEGATIVE:
        negatives_write(actor=actor, rows=[(test, at) for test in accepted])
        batch.recorded = accepted
        return batch
    for test in accepted:
        try:
            services.lab_result_record(actor=actor, appointment=test, result=result, at=at)
        except (Conflict, Invalid):  # e.g. the person's other order was converted a moment ago
            batch.refused["not_active"] += 1
            continue
        order = QuarantineOrder.objects.select_related("converted_case").get(pk=test.order_id)
        batch.recorded.append(test)
        if order.converted_case is not None and order.converted_case not in batch.cases:
            batch.cases.append(order.converted_case)
    return batch


@transaction.atomic
def lab_result_correct(
    *, actor: Any, appointment: TestAppointment, result: str, reason: str
) -> TestAppointment:
    """Correct a result already entered, with a reason; audited (before and after).

    A negative result may go back to pending (entered by mistake: the day's sampling item is made
    again) or become positive (the person is then registered as a suspected case, as for any
    positive result). A positive result that registered a case is not corrected here: the case is
    excluded by an epidemiologist, which ends what it started.
    """
    order = services._lock(appointment.order)
    services.require_change(actor, order)
    test = TestAppointment.objects.select_for_update().get(pk=appointment.pk)
    reason = reason.strip()[:200]
    if not reason:
        raise Invalid.field("reason", _("Say why the result is corrected."))
    if test.result == TestResult.POSITIVE:
        case = order.converted_case
        raise Conflict(
            _(
                "This positive result registered case %(c)s; exclude the case instead of correcting the result."
            )
            % {"c": getattr(case, "number", "—")}
        )
    if test.result == TestResult.PENDING:
        raise Conflict(_("This test has no result yet; record it instead of correcting it."))
    if result not in (TestResult.PENDING, TestResult.POSITIVE):
        raise Invalid.field("result", _("A negative result can be corrected to pending or positive."))
    if order.status != OrderStatus.ACTIVE:
        raise Conflict(
            _("Results are corrected for active orders; this one is %(s)s.")
            % {"s": order.get_status_display()}
        )
    before = {"result": test.result, "result_at": test.result_at.isoformat() if test.result_at else None}
    test.result, test.result_at = TestResult.PENDING, None
    test.save(update_fields=["result", "result_at"])
    audit_record(
        actor=actor,
        action="quarantine.test.correct",
        target=order,
        before={"date": test.date.isoformat(), **before},
        after={"date": test.date.isoformat(), "result": result, "reason": reason},
    )
    if result == TestResult.POSITIVE:
        return services.lab_result_record(actor=actor, appointment=test, result=result)
    work_item_create(  # the platform's item, as when the order was made: the lab may not give work
        actor=None,
        kind="quarantine.sample",
        subject=order,
        org_unit=order.org_unit,
        title=_("Take a sample: %(p)s, day %(d)d") % {"p": mask_name(order.person.name), "d": test.day},
        due_at=timezone.make_aware(datetime.combine(test.date, SAMPLING_HOUR)),
    )
    return test
