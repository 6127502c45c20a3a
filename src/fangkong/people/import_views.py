"""Staff pages for spreadsheet imports: upload, progress (polled), every rejected row."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from fangkong.common.errors import Forbidden, Invalid
from fangkong.common.views import add_errors, csv_download, int_param, staff_view
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can
from fangkong.orgs.selectors import org_unit_list
from fangkong.people import selectors
from fangkong.people.forms import ImportForm
from fangkong.people.imports import person_import_create
from fangkong.people.models import SpreadsheetImport
from fangkong.people.spreadsheets import TEMPLATE_HEADER, id_type_words


@staff_view
def import_list(request: HttpRequest) -> HttpResponse:
    if not can(request.user, Perm.PEOPLE_CHANGE):
        raise Forbidden("people.change")
    units = org_unit_list(actor=request.user, perm=Perm.PEOPLE_CHANGE)
    form = ImportForm(request.POST or None, request.FILES or None, units=units)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = person_import_create(
                actor=request.user,
                org_unit=form.cleaned_data["org_unit"],
                file_name=upload.name,
                content=upload.read(),
            )
        except Invalid as error:
            add_errors(form, error.errors)
        else:
            return redirect("people:import", import_id=job.pk)
    jobs = selectors.person_import_list(actor=request.user)[:20]
    return render(request, "people/imports.html", {"form": form, "jobs": jobs, "id_types": id_type_words()})


@staff_view
def import_detail(request: HttpRequest, import_id: int) -> HttpResponse:
    job = selectors.person_import_get(actor=request.user, import_id=import_id)
    return import_status_page(
        request, job, poll_url=reverse("people:import", args=[job.pk]), page="people/import.html"
    )


def import_status_page(
    request: HttpRequest, job: SpreadsheetImport, *, poll_url: str, page: str, partial: bool = False
) -> HttpResponse:
    """The page of an import (``page``), or only its status block when htmx polls ``poll_url``.
    The first 200 rejected rows are listed; ``?errors=N`` shows more. ``partial``: an import that
    records its valid rows and refuses the others (a lab's results), not all-or-nothing."""
    shown = int_param(request, "errors", 200) or 200
    context = {
        "job": job,
        "errors": job.errors[:shown],
        "more": max(0, len(job.errors) - shown),
        "poll_url": poll_url,
        "partial": partial,
    }
    template = "people/_import_status.html" if request.headers.get("HX-Request") else page
    return render(request, template, context)


@staff_view
def import_template(request: HttpRequest) -> HttpResponse:
    """An empty CSV with the expected header (UTF-8 with BOM, so Excel opens it in Chinese)."""
    return csv_download(filename="people-import-template.csv", header=TEMPLATE_HEADER)
