"""Staff pages of exports: the page with the three exports, their filters and the asker's latest
Excel files; the download as CSV (streamed as the rows are read); an Excel file's page (its
progress while the worker writes it, ``dashboard.export_files``) and its download.

What is exported, masked and audited is decided in ``dashboard.exports``; here the rows are
only written out, each format keeping the rule that the audit event is written before the
first byte is sent.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Mapping
from typing import Any, cast

from django.db.models import Q, QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.text import capfirst
from django.views.decorators.http import require_POST

from fangkong.common.errors import Invalid
from fangkong.common.views import staff_view
from fangkong.dashboard import exports
from fangkong.dashboard.export_files import (
    export_file_get,
    export_file_list,
    export_file_open,
    export_file_ready,
    export_file_start,
)
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


@staff_view
def exports_page(request: HttpRequest) -> HttpResponse:
    return _page(request)


@require_POST
@staff_view
def export_download(request: HttpRequest, kind: str, fmt: str) -> HttpResponse:
    """CSV: the file, streamed. Excel: the file is queued for the worker and its page shown.
    Bad filters show the page again (422) with the field named. POST only: a link on another
    site cannot start an export."""
    response: HttpResponseBase
    try:
        if fmt == "xlsx":
            file = export_file_start(actor=request.user, kind=kind, params=request.POST)
            return redirect("dashboard:export-file", file_id=file.pk)
        job = export_job(actor=request.user, kind=kind, fmt=fmt, params=request.POST)
        response = StreamingHttpResponse(
            export_csv(actor=request.user, job=job), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{job.file_name()}"'
    except Invalid as error:
        return _page(request, errors=error.errors, asked=kind, status=422)
    response["Cache-Control"] = "no-store"
    # staff_view is typed for HttpResponse; a streamed response is what a browser gets all the same
    return cast(HttpResponse, response)


@staff_view
def export_file_page(request: HttpRequest, file_id: int) -> HttpResponse:
    """An Excel file being written, then ready: the whole page, or (polled by htmx each second
    while it is written) its status block."""
    file = export_file_get(actor=request.user, file_id=file_id)
    partial = bool(request.headers.get("HX-Request"))
    template = "dashboard/_export_file.html" if partial else "dashboard/export_file.html"
    return render(request, template, {"file": file})


@staff_view
def export_file_download(request: HttpRequest, file_id: int) -> HttpResponse:
    file = export_file_get(actor=request.user, file_id=file_id)
    if not export_file_ready(file):  # still being written, failed or deleted: its page says which
        return redirect("dashboard:export-file", file_id=file.pk)
    response = FileResponse(
        export_file_open(actor=request.user, file=file),
        as_attachment=True,
        filename=file.file_name,
        content_type=XLSX_TYPE,
    )
    response["Cache-Control"] = "no-store"
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


def _page(
    request: HttpRequest, *, errors: dict[str, list[str]] | None = None, asked: str = "", status: int = 200
) -> HttpResponse:
    actor = request.user
    typed = {slug: request.POST if asked == slug else {} for slug in EXPORTS}
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
        "files": export_file_list(actor=actor),
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
