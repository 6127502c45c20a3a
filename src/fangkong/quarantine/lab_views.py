"""Staff pages of the lab: the tests due, results in bulk, the result import, a correction."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from fangkong.common.errors import Conflict, Forbidden, Invalid
from fangkong.common.pagination import paginate
from fangkong.common.views import csv_download, date_param, int_param, query_string, staff_view
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can
from fangkong.people.import_views import import_status_page
from fangkong.quarantine import lab, selectors
from fangkong.quarantine.lab_imports import TEMPLATE_HEADER, lab_import_create

FILTERS = ("on", "day", "site", "unit", "q", "sort", "size", "page")
PAGE_SIZES = (25, 50, 100, 200)
SORT_CHOICES = [
    ("date", gettext_lazy("Due date (oldest first)")),
    ("-date", gettext_lazy("Due date (newest first)")),
    ("grid", gettext_lazy("Grid")),
    ("site", gettext_lazy("Site")),
    ("person", gettext_lazy("Person")),
]


def _ids(values: list[str]) -> list[int]:
    """The ticked test ids; anything that is not a plain, sane number is left out."""
    return [int(v) for v in values if v.isascii() and v.isdigit() and len(v) <= 12]


@staff_view
def tests_due(request: HttpRequest) -> HttpResponse:
    """Pending tests by date, site and grid, with search; the bulk result form above them."""
    today = timezone.localdate()
    on = date_param(request, "on") or today
    on = on if 2000 <= on.year <= 2100 else today
    unit_text = request.GET.get("unit", "").replace("\x00", "")[:100]
    unit = lab.unit_find(actor=request.user, text=unit_text)
    site_id = int_param(request, "site")
    site_id = site_id if site_id is not None and 0 < site_id < 2**63 else None
    sort = request.GET.get("sort", "date")
    qs = lab.tests_due(
        actor=request.user,
        on=on,
        only_day=request.GET.get("day") == "1",
        site_id=site_id,
        unit=unit,
        q=request.GET.get("q", "").replace("\x00", "")[:100],
        sort=sort,
    )
    size = int_param(request, "size", PAGE_SIZES[0])
    size = size if size in PAGE_SIZES else PAGE_SIZES[0]
    page = paginate(qs, page=min(int_param(request, "page", 1) or 1, 10**6), size=size)
    return render(
        request,
        "quarantine/lab_due.html",
        {
            "page": page,
            "query": query_string(request),
            "back": query_string(request, drop=()).rstrip("&"),
            "on": on,
            "today": today,
            "only_day": request.GET.get("day") == "1",
            "sites": lab.sites_for(actor=request.user),
            "site_id": site_id,
            "unit_text": unit_text,
            "unit": unit,
            "q": request.GET.get("q", "")[:100],
            "sort": sort,
            "sorts": SORT_CHOICES,
            "size": size,
            "sizes": PAGE_SIZES,
            "can_change": can(request.user, Perm.QUARANTINE_CHANGE),
        },
    )


@staff_view
def unit_options(request: HttpRequest) -> HttpResponse:
    """The type-ahead of the grid filter: ``<option>`` elements for a ``<datalist>``."""
    units = lab.unit_suggestions(actor=request.user, text=request.GET.get("unit", "").replace("\x00", ""))
    return render(request, "quarantine/lab_units.html", {"units": units})


def _done_message(batch: lab.LabBatch) -> str:
    n = len(batch.recorded)
    if batch.result == "negative":
        return ngettext("%(n)d negative result recorded.", "%(n)d negative results recorded.", n) % {"n": n}
    numbers = "、".join(case.number for case in batch.cases)
    if n == 1 and len(batch.cases) == 1:
        return _("Positive result recorded; case %(c)s registered.") % {"c": numbers}
    return ngettext(
        "%(n)d positive result recorded; cases registered: %(c)s.",
        "%(n)d positive results recorded; cases registered: %(c)s.",
        n,
    ) % {"n": n, "c": numbers or "—"}


def _refused_message(batch: lab.LabBatch) -> str:
    reasons = _(", ").join(_("%(why)s (%(n)d)") % {"why": why, "n": count} for why, count in batch.refusals())
    total = sum(batch.refused.values())
    return ngettext("%(n)d test not recorded: %(why)s.", "%(n)d tests not recorded: %(why)s.", total) % {
        "n": total,
        "why": reasons,
    }


@require_POST
@staff_view
def results_record(request: HttpRequest) -> HttpResponse:
    """Record one result for the ticked tests (or the one test of an order page's button)."""
    p = request.POST
    try:
        batch = lab.lab_results_record(
            actor=request.user, appointment_ids=_ids(p.getlist("tests")), result=p.get("result", "")
        )
    except (Invalid, Conflict) as error:
        messages.error(request, error.text())
    except Forbidden as error:
        messages.error(request, error.message)
    else:
        if batch.recorded:
            messages.success(request, _done_message(batch))
        if batch.refused:
            (messages.warning if batch.recorded else messages.error)(request, _refused_message(batch))
    order_id = int_param(request, "order", source=p)
    if order_id is not None and 0 < order_id < 2**63:
        return redirect("quarantine:order", order_id=order_id)
    return redirect(_due_url(p.get("back", "")))


def _due_url(back: str) -> str:
    """The tests-due page with the filters it was sent from (only the page's own parameters)."""
    from django.http import QueryDict

    kept = {k: v[:100] for k, v in QueryDict(back[:1000]).items() if k in FILTERS}
    url = reverse("quarantine:lab-due")
    return f"{url}?{urlencode(kept)}" if kept else url


@require_POST
@staff_view
def result_correct(request: HttpRequest, test_id: int) -> HttpResponse:
    """Correct a negative result (to pending or positive), with a reason; audited."""
    test = selectors.test_get(actor=request.user, test_id=test_id)
    p = request.POST
    try:
        lab.lab_result_correct(
            actor=request.user, appointment=test, result=p.get("result", ""), reason=p.get("reason", "")
        )
    except (Invalid, Conflict) as error:
        messages.error(request, error.text())
    except Forbidden as error:
        messages.error(request, error.message)
    else:
        test.refresh_from_db()
        messages.success(
            request,
            _("Result of day %(d)d corrected to %(r)s.") % {"d": test.day, "r": test.get_result_display()},
        )
    return redirect("quarantine:order", order_id=test.order_id)


@staff_view
def lab_imports(request: HttpRequest) -> HttpResponse:
    """Upload a result file (the worker imports it) and see the recent ones."""
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise Invalid.field("file", _("Choose a file."))
            job = lab_import_create(actor=request.user, file_name=upload.name or "", content=upload.read())
        except Invalid as invalid:
            error = invalid.text()
        except Forbidden as forbidden:
            error = forbidden.message
        else:
            return redirect("quarantine:lab-import", lab_import_id=job.pk)
    jobs = lab.lab_import_list(actor=request.user)[:20]
    return render(
        request, "quarantine/lab_imports.html", {"jobs": jobs, "error": error}, status=422 if error else 200
    )


@staff_view
def lab_import_detail(request: HttpRequest, lab_import_id: int) -> HttpResponse:
    job = lab.lab_import_get(actor=request.user, import_id=lab_import_id)
    poll_url = reverse("quarantine:lab-import", args=[job.pk])
    if request.headers.get("HX-Request"):
        return render(request, "quarantine/_lab_import_status.html", {"job": job, "poll_url": poll_url})
    return import_status_page(request, job, poll_url=poll_url, page="quarantine/lab_import.html")


@staff_view
def lab_import_template(request: HttpRequest) -> HttpResponse:
    """An empty CSV with the expected header (UTF-8 with BOM, so Excel opens it in Chinese)."""
    return csv_download(filename="lab-results-template.csv", header=TEMPLATE_HEADER)
