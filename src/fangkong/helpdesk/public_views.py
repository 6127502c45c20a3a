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
from fangkong.common.ratelimit import rate_count, rate_limited, retry_after
from fangkong.common.views import int_param
from fangkong.helpdesk.models import Category, Status, Urgency
from fangkong.helpdesk.selectors import help_request_by_ticket
from fangkong.helpdesk.services import (
    DUPLICATE_WINDOW,
    RequestData,
    help_request_check,
    help_request_rate,
    help_request_submit,
    normalise_ticket,
    phone_key,
)
from fangkong.orgs.models import Level, OrgUnit
from fangkong.people.masking import mask_name

FORM_LIMIT_PER_ADDRESS, FORM_WINDOW = 30, timedelta(hours=1)  # carriers share addresses
FORM_LIMIT_PER_PHONE, PHONE_WINDOW = 5, timedelta(days=1)
LOOKUP_LIMIT_PER_ADDRESS, LOOKUP_WINDOW = 60, timedelta(hours=1)  # codes not found
DUPLICATE_MINUTES = int(DUPLICATE_WINDOW.total_seconds() // 60)
MINE_COOKIE, MINE_SALT, MINE_KEPT = "fk_help", "helpdesk.mine", 5


def _address_context(request: HttpRequest, source: Any) -> dict[str, Any]:
    """The cascade district → street → community → grid, each list below what is chosen."""
    chosen = {
        level: int_param(request, level, source=source)
        for level in ("district", "street", "community", "grid")
    }
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
        **_address_context(request, source),
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
    if (
        rate_count(key=f"help:ip:{address}", window=FORM_WINDOW, limit=FORM_LIMIT_PER_ADDRESS)
        > FORM_LIMIT_PER_ADDRESS
    ):
        return _throttled(request, _("Too many requests from this connection; try again later."), FORM_WINDOW)
    data = RequestData(
        name=request.POST.get("name", ""),
        phone=request.POST.get("phone", "")[:40],
        community_id=int_param(request, "community", source=request.POST),
        grid_id=int_param(request, "grid", source=request.POST),
        category=request.POST.get("category", ""),
        urgency=request.POST.get("urgency", ""),
        description=request.POST.get("description", ""),
        address=request.POST.get("address", ""),
    )
    try:
        phone = help_request_check(data=data)  # only a valid request is charged to its phone
    except Invalid as error:
        return render(
            request, "helpdesk/public/form.html", _form_context(request, errors=error.errors), status=422
        )
    used = rate_count(key=f"help:phone:{phone_key(phone)}", window=PHONE_WINDOW, limit=FORM_LIMIT_PER_PHONE)
    if used > FORM_LIMIT_PER_PHONE:
        return _throttled(
            request,
            _("This phone number has sent too many requests today; call 12345 instead."),
            PHONE_WINDOW,
        )
    try:
        submitted = help_request_submit(data=data)
    except Invalid as error:
        return render(
            request, "helpdesk/public/form.html", _form_context(request, errors=error.errors), status=422
        )
    if submitted.duplicate:
        earlier = submitted.request.ticket if submitted.request.ticket in _mine(request) else None
        return render(
            request, "helpdesk/public/duplicate.html", {"minutes": DUPLICATE_MINUTES, "earlier": earlier}
        )
    ticket = submitted.request.ticket
    response = redirect(reverse("help:ticket", kwargs={"ticket": ticket}) + "?new=1")
    kept = [ticket, *(t for t in _mine(request) if t != ticket)][:MINE_KEPT]
    response.set_signed_cookie(
        MINE_COOKIE, ",".join(kept), salt=MINE_SALT, max_age=30 * 86400, httponly=True, samesite="Lax"
    )
    return response


def _mine(request: HttpRequest) -> list[str]:
    """The tickets this browser was given (a signed cookie): their pages are never throttled."""
    value = request.get_signed_cookie(MINE_COOKIE, default="", salt=MINE_SALT)
    return [t for t in (value or "").split(",") if t]


def _lookup_key(request: HttpRequest) -> str:
    return f"help:lookup-miss:{client_address(request)}"


def _find(request: HttpRequest, code: str) -> tuple[Any, HttpResponse | None]:
    """The request with ticket ``code``, or the page to answer instead.

    Only codes not found are counted against the address: past the limit the address may not
    look up any code for a while (so codes cannot be guessed by trying), except the tickets
    this browser was given itself.
    """
    mine = normalise_ticket(code) in _mine(request)
    if not mine and rate_limited(
        key=_lookup_key(request), limit=LOOKUP_LIMIT_PER_ADDRESS, window=LOOKUP_WINDOW
    ):
        context = {"errors": {"ticket": [_("Too many codes not found; try again later.")]}, "code": code}
        response = render(request, "helpdesk/public/lookup.html", context, status=429)
        response["Retry-After"] = str(retry_after(window=LOOKUP_WINDOW))
        return None, response
    try:
        return help_request_by_ticket(ticket=code), None
    except NotFound:
        rate_count(key=_lookup_key(request), window=LOOKUP_WINDOW)
        context = {
            "errors": {"ticket": [_("No request has this ticket code. Check it and try again.")]},
            "code": code,
        }
        return None, render(request, "helpdesk/public/lookup.html", context, status=404)


@never_cache
def ticket_lookup(request: HttpRequest) -> HttpResponse:
    code = request.GET.get("ticket", "").strip()
    if not code:
        return render(request, "helpdesk/public/lookup.html", {"errors": {}, "mine": _mine(request)})
    found, refused = _find(request, code)
    if refused is not None:
        return refused
    return redirect("help:ticket", ticket=found.ticket)


def _ticket_context(found: Any, **extra: Any) -> dict[str, Any]:
    calls = list(found.calls.only("called_at", "outcome"))
    return {
        "help": found,
        "who": mask_name(found.name),
        "calls": calls,
        "Status": Status,
        "errors": {},
        **extra,
    }


@never_cache
def ticket_page(request: HttpRequest, ticket: str) -> HttpResponse:
    found, refused = _find(request, ticket)
    if refused is not None:
        return refused
    return render(request, "helpdesk/public/ticket.html", _ticket_context(found, new="new" in request.GET))


@require_POST
def ticket_rate(request: HttpRequest, ticket: str) -> HttpResponse:
    found, refused = _find(request, ticket)  # codes not found count here too
    if refused is not None:
        return refused
    try:
        help_request_rate(
            request=found,
            rating=int_param(request, "rating", source=request.POST),
            comment=request.POST.get("comment", ""),
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
