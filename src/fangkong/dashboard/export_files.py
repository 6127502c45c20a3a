"""Excel exports, written by the worker: a large one takes minutes (about 1,500 rows a second),
longer than a web request may wait.

Rules:

- Asking checks the export at once (the fields, the scope, the right to full values, at most a
  sheet of rows: the same refusals as a CSV) and queues the file for the worker.
- The worker writes it with what the asker may see when it runs (roles are checked again, so a
  role taken away in between is not exported), reporting its progress every ``CHUNK_ROWS`` rows,
  and audits it as any export, with the rows written, before anyone can download it.
- Only the asker sees the file and downloads it, and only while their roles still cover the scope
  it was written from (someone moved to another district no longer gets the old one's rows); each
  download is audited. Files are deleted a day after they were written (``EXPIRES_AFTER``) by the
  hourly cleanup, which also removes what a failed or crashed writing left on disk.
- A file being written that stopped reporting progress for ``STALE_AFTER`` was interrupted (its
  worker died) and is marked failed; a queued one waits for the worker however long it takes.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from fangkong.audit.services import audit_record
from fangkong.common.errors import Invalid, NotFound
from fangkong.common.leases import Lease, lease_fence, retry_audit_after
from fangkong.dashboard import exports
from fangkong.dashboard.exports import (
    EXPORTS,
    ExportJob,
    export_audit,
    export_headers,
    export_job,
    export_read,
    export_rows,
    row_maker,
)
from fangkong.dashboard.models import ExportFile, FileStatus
from fangkong.orgs.scope import scope_roots

EXCEL_ROWS = 1_048_575  # a sheet's 1,048,576 rows, less the header
WIDTHS = {"datetime": 20, "date": 12, "id_number": 22, "phone": 14}  # what a value needs, in characters
EXPIRES_AFTER = timedelta(days=1)
STALE_AFTER = timedelta(minutes=15)
PARAMS = ("since", "until", "org_unit", "full")


def export_files_dir() -> Path:
    return Path(settings.VAR_DIR) / "exports"


def _job_of(*, actor: Any, kind: str, params: Mapping[str, str]) -> tuple[ExportJob, QuerySet[Any]]:
    job = export_job(actor=actor, kind=kind, fmt="xlsx", params=params)
    rows = export_rows(actor=actor, job=job)
    return job, rows


@transaction.atomic
def export_file_start(*, actor: Any, kind: str, params: Mapping[str, str]) -> ExportFile:
    """Check the export and queue its file (see the module); ``Invalid`` when it holds more rows
    than a sheet, ``NotFound``/``Forbidden`` as for any export."""
    from fangkong.dashboard.tasks import export_file_task

    job, rows = _job_of(actor=actor, kind=kind, params=params)
    count = rows.count()
    if count > EXCEL_ROWS:
        message = _("More rows than a sheet holds (%(n)s): narrow the dates or the unit, or choose CSV.")
        raise Invalid.field("format", message % {"n": f"{EXCEL_ROWS:,}"})
    names = (*PARAMS, *job.kind.choice_filters)
    kept = {name: str(params[name]) for name in names if str(params.get(name, "")).strip()}
    file = ExportFile.objects.create(
        created_by=actor, kind=kind, params=kept, full=job.full, rows_total=count, file_name=job.file_name()
    )
    transaction.on_commit(lambda: export_file_task.enqueue(file_id=file.pk))
    return file


def export_file_build(*, file_id: int, lease: Lease | None = None) -> ExportFile:
    """Write the queued file ``file_id`` (the worker's task); a file already taken is left alone.
    Under ``lease`` its progress renews the lease and its closing transaction is fenced."""
    stored = f"{file_id}-{secrets.token_hex(8)}.xlsx"  # named now: a crash leaves it for the cleanup
    claimed = ExportFile.objects.filter(pk=file_id, status=FileStatus.QUEUED).update(
        status=FileStatus.RUNNING, stored_as=stored, updated_at=timezone.now()
    )
    file = ExportFile.objects.select_related("created_by").get(pk=file_id)
    if not claimed:
        return file
    job, rows = _job_of(actor=file.created_by, kind=file.kind, params=file.params)
    folder = export_files_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / stored

    def progress(done: int) -> None:
        ExportFile.objects.filter(pk=file.pk).update(rows_done=done, updated_at=timezone.now())
        if lease is not None:
            lease.renew()

    try:
        with open(target, "wb") as out:
            written = write_workbook(job, rows, out, progress=progress)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    with transaction.atomic():
        lease_fence(lease)
        export_audit(actor=file.created_by, job=job, rows=written)
        file.status, file.rows_done, file.rows_total = FileStatus.SUCCEEDED, written, written
        file.size, file.finished_at = target.stat().st_size, timezone.now()
        file.scope_paths = sorted(root.path for root in scope_roots(file.created_by, str(job.kind.perm)))
        file.save()
    return file


def export_file_requeue(file_id: int) -> None:
    """The lease sweep's retry of a file whose worker died: what it wrote goes, and it is queued
    to be written again from the start."""
    unfinished = ExportFile.objects.filter(pk=file_id, status__in=[FileStatus.QUEUED, FileStatus.RUNNING])
    for stored in unfinished.exclude(stored_as="").values_list("stored_as", flat=True):
        (export_files_dir() / stored).unlink(missing_ok=True)
    unfinished.update(status=FileStatus.QUEUED, stored_as="", rows_done=0, updated_at=timezone.now())
    job = ExportFile.objects.get(pk=file_id)
    audit_record(actor=None, action="jobs.lease.retry", target=job, after=retry_audit_after(job))


def export_file_fail(*, file_id: int, reason: str) -> None:
    """Mark a file that could not be written as failed, with the reason; what it wrote goes."""
    unfinished = ExportFile.objects.filter(pk=file_id, status__in=[FileStatus.QUEUED, FileStatus.RUNNING])
    for stored in unfinished.exclude(stored_as="").values_list("stored_as", flat=True):
        (export_files_dir() / stored).unlink(missing_ok=True)
    unfinished.update(
        status=FileStatus.FAILED,
        stored_as="",
        error=reason[:500],
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )


def write_workbook(
    job: ExportJob, rows: QuerySet[Any], out: IO[bytes], *, progress: Callable[[int], None] | None = None
) -> int:
    """The rows as an Excel file in ``out`` (dates as Excel dates, the header bold and frozen), by
    openpyxl's write-only workbook; returns the rows written."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(job.kind.title)[:31])
    headers = export_headers(job)
    for index, (header, column) in enumerate(zip(headers, job.kind.columns, strict=True), start=1):
        fits = WIDTHS.get(column.kind, 0) or (24 if column.field.endswith(("number", "code")) else 0)
        sheet.column_dimensions[get_column_letter(index)].width = max(10, fits, min(24, 2 * len(header) + 4))
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    sheet.append([_text_cell(sheet, header, font=bold) for header in headers])
    row = row_maker(job, excel=True)
    written = 0
    for values in export_read(rows):
        # a (type, text) pair is text that must not become a formula
        sheet.append([_text_cell(sheet, v[1]) if isinstance(v, tuple) else v for v in row(values)])
        written += 1
        if progress is not None and written % exports.CHUNK_ROWS == 0:
            progress(written)
    workbook.save(out)
    return written


def _text_cell(sheet: Any, text: str, *, font: Font | None = None) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"
    if font is not None:
        cell.font = font
    return cell


def _theirs(actor: Any) -> QuerySet[ExportFile]:
    if getattr(actor, "is_superuser", False) and actor.is_active:
        return ExportFile.objects.all()
    return ExportFile.objects.filter(created_by_id=getattr(actor, "pk", None))


def export_file_get(*, actor: Any, file_id: int) -> ExportFile:
    """The asker's file ``file_id``; anyone else's (or none) is ``NotFound`` (a superuser sees all)."""
    file = _theirs(actor).filter(pk=file_id).first()
    if file is None:
        raise NotFound("export file")
    return _interrupted(file)


def export_file_list(*, actor: Any, limit: int = 10) -> list[ExportFile]:
    """The asker's latest files, newest first."""
    files = ExportFile.objects.filter(created_by_id=getattr(actor, "pk", None))[:limit]  # their own only
    return [_interrupted(f) for f in files]


def _interrupted(file: ExportFile, *, now: datetime | None = None) -> ExportFile:
    """A file being written that stopped reporting is failed (one still queued waits its turn)."""
    if file.status == FileStatus.RUNNING and (now or timezone.now()) - file.updated_at > STALE_AFTER:
        export_file_fail(file_id=file.pk, reason=_("Interrupted: the worker stopped. Ask again."))
        file.refresh_from_db()
    return file


def export_file_ready(file: ExportFile) -> bool:
    """Whether the file is written and still kept."""
    return (
        file.status == FileStatus.SUCCEEDED
        and bool(file.stored_as)
        and (export_files_dir() / file.stored_as).is_file()
    )


def _still_covers(actor: Any, file: ExportFile) -> bool:
    """Whether ``actor`` may still see everything the file was written from: each unit of the
    asker's scope then lies within the actor's scope now (a superuser sees everything)."""
    if getattr(actor, "is_superuser", False) and actor.is_active:
        return True
    now = [root.path for root in scope_roots(actor, str(EXPORTS[file.kind].perm))]
    return all(any(path.startswith(root) for root in now) for path in file.scope_paths)


def export_file_open(*, actor: Any, file: ExportFile) -> IO[bytes]:
    """The ready file for download, audited; ``NotFound`` when it is not ready or gone."""
    if not export_file_ready(file) or not _still_covers(actor, file):
        raise NotFound("export file")
    path = export_files_dir() / file.stored_as
    job, _rows = _job_of(actor=actor, kind=file.kind, params=file.params)  # the roles still hold
    export_audit(actor=actor, job=job, rows=file.rows_done, action="dashboard.export.download")
    return open(path, "rb")  # the FileResponse closes it


def export_files_expire(*, now: datetime | None = None) -> int:
    """Delete the files written more than ``EXPIRES_AFTER`` ago; returns how many."""
    now = now or timezone.now()
    for running in ExportFile.objects.filter(status=FileStatus.RUNNING, updated_at__lt=now - STALE_AFTER):
        _interrupted(running, now=now)
    before = now - EXPIRES_AFTER
    old = ExportFile.objects.filter(Q(status=FileStatus.SUCCEEDED, finished_at__lt=before))
    count = 0
    for file in old:
        (export_files_dir() / file.stored_as).unlink(missing_ok=True)
        file.status, file.stored_as = FileStatus.EXPIRED, ""
        file.save(update_fields=["status", "stored_as", "updated_at"])
        count += 1
    for file in ExportFile.objects.filter(status=FileStatus.FAILED).exclude(stored_as=""):
        (export_files_dir() / file.stored_as).unlink(missing_ok=True)  # what a crash left behind
        file.stored_as = ""
        file.save(update_fields=["stored_as", "updated_at"])
    return count
