"""A lab's file of tube results (CSV or Excel), imported in the background.

Each row is one tube: barcode, result, Ct values, tested-at and the lab. A row's own values are
checked here (a result word, a time, numbers), then the rows go to ``results.tube_results_record``
as one set: valid rows are recorded, every bad row is named with its row and column, a row that
repeats a recorded result changes nothing, a conflicting one waits for a correction.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.audit.services import audit_record
from fangkong.common.errors import Forbidden, Invalid
from fangkong.common.leases import Lease, lease_fence
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can, scope_roots
from fangkong.people.imports import import_error, import_finish, upload_check
from fangkong.people.models import ImportStatus
from fangkong.people.spreadsheets import SpreadsheetError, read_sheet
from fangkong.quarantine.lab_rows import RowError, plain_text
from fangkong.testing.models import TubeResultImport, TubeResultValue
from fangkong.testing.results import ResultRow, tube_results_record
from fangkong.testing.services import barcode_check

COLUMNS: dict[str, tuple[str, ...]] = {
    "barcode": ("条码", "试管条码", "采样管条码", "barcode", "tube"),
    "result": ("检测结果", "结果", "result"),
    "ct_orf": ("ORF1ab", "ORF1ab Ct", "Ct ORF1ab", "ct_orf"),
    "ct_n": ("N", "N Ct", "Ct N", "ct_n"),
    "tested_at": ("检测时间", "报告时间", "tested_at"),
    "lab": ("检测机构", "实验室", "lab"),
}
REQUIRED = ("barcode", "result", "tested_at", "lab")
TEMPLATE_HEADER = ["条码", "检测结果", "ORF1ab", "N", "检测时间", "检测机构"]
MAX_ROWS = 200_000  # a lab's day: 550,000 tubes in a few files
MAX_BYTES = 20 * 1024 * 1024
RESULT_WORDS = {
    "阴性": TubeResultValue.NEGATIVE,
    "negative": TubeResultValue.NEGATIVE,
    "阳性": TubeResultValue.POSITIVE,
    "positive": TubeResultValue.POSITIVE,
    "无效": TubeResultValue.INVALID,
    "invalid": TubeResultValue.INVALID,
}
TIME = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})[ T](\d{1,2}):(\d{2})(?::\d{2})?$")


def _result(raw: str) -> str:
    word = RESULT_WORDS.get(plain_text(raw).lower())
    if word is None:
        raise RowError("result", _("Write 阴性, 阳性 or 无效."))
    return word


def _time(raw: str) -> datetime:
    match = TIME.match(plain_text(raw))
    try:
        if match is None:
            raise ValueError
        y, mo, d, h, mi = (int(match[i]) for i in range(1, 6))
        naive = datetime(y, mo, d, h, mi)
    except ValueError:
        raise RowError("tested_at", _("Write the time as 2022-04-04 21:30.")) from None
    return timezone.make_aware(naive)


def _ct(raw: str, name: str) -> float | None:
    text = plain_text(raw)
    if not text or text in {"-", "/", "NA", "N/A"}:
        return None
    try:
        value = float(text)
    except ValueError:
        raise RowError(name, _("A Ct value is a number such as 32.5.")) from None
    if value != value or not 0 <= value <= 50:  # NaN too
        raise RowError(name, _("A Ct value lies between 0 and 50."))
    return value


class RowErrors(Exception):
    """Every value of a row that cannot be read, each with its field (a lab fixes them at once)."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


def _barcode(raw: str) -> str:
    try:
        return barcode_check(raw)
    except Invalid as error:
        raise RowError("barcode", error.errors["barcode"][0]) from None


def _lab(raw: str) -> str:
    text = plain_text(raw)[:100]
    if not text:
        raise RowError("lab", _("Name the lab."))
    return text


def row_read(row: int, values: dict[str, str]) -> ResultRow:
    """One row as a result (``RowErrors`` naming every field whose value cannot be read)."""
    read: dict[str, Any] = {}
    errors: list[RowError] = []
    readers: dict[str, Callable[[], Any]] = {
        "barcode": lambda: _barcode(values.get("barcode", "")),
        "result": lambda: _result(values.get("result", "")),
        "tested_at": lambda: _time(values.get("tested_at", "")),
        "lab": lambda: _lab(values.get("lab", "")),
        "ct_orf": lambda: _ct(values.get("ct_orf", ""), "ct_orf"),
        "ct_n": lambda: _ct(values.get("ct_n", ""), "ct_n"),
    }
    for name, reader in readers.items():
        try:
            read[name] = reader()
        except RowError as error:
            errors.append(error)
    if errors:
        raise RowErrors(errors)
    return ResultRow(key=row, **read)


@transaction.atomic
def tube_import_create(*, actor: User, file_name: str, content: bytes) -> TubeResultImport:
    """Keep the uploaded result file and queue it for the worker."""
    from fangkong.testing.tasks import tube_import_task

    if not can(actor, Perm.TESTING_LAB):
        raise Forbidden(_("Your role may not record tube results."))
    upload_check(file_name=file_name, content=content, max_bytes=MAX_BYTES)
    roots = scope_roots(actor, Perm.TESTING_LAB)
    if not roots:
        raise Forbidden(_("Your role may not record tube results."))
    job = TubeResultImport.objects.create(
        created_by=actor, org_unit=roots[0], file_name=file_name[:200], content=content
    )
    audit_record(actor=actor, action="testing.import.create", target=job, after={"file": job.file_name})
    transaction.on_commit(lambda: tube_import_task.enqueue(import_id=job.pk))
    return job


def tube_import_run(*, import_id: int, lease: Lease | None = None) -> TubeResultImport:
    """Read every row, record the valid ones, report the others by row and column. Safe to re-run:
    the results and the finished status commit together (fenced by ``lease``), so a retry after a
    dead worker starts over."""
    job = TubeResultImport.objects.select_related("created_by", "org_unit").get(pk=import_id)
    if job.is_finished:
        return job
    job.status, job.started_at, job.errors = ImportStatus.VALIDATING, timezone.now(), []
    job.save(update_fields=["status", "started_at", "errors", "updated_at"])
    try:
        sheet = read_sheet(
            content=bytes(job.content),
            file_name=job.file_name,
            columns=COLUMNS,
            required=REQUIRED,
            max_rows=MAX_ROWS,
            max_bytes=MAX_BYTES,
        )
    except SpreadsheetError as problem:
        return import_finish(
            job, ImportStatus.REJECTED, errors=[import_error(problem.row, problem.column, problem.message)]
        )
    column = {f: sheet.headers.get(f, COLUMNS[f][0]) for f in COLUMNS}
    errors = [import_error(p.row, p.column, p.message) for p in sheet.problems]
    unreadable = {p.row for p in sheet.problems}
    rows: list[ResultRow] = []
    for number, values in sheet.rows:
        if number in unreadable:
            continue
        try:
            rows.append(row_read(number, values))
        except RowErrors as bad:
            errors += [import_error(number, column.get(e.field, e.field), e.message) for e in bad.errors]
    job.total_rows = job.processed_rows = len(sheet.rows)
    job.status = ImportStatus.WRITING
    job.save(update_fields=["total_rows", "processed_rows", "status", "updated_at"])
    with transaction.atomic():
        lease_fence(lease)
        out = tube_results_record(actor=job.created_by, rows=rows, source=job)
        errors += [import_error(key, column.get(name, name), message) for key, name, message in out.refused]
        job.unchanged_count, job.conflict_count, job.positive_tubes = (
            out.unchanged,
            out.conflicts,
            out.positive_tubes,
        )
        job.save(update_fields=["unchanged_count", "conflict_count", "positive_tubes", "updated_at"])
        errors.sort(key=lambda e: (e["row"] or 0, e["column"] or ""))
        rejected = errors and not out.recorded and not out.unchanged
        return import_finish(
            job,
            ImportStatus.REJECTED if rejected else ImportStatus.SUCCEEDED,
            errors=errors,
            created=out.recorded,
        )


def tube_import_fail(*, import_id: int, reason: str) -> None:
    """Mark an import failed after an unexpected error (nothing was recorded: the write is atomic)."""
    job = TubeResultImport.objects.select_related("created_by").get(pk=import_id)
    if not job.is_finished:
        import_finish(job, ImportStatus.FAILED, errors=[import_error(None, None, reason)])
