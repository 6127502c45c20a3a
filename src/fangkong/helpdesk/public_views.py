"""The resident's side of the help desk: the form, the ticket page, the rating. No login.

The form is rate-limited per client address and per phone, counted before anything else so
that parallel posts cannot slip past; a request is stored before the page answers. Ticket
lookups are rate-limited per address so that codes cannot be guessed by trying.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from fangkong.common.context import client_address
from fangkong.common.errors import Conflict, Invalid, NotFound
from fangkong.common.ratelimit import rate_count, retry_after
from fangkong.helpdesk.models import Category, Status, Urgency
from fangkong.helpdesk.selectors import help_request_by_ticket
from fangkong.helpdesk.services import RequestData, help_request_rate, help_request_submit, phone_key
from fangkong.orgs.models import Level, OrgUnit
from fangkong.people.idnumbers import MOBILE
from fangkong.people.masking import mask_name

FORM_LIMIT_PER_ADDRESS, FORM_WINDOW = 10, timedelta(hours=1)
FORM_LIMIT_PER_PHONE, PHONE_WINDOW = 5, timedelta(days=1)
LOOKUP_LIMIT_PER_ADDRESS, LOOKUP_WINDOW = 60, timedelta(hours=1)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _address_context(source: Any) -> dict[str, Any]:
    """The cascade district → street → community → grid, each list below what is chosen."""
    chosen = {level: _int(source.get(level)) for level in ("district", "street", "community", "grid")}
    districts = list(OrgUnit.objects.filter(level=Level.DISTRICT).order_by("path"))
    streets = communities = grids = []
    if chosen["district"]:
        streets = list(OrgUnit.objects.filter(level=Level.STREET, parent_id=chosen["district"]))
    if chosen["street"] and any(s.pk == chosen["street"] for s in streets):
        communities = list(OrgUnit.objects.filter(level=Level.COMMUNITY, parent_id=chosen["street"]))
    if chosen["community"] and any(c.pk == chosen["community"] for c in communities):
        grids = list(OrgUnit.objects.filter(level=Level.GRID, parent_id=chosen["community"]))
    return {
        "chosen": chosen,
        "districts": districts,
        "streets": streets,
        "communities": communities,
        "grids": grids,
    }


def _form_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    source = request.POST if request.method == "POST" else request.GET
    return {
        "categories": Category.choices,
        "urgencies": Urgency.choices,
        "values": source,
        "errors": {},
        **_address_context(source),
        **extra,
    }


def _throttled(request: HttpRequest, message: str, window: timedelta) -> HttpResponse:
    response = render(
        request,
        "helpdesk/public/form.html",
        _form_context(request, errors={"form": [message]}),
        status=429,
    )
    response["Retry-After"] = str(retry_after(window=window))
    return response


@never_cache
def address_fields(request: HttpRequest) -> HttpResponse:
    """The address selects again, for the level just chosen (htmx swaps them in place)."""
    return render(request, "helpdesk/public/_address.html", _form_context(request))


@never_cache
def request_form(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return render(request, "helpdesk/public/form.html", _form_context(request))
    address = client_address(request)
    if rate_count(key=f"help:ip:{address}", window=FORM_WINDOW) > FORM_LIMIT_PER_ADDRESS:
        return _throttled(request, _("Too many requests from this connection; try again later."), FORM_WINDOW)
    phone = request.POST.get("phone", "").strip().replace(" ", "").replace("-", "")
    if MOBILE.match(phone):
        used = rate_count(key=f"help:phone:{phone_key(phone)}", window=PHONE_WINDOW)
        if used > FORM_LIMIT_PER_PHONE:
            return _throttled(
                request,
                _("This phone number has sent too many requests today; call 12345 instead."),
                PHONE_WINDOW,
            )
    data = RequestData(
        name=request.POST.get("name", ""),
        phone=phone,
        community_id=_int(request.POST.get("community")),
        grid_id=_int(request.POST.get("grid")),
        category=request.POST.get("category", ""),
        urgency=request.POST.get("urgency", ""),
        description=request.POST.get("description", ""),
        address=request.POST.get("address", ""),
    )
    try:
        submitted = help_request_submit(data=data)
    except Invalid as error:
        return render(
            request, "helpdesk/public/form.html", _form_context(request, errors=error.errors), status=422
        )
    if submitted.duplicate:
        return render(request, "helpdesk/public/duplicate.html", {"minutes": 10})
    return redirect(reverse("help:ticket", kwargs={"ticket": submitted.request.ticket}) + "?new=1")


def _lookup_allowed(request: HttpRequest) -> bool:
    key = f"help:lookup:{client_address(request)}"
    return rate_count(key=key, window=LOOKUP_WINDOW) <= LOOKUP_LIMIT_PER_ADDRESS


@never_cache
def ticket_lookup(request: HttpRequest) -> HttpResponse:
    code = request.GET.get("ticket", "").strip()
    if not code:
        return render(request, "helpdesk/public/lookup.html", {"errors": {}})
    if not _lookup_allowed(request):
        context = {"errors": {"ticket": [_("Too many lookups; try again later.")]}, "code": code}
        return render(request, "helpdesk/public/lookup.html", context, status=429)
    try:
        found = help_request_by_ticket(ticket=code)
    except NotFound:
        context = {
            "errors": {"ticket": [_("No request has this ticket code. Check it and try again.")]},
            "code": code,
        }
        return render(request, "helpdesk/public/lookup.html", context, status=404)
    return redirect("help:ticket", ticket=found.ticket)


def _ticket_context(found: Any, **extra: Any) -> dict[str, Any]:
    return {"help": found, "who": mask_name(found.name), "Status": Status, "errors": {}, **extra}


@never_cache
def ticket_page(request: HttpRequest, ticket: str) -> HttpResponse:
    if not _lookup_allowed(request):
        return render(
            request,
            "helpdesk/public/lookup.html",
            {"errors": {"ticket": [_("Too many lookups; try again later.")]}},
            status=429,
        )
    try:
        found = help_request_by_ticket(ticket=ticket)
    except NotFound:
        return render(
            request,
            "helpdesk/public/lookup.html",
            {
                "errors": {"ticket": [_("No request has this ticket code. Check it and try again.")]},
                "code": ticket,
            },
            status=404,
        )
    return render(request, "helpdesk/public/ticket.html", _ticket_context(found, new="new" in request.GET))


@require_POST
def ticket_rate(request: HttpRequest, ticket: str) -> HttpResponse:
    try:
        found = help_request_by_ticket(ticket=ticket)
    except NotFound:
        return render(request, "helpdesk/public/lookup.html", {"errors": {}}, status=404)
    try:
        help_request_rate(
            request=found, rating=_int(request.POST.get("rating")), comment=request.POST.get("comment", "")
        )
    except Invalid as error:
        return render(
            request, "helpdesk/public/ticket.html", _ticket_context(found, errors=error.errors), status=422
        )
    except Conflict as error:
        return render(
            request,
            "helpdesk/public/ticket.html",
            _ticket_context(found, errors={"form": [error.message]}),
            status=409,
        )
    return redirect("help:ticket", ticket=found.ticket)
