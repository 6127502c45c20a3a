"""A lab's result file, imported in the background: valid rows are recorded, every bad row is named.

Unlike the registry imports (all rows or none), a result file is a day's work of a lab: a bad row
must not hold back the results of the others, so the valid rows are recorded and each bad one is
reported with its row and column and written not at all. The same file sent twice changes nothing:
a row that repeats a result already recorded is noted as such; a row that gives a *different*
result for a test already resulted is refused — that needs an explicit, audited correction
(``lab.lab_result_correct``).

A row is mapped to its tests by a *row-key resolver*: by the order number shown on the staff pages
or by the person's ID number today; the mass-testing importer adds a tube barcode resolver (one
tube, many people) to ``RESOLVERS`` without touching the rest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.audit.services import audit_record
from fangkong.cases.investigations import parse_local_time
from fangkong.common.errors import Conflict, Forbidden, Invalid
from fangkong.common.leases import Lease, lease_fence
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can, scope_roots
from fangkong.people.imports import import_error, import_finish, upload_check
from fangkong.people.models import ImportStatus
from fangkong.people.spreadsheets import SpreadsheetError, read_sheet
from fangkong.quarantine import lab, services
from fangkong.quarantine.lab_rows import RESOLVERS, RowError, RowKeyResolver, chunks, plain_text
from fangkong.quarantine.models import (
    LabResultImport,
    OrderStatus,
    QuarantineOrder,
    TestAppointment,
    TestResult,
)

COLUMNS: dict[str, tuple[str, ...]] = {
    "order": ("隔离令编号", "隔离令号", "order", "order_number", "order_no"),
    "id_type": ("证件类型", "id_type"),
    "id_number": ("证件号码", "身份证号", "身份证号码", "id_number"),
    "name": ("姓名", "name"),  # read for the people checking the file, not for matching
    "date": ("检测日期", "采样日期", "test_date", "date"),
    "result": ("检测结果", "结果", "result"),
    "result_at": ("结果时间", "报告时间", "result_at", "result_time"),
}
REQUIRED = ("date", "result")
TEMPLATE_HEADER = ["隔离令编号", "证件号码", "姓名", "检测日期", "检测结果", "结果时间"]
RESULT_WORDS = {
    "阴性": TestResult.NEGATIVE,
    "阴": TestResult.NEGATIVE,
    "negative": TestResult.NEGATIVE,
    "neg": TestResult.NEGATIVE,
    "-": TestResult.NEGATIVE,
    "阳性": TestResult.POSITIVE,
    "阳": TestResult.POSITIVE,
    "positive": TestResult.POSITIVE,
    "pos": TestResult.POSITIVE,
    "+": TestResult.POSITIVE,
}
DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")
PROGRESS_EVERY = 200


# --- one row -------------------------------------------------------------------------------------


def _date(raw: str) -> date:
    match = DATE.match(plain_text(raw))
    try:
        if match is None:
            raise ValueError
        day = date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise RowError("date", _("Type the test date as 2022-05-03.")) from None
    if not 2000 <= day.year <= 2100:
        raise RowError("date", _("The test date %(d)s is out of range.") % {"d": day.isoformat()})
    return day


def _result(raw: str) -> str:
    found = RESULT_WORDS.get(plain_text(raw).lower())
    if found is None:
        raise RowError("result", _("A result is 阴性 or 阳性 (negative or positive)."))
    return str(found)


def _result_at(raw: str, *, day: date, now: datetime) -> datetime:
    text = plain_text(raw)
    if not text:
        return now
    if not re.match(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}$", text) or not 2000 <= int(text[:4]) <= 2100:
        raise RowError("result_at", _("Type the time as 2022-05-03 14:30."))
    try:
        at = parse_local_time(text, field="result_at")
    except Invalid:
        raise RowError("result_at", _("Type the time as 2022-05-03 14:30.")) from None
    if at > now:
        raise RowError("result_at", _("The time is in the future."))
    if timezone.localdate(at) < day:
        raise RowError("result_at", _("The result time is before the test date."))
    return at


@dataclass
class _Checked:
    writes: dict[int, tuple[int, TestAppointment, str, datetime]] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)


def _tests_of(
    orders: list[QuarantineOrder], day: date, tests: dict[tuple[int, date], TestAppointment]
) -> Any:
    found = [tests[(o.pk, day)] for o in orders if (o.pk, day) in tests]
    if found:
        return found
    if len(orders) == 1:
        order = orders[0]
        if not order.day_one <= day <= order.last_day:
            raise RowError(
                "date",
                _("%(d)s is outside order %(o)d (%(a)s to %(b)s).")
                % {
                    "d": day.isoformat(),
                    "o": order.pk,
                    "a": order.day_one.isoformat(),
                    "b": order.last_day.isoformat(),
                },
            )
        raise RowError("date", _("Order %(o)d has no test on %(d)s.") % {"o": order.pk, "d": day.isoformat()})
    raise RowError("date", _("This person has no test on %(d)s.") % {"d": day.isoformat()})


def _check_rows(job: LabResultImport, sheet: Any) -> _Checked:
    actor, now = job.created_by, timezone.now()
    values_only = [values for _row, values in sheet.rows]
    resolvers: list[RowKeyResolver] = [cls() for cls in RESOLVERS if cls.field in sheet.headers]
    for resolver in resolvers:
        resolver.prepare(actor=actor, rows=values_only)
    order_ids = {order.pk for resolver in resolvers for order in resolver.orders()}
    tests: dict[tuple[int, date], TestAppointment] = {}
    for chunk in chunks(sorted(order_ids)):
        for t in TestAppointment.objects.filter(order_id__in=chunk).select_related("order"):
            tests[(t.order_id, t.date)] = t
    column = {f: sheet.headers.get(f, COLUMNS[f][0]) for f in COLUMNS}
    out = _Checked()
    first_row: dict[int, tuple[int, str]] = {}
    unreadable = {p.row for p in sheet.problems}
    out.errors.extend(import_error(p.row, p.column, p.message) for p in sheet.problems)
    for done, (row, values) in enumerate(sheet.rows, start=1):
        if row in unreadable:
            continue
        try:
            _check_row(row, values, resolvers, tests, first_row, now, out)
        except RowError as error:
            out.errors.append(import_error(row, column.get(error.field, error.field), error.message))
        if done % PROGRESS_EVERY == 0:
            LabResultImport.objects.filter(pk=job.pk).update(processed_rows=done)
    return out


def _check_row(
    row: int,
    values: dict[str, str],
    resolvers: list[RowKeyResolver],
    tests: dict[tuple[int, date], TestAppointment],
    first_row: dict[int, tuple[int, str]],
    now: datetime,
    out: _Checked,
) -> None:
    resolver = next((r for r in resolvers if plain_text(values.get(r.field, ""))), None)
    if resolver is None:
        raise RowError(
            resolvers[0].field if resolvers else "order", _("Give the order number or the ID number.")
        )
    orders = resolver.resolve(values)
    day = _date(values.get("date", ""))
    result = _result(values.get("result", ""))
    at = _result_at(values.get("result_at", ""), day=day, now=now)
    for test in _tests_of(orders, day, tests):
        if test.pk in first_row:
            earlier, earlier_result = first_row[test.pk]
            if earlier_result != result:
                raise RowError(
                    "result", _("Row %(r)d gives a different result for this test.") % {"r": earlier}
                )
            out.notes.append({"row": row, "message": _("Same as row %(r)d.") % {"r": earlier}})
            continue
        if test.result != TestResult.PENDING:
            if test.result != result:
                raise RowError(
                    "result",
                    _("This test is already %(r)s; a different result needs an explicit correction.")
                    % {"r": test.get_result_display()},
                )
            out.notes.append(
                {"row": row, "message": _("Already recorded (%(r)s).") % {"r": test.get_result_display()}}
            )
            first_row[test.pk] = (row, result)
            continue
        if test.order.status != OrderStatus.ACTIVE:
            raise RowError(
                "order" if resolver.field == "order" else resolver.field,
                _("Results are recorded for active orders; this one is %(s)s.")
                % {"s": test.order.get_status_display()},
            )
        if test.date > timezone.localdate(now):
            raise RowError("date", _("This test is due on %(d)s.") % {"d": test.date.isoformat()})
        first_row[test.pk] = (row, result)
        out.writes[test.pk] = (row, test, result, at)


# --- the job -------------------------------------------------------------------------------------


@transaction.atomic
def lab_import_create(*, actor: Any, file_name: str, content: bytes) -> LabResultImport:
    """Keep the uploaded result file and queue it for the worker."""
    from fangkong.quarantine.tasks import lab_import_task

    if not can(actor, Perm.QUARANTINE_CHANGE):
        raise Forbidden(_("Your role may not record test results."))
    upload_check(file_name=file_name, content=content)
    roots = scope_roots(actor, Perm.QUARANTINE_CHANGE)
    job = LabResultImport.objects.create(
        created_by=actor, org_unit=roots[0] if roots else None, file_name=file_name[:200], content=content
    )
    audit_record(actor=actor, action="quarantine.import.create", target=job, after={"file": job.file_name})
    transaction.on_commit(lambda: lab_import_task.enqueue(import_id=job.pk))
    return job


@transaction.atomic
def _write(job: LabResultImport, checked: _Checked) -> tuple[int, list[str]]:
    actor = job.created_by
    pending = set(
        TestAppointment.objects.select_for_update()
        .filter(pk__in=list(checked.writes), result=TestResult.PENDING)
        .values_list("pk", flat=True)
    )
    negatives = [
        (t, at)
        for pk, (_r, t, res, at) in sorted(checked.writes.items())
        if pk in pending and res == "negative"
    ]
    lab.negatives_write(actor=actor, rows=negatives)
    written, cases = len(negatives), []
    for pk, (row, _test, _res, _at) in sorted(checked.writes.items()):
        if pk not in pending:  # resulted by someone else since the rows were checked
            checked.notes.append({"row": row, "message": _("Recorded meanwhile by someone else.")})
    for pk, (row, test, result, at) in sorted(checked.writes.items()):
        if result != TestResult.POSITIVE or pk not in pending:
            continue
        try:
            services.lab_result_record(actor=actor, appointment=test, result=result, at=at)
        except (Conflict, Invalid, Forbidden) as error:
            checked.errors.append(import_error(row, None, error.text()))
            continue
        written += 1
        case = QuarantineOrder.objects.get(pk=test.order_id).converted_case
        if case is not None and case.number not in cases:
            cases.append(case.number)
    return written, cases


def lab_import_run(*, import_id: int, lease: Lease | None = None) -> LabResultImport:
    """Check every row, record the valid ones, report the others by row and column. Safe to re-run:
    the results and the finished status commit together (fenced by ``lease``), so a retry after a
    dead worker starts over."""
    job = LabResultImport.objects.select_related("created_by", "org_unit").get(pk=import_id)
    if job.is_finished:
        return job
    job.status, job.started_at, job.errors = ImportStatus.VALIDATING, timezone.now(), []
    job.save(update_fields=["status", "started_at", "errors", "updated_at"])
    try:
        sheet = read_sheet(
            content=bytes(job.content), file_name=job.file_name, columns=COLUMNS, required=REQUIRED
        )
        if not {"order", "id_number"} & set(sheet.headers):
            raise SpreadsheetError(
                _("Missing column: 隔离令编号 (order number) or 证件号码 (ID number)."),
                row=1,
                column="隔离令编号",
            )
    except SpreadsheetError as problem:
        return import_finish(
            job, ImportStatus.REJECTED, errors=[import_error(problem.row, problem.column, problem.message)]
        )
    job.total_rows = len(sheet.rows)
    job.save(update_fields=["total_rows", "updated_at"])
    checked = _check_rows(job, sheet)
    job.status, job.processed_rows = ImportStatus.WRITING, len(sheet.rows)
    job.save(update_fields=["status", "processed_rows", "updated_at"])
    with transaction.atomic():
        lease_fence(lease)
        written, cases = _write(job, checked)
        job.unchanged_count, job.notes, job.cases = len(checked.notes), checked.notes, cases
        job.save(update_fields=["unchanged_count", "notes", "cases", "updated_at"])
        errors = sorted(checked.errors, key=lambda e: (e["row"] or 0, e["column"] or ""))
        rejected = errors and not written and not checked.notes
        return import_finish(
            job, ImportStatus.REJECTED if rejected else ImportStatus.SUCCEEDED, errors=errors, created=written
        )


def lab_import_fail(*, import_id: int, reason: str) -> None:
    """Mark an import failed after an unexpected error."""
    job = LabResultImport.objects.select_related("created_by").get(pk=import_id)
    if not job.is_finished:
        import_finish(job, ImportStatus.FAILED, errors=[import_error(None, None, reason)])
