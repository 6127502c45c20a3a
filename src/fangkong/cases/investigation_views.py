"""The flow-investigation part of a case page: start, complete, itinerary rows added in place (htmx)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fangkong.cases import investigations, selectors
from fangkong.common.errors import Invalid
from fangkong.common.views import int_param, page_action, staff_view
from fangkong.orgs.roles import Perm


@require_POST
@staff_view
def investigation_action(request: HttpRequest, case_id: int, action: str) -> HttpResponse:
    case = selectors.case_get(actor=request.user, case_id=case_id)
    investigation = selectors.investigation_of(case=case)
    with page_action(request) as done:
        if action == "start":
            investigations.investigation_start(actor=request.user, investigation=investigation)
            done.message = _("The investigation of case %(n)s is started.") % {"n": case.number}
        elif action == "complete":
            investigations.investigation_complete(
                actor=request.user,
                investigation=investigation,
                summary=request.POST.get("summary", ""),
                workplace=request.POST.get("workplace", ""),
            )
            done.message = _("The investigation of case %(n)s is complete; its work item is done.") % {
                "n": case.number
            }
        else:
            raise Invalid.field("action", _("Unknown action."))
    return redirect("cases:detail", case_id=case.pk)


def _rows(
    request: HttpRequest,
    case_id: int,
    *,
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
    typed: dict[str, str] | None = None,
) -> HttpResponse:
    case = selectors.case_get(actor=request.user, case_id=case_id)
    investigation = selectors.investigation_of(case=case)
    return render(
        request,
        "cases/_itinerary.html",
        {
            "case": case,
            "itinerary": selectors.itinerary_of(investigation=investigation),
            "errors": errors or {},
            "typed": typed or {},
            "can_change": True,
        },
        status=status,
    )


@require_POST
@staff_view
def itinerary_add(request: HttpRequest, case_id: int) -> HttpResponse:
    """Add one row and answer the whole itinerary table (htmx swaps it in place)."""
    case = selectors.case_get(actor=request.user, case_id=case_id)
    p = request.POST
    data = investigations.ItineraryData(
        start=p.get("start", ""),
        end=p.get("end", ""),
        place=p.get("place", ""),
        org_unit_id=int_param(request, "org_unit", source=p),
        longitude=p.get("longitude", ""),
        latitude=p.get("latitude", ""),
        transport_number=p.get("transport_number", ""),
        seat=p.get("seat", ""),
        publish=p.get("publish") == "on",
    )
    try:
        investigations.itinerary_add(
            actor=request.user, investigation=selectors.investigation_of(case=case), data=data
        )
    except Invalid as error:
        return _rows(request, case_id, errors=error.errors, status=422, typed=p.dict())
    if not request.headers.get("HX-Request"):
        return redirect("cases:detail", case_id=case.pk)
    return _rows(request, case_id)


@require_POST
@staff_view
def itinerary_remove(request: HttpRequest, entry_id: int) -> HttpResponse:
    entry = selectors.itinerary_entry_get(actor=request.user, entry_id=entry_id, perm=Perm.CASES_VIEW)
    case_id = entry.investigation.case_id
    investigations.itinerary_remove(actor=request.user, entry=entry)
    if not request.headers.get("HX-Request"):
        return redirect("cases:detail", case_id=case_id)
    return _rows(request, case_id)
