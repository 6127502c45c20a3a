"""Staff pages of contact discovery: start a run, watch its progress, decide proposals in bulk
(a page's ticked proposals in the request; every proposal a filter matches by the worker)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from fangkong.cases.investigations import parse_local_time
from fangkong.cases.selectors import case_get
from fangkong.common.bounds import ascii_int
from fangkong.common.errors import Conflict, Invalid
from fangkong.common.masking import mask_name
from fangkong.common.views import staff_user, staff_view
from fangkong.contacts import decisions, selectors, services
from fangkong.contacts.discovery import discovery_start
from fangkong.contacts.selectors import ReviewFilters
from fangkong.contacts.views import back_to

REFUSALS_SHOWN = 5  # the message names the first few refused, with why; the count says how many


@require_POST
@staff_view
def discovery_start_view(request: HttpRequest, case_id: int) -> HttpResponse:
    """Queue a discovery for the case over the look-back (or the range typed) and go back to it."""
    case = case_get(actor=request.user, case_id=case_id)
    p = request.POST
    try:
        start = parse_local_time(p["start"], field="start") if p.get("start", "").strip() else None
        end = parse_local_time(p["end"], field="end") if p.get("end", "").strip() else None
        run = discovery_start(actor=request.user, case=case, start=start, end=end)
    except (Invalid, Conflict) as error:
        messages.error(request, error.text())
    else:
        if run.clamped:
            messages.warning(
                request,
                _("Location data is kept for a limited time: the search starts at %(t)s.")
                % {"t": timezone.localtime(run.range_start).strftime("%Y-%m-%d %H:%M")},
            )
    return redirect(reverse("contacts:case", args=[case.pk]) + "#discovery")


@staff_view
def discovery_status(request: HttpRequest, run_id: int) -> HttpResponse:
    """A run's progress block (htmx polls it each second while it runs; when a run it watched
    ends, the page reloads to show the proposals)."""
    run = selectors.discovery_run_get(actor=request.user, run_id=run_id)
    response = render(request, "contacts/_discovery_status.html", {"run": run})
    if request.headers.get("HX-Request") and run.is_finished and request.GET.get("watching"):
        response["HX-Refresh"] = "true"
    return response


@require_POST
@staff_view
def proposals_decide(request: HttpRequest, case_id: int) -> HttpResponse:
    """Confirm or dismiss the ticked proposed contacts of a case, then go back to the same tab,
    filters, order and page of the review page (``next``)."""
    case = case_get(actor=request.user, case_id=case_id)
    if request.POST.get("matching") == "1":
        return _decide_matching(request, case)
    ids = [n for v in request.POST.getlist("contact") if (n := ascii_int(v)) is not None]
    decision = request.POST.get("decision", "")
    try:
        outcome = services.proposals_decide(
            actor=request.user,
            case=case,
            contact_ids=ids,
            decision=decision,
            reason=request.POST.get("reason", ""),
        )
    except Invalid as error:
        messages.error(request, error.text())
        return redirect(back_to(request, case.pk))
    if decision == "confirm":
        confirmed = outcome.done - outcome.handed_off
        if confirmed or not outcome.handed_off:
            text = ngettext(
                "%(n)d contact confirmed; quarantine orders made.",
                "%(n)d contacts confirmed; quarantine orders made.",
                confirmed,
            )
            messages.success(request, text % {"n": confirmed})
        if outcome.handed_off:
            text = ngettext(
                "%(n)d person lives outside your area: handed off (协查) to their home community.",
                "%(n)d people live outside your area: handed off (协查) to their home communities.",
                outcome.handed_off,
            )
            messages.success(request, text % {"n": outcome.handed_off})
    else:
        text = ngettext("%(n)d proposal dismissed.", "%(n)d proposals dismissed.", outcome.done)
        messages.success(request, text % {"n": outcome.done})
    if outcome.refused:
        names = "；".join(
            f"{mask_name(c.person.name)}：{reason}" for c, reason in outcome.refused[:REFUSALS_SHOWN]
        )
        text = ngettext("%(n)d not decided: %(names)s", "%(n)d not decided: %(names)s", len(outcome.refused))
        messages.error(request, text % {"n": len(outcome.refused), "names": names})
    return redirect(back_to(request, case.pk))


def _decide_matching(request: HttpRequest, case: Any) -> HttpResponse:
    """Queue the decision on every proposal the review's filters match and show its progress."""
    filters = ReviewFilters.parse(request.POST, default_tab="proposed")
    try:
        job = decisions.decision_start(
            actor=staff_user(request),
            case=case,
            filters=filters,
            decision=request.POST.get("decision", ""),
            reason=request.POST.get("reason", ""),
        )
    except (Invalid, Conflict) as error:
        messages.error(request, error.text())
        return redirect(back_to(request, case.pk))
    back = back_to(request, case.pk)
    return redirect(f"{reverse('contacts:decision', args=[job.pk])}?{urlencode({'next': back})}")


@staff_view
def decision_status(request: HttpRequest, decision_id: int) -> HttpResponse:
    """A bulk decision's progress (htmx polls its block each second until it ends), then what it
    did and each proposal it did not decide, with why."""
    job = selectors.proposal_decision_get(actor=request.user, decision_id=decision_id)
    back = request.GET.get("next", "")
    if not (
        back.startswith("/") and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()})
    ):
        back = reverse("contacts:case", args=[job.case_id]) + "#review"
    context = {"job": job, "back": back, "refused": job.refused[:200], "more": max(0, len(job.refused) - 200)}
    if request.headers.get("HX-Request"):
        return render(request, "contacts/_decision_status.html", context)
    return render(request, "contacts/decision.html", context)
