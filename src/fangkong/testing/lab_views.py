"""The lab's pages of mass testing: receive a box, import a result file (progress, every bad row),
and decide each result that conflicts with the one recorded."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fangkong.common.errors import Conflict, Forbidden, Invalid
from fangkong.common.pagination import paginate
from fangkong.common.views import csv_download, int_param, staff_user, staff_view
from fangkong.people.import_views import import_status_page
from fangkong.testing import selectors
from fangkong.testing.boxes import box_receive
from fangkong.testing.imports import TEMPLATE_HEADER, tube_import_create
from fangkong.testing.models import TubeResult
from fangkong.testing.results import result_correct


@staff_view
def lab_home(request: HttpRequest) -> HttpResponse:
    """Receive boxes, upload result files, the latest imports and the conflicts to decide."""
    imports = paginate(
        selectors.import_list(actor=request.user), page=int_param(request, "page", 1) or 1, size=20
    )
    return render(
        request,
        "testing/lab.html",
        {
            "imports": imports,
            "conflicts": selectors.conflicts(actor=request.user)[:100],
            "boxes": selectors.boxes_in_transit(actor=request.user)[:200],
        },
    )


@require_POST
@staff_view
def box_receive_view(request: HttpRequest) -> HttpResponse:
    try:
        box = box_receive(actor=staff_user(request), code=request.POST.get("code", ""))
    except (Invalid, Conflict, Forbidden) as error:
        messages.error(request, error.text())
    else:
        messages.success(
            request,
            _("Box %(c)s received: %(n)d tubes at the lab.") % {"c": box.code, "n": box.tubes.count()},
        )
    return redirect("testing:lab")


@require_POST
@staff_view
def import_upload(request: HttpRequest) -> HttpResponse:
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise Invalid.field("file", _("Choose a file."))
        job = tube_import_create(
            actor=staff_user(request), file_name=upload.name or "", content=upload.read()
        )
    except (Invalid, Forbidden) as error:
        messages.error(request, error.text())
        return redirect("testing:lab")
    return redirect("testing:import", tube_import_id=job.pk)


@staff_view
def import_detail(request: HttpRequest, tube_import_id: int) -> HttpResponse:
    job = selectors.import_get(actor=request.user, import_id=tube_import_id)
    return import_status_page(
        request,
        job,
        poll_url=reverse("testing:import", args=[job.pk]),
        page="testing/import.html",
        partial=True,
    )


@staff_view
def import_template(request: HttpRequest) -> HttpResponse:
    return csv_download(filename="tube-results-template.csv", header=TEMPLATE_HEADER)


@require_POST
@staff_view
def conflict_decide(request: HttpRequest, report_id: int) -> HttpResponse:
    """Apply a conflicting result as a correction, or dismiss it; with a reason either way."""
    report = selectors.report_get(actor=request.user, report_id=report_id)
    apply = request.POST.get("decision") == "apply"
    try:
        result_correct(
            actor=staff_user(request), report=report, apply=apply, reason=request.POST.get("reason", "")
        )
    except (Invalid, Conflict, Forbidden) as error:
        messages.error(request, error.text())
    else:
        text = (
            _("Tube %(b)s now reads %(r)s.")
            if apply
            else _("The differing result for tube %(b)s was dismissed.")
        )
        messages.success(
            request,
            text % {"b": report.tube.barcode, "r": TubeResult(result=report.result).get_result_display()},
        )
    return redirect("testing:lab")
