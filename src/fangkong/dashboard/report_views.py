"""The daily report's button: the PDF of a day, shown in the browser."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.common.errors import Forbidden, Invalid
from fangkong.common.views import staff_view
from fangkong.dashboard.filters import filters_from
from fangkong.dashboard.report import daily_report
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can


def _day(raw: str) -> date:
    try:
        return date.fromisoformat(raw) if raw.strip() else timezone.localdate()
    except ValueError:
        raise Invalid.field("date", _("Write the date as 2022-05-03.")) from None


@staff_view
def report_pdf(request: HttpRequest) -> HttpResponse:
    """The report of ``?date=`` (default today) for ``?unit=`` (default the whole scope), scoped
    like the dashboard: a unit outside the scope is 404, a bad value 422 naming its field."""
    if not can(request.user, Perm.CASES_VIEW):
        raise Forbidden("cases.view")
    try:
        day = _day(request.GET.get("date", ""))
        unit = filters_from(actor=request.user, until=day.isoformat(), unit=request.GET.get("unit", "")).unit
        pdf = daily_report(actor=request.user, day=day, unit=unit)
    except Invalid as error:
        return HttpResponse(error.message, status=422, content_type="text/plain; charset=utf-8")
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="report-{day.isoformat()}.pdf"'
    return response
