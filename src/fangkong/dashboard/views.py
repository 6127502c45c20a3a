"""The command dashboard: one page of every chart for the filters, and each chart as CSV."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode

from fangkong.common.errors import Forbidden, Invalid
from fangkong.common.views import csv_download, staff_view
from fangkong.dashboard.charts import CHARTS
from fangkong.dashboard.filters import Filters, filters_from, unit_choices
from fangkong.dashboard.panels import labels, panels
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can


def _filters(request: HttpRequest) -> Filters:
    if not can(request.user, Perm.CASES_VIEW):
        raise Forbidden("cases.view")
    g = request.GET
    return filters_from(
        actor=request.user, since=g.get("since", ""), until=g.get("until", ""), unit=g.get("unit", "")
    )


@staff_view
def dashboard(request: HttpRequest) -> HttpResponse:
    try:
        filters = _filters(request)
    except Invalid as error:
        return render(
            request,
            "dashboard/dashboard.html",
            {"errors": error.errors, "units": unit_choices(actor=request.user), "typed": request.GET},
            status=422,
        )
    data: dict[str, Any] = {name.replace("-", "_"): chart.data(filters) for name, chart in CHARTS.items()}
    report = data["epi_report"]
    headline = {
        "infections": report["cumulative"][-1] if report["cumulative"] else 0,
        "rt": data["rt"]["last"],
        "rt_reason": data["rt"]["reason"],
        "doubling": data["doubling"]["last"],
        "overdue": sum(row["overdue"] for row in data["overdue"]),
    }
    by = request.GET.get("by", "")
    return render(
        request,
        "dashboard/dashboard.html",
        {
            "filters": filters,
            "by": by if by in {"onset", "report"} else "report",  # by report: every case has a date
            "query": urlencode(filters.query()),
            "data": data,
            "headline": headline,
            "panels": panels(data, sees_help_requests=can(request.user, Perm.HELPDESK_VIEW)),
            "labels": labels(),
            "units": unit_choices(actor=request.user),
            "typed": request.GET,
        },
    )


@staff_view
def chart_csv(request: HttpRequest) -> HttpResponse:
    """One chart's data (``?chart=NAME``) as CSV (UTF-8 with BOM, so Excel opens it), for the
    same filters as the page."""
    name = request.GET.get("chart", "")
    chart = CHARTS.get(name)
    if chart is None:
        raise Http404(name)
    try:
        filters = _filters(request)
    except Invalid as error:
        return HttpResponse(error.text(), status=422, content_type="text/plain; charset=utf-8")
    header, rows = chart.table(chart.data(filters))
    return csv_download(filename=f"{name}-{filters.since}-{filters.until}.csv", header=header, rows=rows)
