"""Staff pages of exports: the page with the three exports and their filters, and the download,
rendered as CSV (streamed as the rows are read) or Excel (built on disk, then streamed).

What is exported, masked and audited is decided in ``dashboard.exports``; here the rows are
only written out, each format keeping the rule that the audit event is written before the
first byte is sent.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any, cast

from django.db.models import Q, QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from fangkong.common.errors import Invalid
from fangkong.common.views import staff_view
from fangkong.dashboard import exports
from fangkong.dashboard.exports import (
    EXPORTS,
    ExportJob,
    ExportKind,
    export_audit,
    export_headers,
    export_job,
    export_read,
    export_rows,
    row_maker,
)
from fangkong.orgs.models import Level, OrgUnit
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can, scope_roots, visible

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXCEL_ROWS = 1_048_575  # a sheet's 1,048,576 rows, less the header
SPOOL_BYTES = 8 * 1024 * 1024  # an Excel file under this stays in memory, a larger one goes to disk


@staff_view
def exports_page(request: HttpRequest) -> HttpResponse:
    return _page(request)


@staff_view
def export_download(request: HttpRequest, kind: str, fmt: str) -> HttpResponse:
    """The export as a file; bad filters show the page again (422) with the field named."""
    response: HttpResponseBase
    try:
        job = export_job(actor=request.user, kind=kind, fmt=fmt, params=request.GET)
        if job.fmt == "csv":
            response = StreamingHttpResponse(
                export_csv(actor=request.user, job=job), content_type="text/csv; charset=utf-8"
            )
            response["Content-Disposition"] = f'attachment; filename="{job.file_name()}"'
        else:
            response = FileResponse(
                export_xlsx(actor=request.user, job=job),
                as_attachment=True,
                filename=job.file_name(),
                content_type=XLSX_TYPE,
            )
    except Invalid as error:
        return _page(request, errors=error.errors, asked=kind, status=422)
    response["Cache-Control"] = "no-store"
    # staff_view is typed for HttpResponse; a streamed response is what a browser gets all the same
    return cast(HttpResponse, response)


def export_csv(*, actor: Any, job: ExportJob) -> Iterator[bytes]:
    """The CSV file as chunks of UTF-8 (a BOM first, so Excel reads Chinese): the header at
    once, then a chunk per chunk of rows read. The rows are counted and audited now; they are
    read only as the response is sent."""
    rows = export_rows(actor=actor, job=job)
    export_audit(actor=actor, job=job, rows=rows.count())
    return _csv_chunks(export_headers(job), rows, row_maker(job, excel=False))


def _csv_chunks(
    headers: list[str], rows: QuerySet[Any], row: Callable[[Mapping[str, Any]], list[Any]]
) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    yield ("\ufeff" + buffer.getvalue()).encode("utf-8")
    pending = 0
    for values in export_read(rows):
        if pending == 0:
            buffer.seek(0)
            buffer.truncate()
        writer.writerow(row(values))
        pending += 1
        if pending == exports.CHUNK_ROWS:
            yield buffer.getvalue().encode("utf-8")
            pending = 0
    if pending:
        yield buffer.getvalue().encode("utf-8")


def export_xlsx(*, actor: Any, job: ExportJob) -> IO[bytes]:
    """The Excel file (dates as Excel dates), written row by row by openpyxl's write-only
    workbook (its sheet goes to a temporary file as it grows), then saved into a spooled
    temporary file and audited with the rows written; returned at its start for streaming.
    More rows than a sheet holds is ``Invalid`` (format), before anything is written."""
    rows = export_rows(actor=actor, job=job)
    if rows.count() > EXCEL_ROWS:
        message = _("More rows than a sheet holds (%(n)s): narrow the dates or the unit, or choose CSV.")
        raise Invalid.field("format", message % {"n": f"{EXCEL_ROWS:,}"})
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(job.kind.title)[:31])
    headers = export_headers(job)
    for index, header in enumerate(headers, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(10, min(24, 2 * len(header) + 4))
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    sheet.append([_text_cell(sheet, header, font=bold) for header in headers])
    row = row_maker(job, excel=True)
    written = 0
    for values in export_read(rows):
        # a (type, text) pair is text that must not become a formula
        sheet.append([_text_cell(sheet, v[1]) if isinstance(v, tuple) else v for v in row(values)])
        written += 1
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - FileResponse closes it
    workbook.save(out)
    out.seek(0)
    export_audit(actor=actor, job=job, rows=written)
    return cast(IO[bytes], out)


def _text_cell(sheet: Any, text: str, *, font: Font | None = None) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"
    if font is not None:
        cell.font = font
    return cell


def _page(
    request: HttpRequest, *, errors: dict[str, list[str]] | None = None, asked: str = "", status: int = 200
) -> HttpResponse:
    actor = request.user
    typed = {slug: request.GET if asked == slug else {} for slug in EXPORTS}
    kinds = [
        {
            "slug": kind.slug,
            "title": kind.title,
            "date_label": capfirst(str(kind.date_label)),
            "units": _units(actor, kind),
            "choices": [
                {
                    "name": name,
                    "label": _header_of(kind, name),
                    "options": options.choices,
                    "selected": typed[kind.slug].get(name, ""),
                }
                for name, options in kind.choice_filters.items()
            ],
            "typed": typed[kind.slug],
            "errors": errors if asked == kind.slug else {},
        }
        for kind in EXPORTS.values()
        if can(actor, kind.perm)
    ]
    context = {
        "kinds": kinds,
        # the full choice is offered where the role may reveal at all; the download checks the rows
        "can_reveal": can(actor, Perm.PEOPLE_REVEAL),
        "errors": errors if asked not in EXPORTS else {},
    }
    return render(request, "dashboard/exports.html", context, status=status)


def _units(actor: Any, kind: ExportKind) -> list[OrgUnit]:
    """The units to narrow an export to: the actor's visible units above the grids, and their
    own units (a grid worker's grid)."""
    roots = [root.pk for root in scope_roots(actor, str(kind.perm))]
    qs = visible(actor, OrgUnit.objects.all(), perm=kind.perm)
    return list(qs.filter(~Q(level=Level.GRID) | Q(pk__in=roots)).order_by("path"))


def _header_of(kind: ExportKind, name: str) -> str:
    return next(capfirst(str(c.header)) for c in kind.columns if c.field == name)
