"""Staff pages of the help desk: the queue, a request (claim, call back, resolve), SLA by district."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fangkong.common.errors import Invalid
from fangkong.common.pagination import paginate
from fangkong.common.views import int_param, page_action, query_string, staff_view
from fangkong.helpdesk import selectors, services
from fangkong.helpdesk.models import Category, Outcome, Status, Urgency
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can

STATUS_FILTERS = [
    ("unresolved", _("Not resolved")),
    ("open", Status.OPEN.label),
    ("claimed", Status.CLAIMED.label),
    ("resolved", Status.RESOLVED.label),
    ("all", _("All")),
]


@staff_view
def queue(request: HttpRequest) -> HttpResponse:
    g = request.GET
    filters = selectors.QueueFilter(
        status=g.get("status", "unresolved"),
        urgency=g.get("urgency", ""),
        category=g.get("category", ""),
        mine=g.get("mine") == "1",
        escalated=g.get("escalated") == "1",
        q=g.get("q", ""),
    )
    page = paginate(
        selectors.help_request_queue(actor=request.user, filters=filters),
        page=int_param(request, "page", 1) or 1,
    )
    return render(
        request,
        "helpdesk/queue.html",
        {
            "page": page,
            "filters": filters,
            "statuses": STATUS_FILTERS,
            "categories": Category.choices,
            "urgencies": Urgency.choices,
            "query": query_string(request),
            "now": timezone.now(),
        },
    )


@staff_view
def detail(request: HttpRequest, request_id: int) -> HttpResponse:
    found = selectors.help_request_get(actor=request.user, request_id=request_id)
    return render(
        request,
        "helpdesk/detail.html",
        {
            "help": found,
            "calls": found.calls.select_related("operator"),
            "outcomes": Outcome.choices,
            "can_change": can(request.user, Perm.HELPDESK_CHANGE, found.org_unit),
            "mine": found.claimed_by_id == request.user.pk,
            "Status": Status,
            "now": timezone.now(),
        },
    )


@require_POST
@staff_view
def action(request: HttpRequest, request_id: int, action: str) -> HttpResponse:
    found = selectors.help_request_get(actor=request.user, request_id=request_id)
    p = request.POST
    with page_action(request, action):
        if action == "claim":
            services.help_request_claim(actor=request.user, request=found)
        elif action == "release":
            services.help_request_release(actor=request.user, request=found)
        elif action == "call":
            services.call_log(
                actor=request.user, request=found, outcome=p.get("outcome", ""), note=p.get("note", "")
            )
        elif action == "resolve":
            services.help_request_resolve(
                actor=request.user, request=found, resolution=p.get("resolution", "")
            )
        else:
            raise Invalid.field("action", _("Unknown action."))
    return redirect("helpdesk:detail", request_id=found.pk)


@require_POST
@staff_view
def reveal(request: HttpRequest, request_id: int) -> HttpResponse:
    """The full phone and address as an htmx fragment; audited by the service."""
    found = selectors.help_request_get(actor=request.user, request_id=request_id)
    values = services.help_request_reveal(actor=request.user, request=found)
    return render(request, "helpdesk/_revealed.html", values)


@staff_view
def sla(request: HttpRequest) -> HttpResponse:
    days = max(1, min(int_param(request, "days", 7) or 7, 90))
    now = timezone.now()
    rows = selectors.sla_by_district(actor=request.user, since=now - timedelta(days=days), now=now)
    escalated = selectors.help_request_queue(
        actor=request.user, filters=selectors.QueueFilter(status="unresolved", escalated=True)
    )[:50]
    return render(
        request, "helpdesk/sla.html", {"rows": rows, "days": days, "escalated": escalated, "now": now}
    )
