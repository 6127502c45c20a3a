"""Staff pages of hand-offs (协查): the requests to decide for my units, and those my cases sent."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from fangkong.common.bounds import ascii_int
from fangkong.common.errors import Invalid
from fangkong.common.pagination import paginate
from fangkong.common.views import int_param, query_string, staff_user, staff_view
from fangkong.contacts import handoff
from fangkong.contacts.models import HandoffStatus

PER_PAGE = 50


@staff_view
def handoff_list(request: HttpRequest) -> HttpResponse:
    """Two lists: hand-offs to the units where I may quarantine people (to accept or decline), and
    hand-offs from the cases of my area (their status; masked names only)."""
    shown = request.GET.get("status", HandoffStatus.REQUESTED)
    shown = shown if shown in HandoffStatus.values or shown == "all" else HandoffStatus.REQUESTED
    rows = handoff.handoffs_for(actor=staff_user(request), status="" if shown == "all" else shown)
    incoming, outgoing = handoff.handoffs_split(actor=staff_user(request), rows=rows)
    return render(
        request,
        "contacts/handoffs.html",
        {
            "incoming": paginate(
                incoming.order_by("created_at", "pk"), page=int_param(request, "page", 1) or 1, size=PER_PAGE
            ),
            "outgoing": outgoing.order_by("-created_at", "-pk")[:PER_PAGE],
            "outgoing_total": outgoing.count(),
            "shown": shown,
            "statuses": [*HandoffStatus.choices, ("all", _("All"))],
            "query": query_string(request),
        },
    )


@require_POST
@staff_view
def handoff_decide(request: HttpRequest) -> HttpResponse:
    """Accept or decline the ticked hand-offs (the home unit's decision), then back to the list."""
    ids = [n for v in request.POST.getlist("handoff") if (n := ascii_int(v)) is not None]
    decision = request.POST.get("decision", "")
    back = reverse("contacts:handoffs") + "?" + request.POST.get("query", "")
    try:
        if not ids:
            raise Invalid.field("handoff", _("Choose at least one hand-off."))
        if decision == "accept":
            outcome = handoff.handoffs_accept(actor=staff_user(request), handoff_ids=ids)
            text = ngettext(
                "%(n)d contact taken over; quarantine orders made in your area.",
                "%(n)d contacts taken over; quarantine orders made in your area.",
                len(outcome.done),
            )
        elif decision == "decline":
            outcome = handoff.handoffs_decline(
                actor=staff_user(request), handoff_ids=ids, reason=request.POST.get("reason", "")
            )
            text = ngettext(
                "%(n)d hand-off sent back to the case's team.",
                "%(n)d hand-offs sent back to the case's team.",
                len(outcome.done),
            )
        else:
            raise Invalid.field("decision", _("Unknown decision."))
    except Invalid as error:
        messages.error(request, error.text())
        return redirect(back)
    if outcome.done:
        messages.success(request, text % {"n": len(outcome.done)})
    for pk, refusal in outcome.refused:
        messages.error(request, _("Hand-off %(n)s: %(r)s") % {"n": pk, "r": refusal.text()})
    return redirect(back)
