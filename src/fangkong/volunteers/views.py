"""Staff pages of volunteers: the registry, one volunteer (decide, dispatch, hours, commend), and
the commendations to curate. Each object is looked up in scope before anything else (404 outside)."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from fangkong.common.pagination import paginate
from fangkong.common.views import int_param, page_action, query_string, staff_view
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can
from fangkong.volunteers import selectors, services
from fangkong.volunteers.models import DispatchStatus, Skill, VolunteerStatus


@staff_view
def volunteer_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    skill = request.GET.get("skill", "")
    q = request.GET.get("q", "")
    qs = selectors.volunteer_list(actor=request.user, status=status, skill=skill, q=q)
    page = paginate(qs, page=int_param(request, "page", 1) or 1)
    return render(
        request,
        "volunteers/list.html",
        {
            "page": page,
            "query": query_string(request),
            "status": status,
            "skill": skill,
            "q": q,
            "statuses": VolunteerStatus.choices,
            "skills": Skill.choices,
        },
    )


@staff_view
def volunteer_detail(request: HttpRequest, volunteer_id: int) -> HttpResponse:
    volunteer = selectors.volunteer_get(actor=request.user, volunteer_id=volunteer_id)
    can_change = can(request.user, Perm.VOLUNTEERS_CHANGE, volunteer.org_unit)
    decisions = [
        name for name, (sources, _target) in services.DECISIONS.items() if volunteer.status in sources
    ]
    items = (
        selectors.dispatchable_items(actor=request.user, volunteer=volunteer)[:100]
        if can_change and volunteer.status == VolunteerStatus.APPROVED
        else []
    )
    return render(
        request,
        "volunteers/detail.html",
        {
            "volunteer": volunteer,
            "can_change": can_change,
            "can_reveal": can_change or can(request.user, Perm.PEOPLE_REVEAL, volunteer.org_unit),
            "decisions": decisions if can_change else [],
            "dispatches": selectors.dispatch_list(actor=request.user, volunteer=volunteer),
            "commendations": selectors.commendation_list(actor=request.user, volunteer=volunteer),
            "items": items,
            "live": DispatchStatus.DISPATCHED,
            "today": timezone.localdate(),
        },
    )


@require_POST
@staff_view
def volunteer_reveal(request: HttpRequest, volunteer_id: int) -> HttpResponse:
    """The full mobile number as an htmx fragment; audited by the service."""
    volunteer = selectors.volunteer_get(actor=request.user, volunteer_id=volunteer_id)
    value = services.volunteer_reveal_phone(actor=request.user, volunteer=volunteer)
    return render(request, "volunteers/_revealed.html", {"value": value})


@require_POST
@staff_view
def volunteer_decide(request: HttpRequest, volunteer_id: int, decision: str) -> HttpResponse:
    volunteer = selectors.volunteer_get(actor=request.user, volunteer_id=volunteer_id)
    with page_action(request, decision):
        services.volunteer_decide(
            actor=request.user, volunteer=volunteer, decision=decision, note=request.POST.get("note", "")
        )
    return redirect("volunteers:detail", volunteer_id=volunteer.pk)


@require_POST
@staff_view
def volunteer_dispatch(request: HttpRequest, volunteer_id: int) -> HttpResponse:
    volunteer = selectors.volunteer_get(actor=request.user, volunteer_id=volunteer_id)
    with page_action(request, "dispatch"):
        item_id = int_param(request, "work_item", source=request.POST)
        item = selectors.work_item_for_dispatch(actor=request.user, item_id=item_id)
        services.dispatch_create(
            actor=request.user, volunteer=volunteer, work_item=item, note=request.POST.get("note", "")
        )
    return redirect("volunteers:detail", volunteer_id=volunteer.pk)


@require_POST
@staff_view
def dispatch_complete(request: HttpRequest, dispatch_id: int) -> HttpResponse:
    dispatch = selectors.dispatch_get(actor=request.user, dispatch_id=dispatch_id)
    with page_action(request):
        services.dispatch_complete(
            actor=request.user,
            dispatch=dispatch,
            hours=request.POST.get("hours", ""),
            note=request.POST.get("note", ""),
        )
    return redirect("volunteers:detail", volunteer_id=dispatch.volunteer_id)


@require_POST
@staff_view
def dispatch_cancel(request: HttpRequest, dispatch_id: int) -> HttpResponse:
    dispatch = selectors.dispatch_get(actor=request.user, dispatch_id=dispatch_id)
    with page_action(request):
        services.dispatch_cancel(actor=request.user, dispatch=dispatch, reason=request.POST.get("reason", ""))
    return redirect("volunteers:detail", volunteer_id=dispatch.volunteer_id)


@require_POST
@staff_view
def volunteer_commend(request: HttpRequest, volunteer_id: int) -> HttpResponse:
    volunteer = selectors.volunteer_get(actor=request.user, volunteer_id=volunteer_id)
    with page_action(request):
        try:
            commended_on = date.fromisoformat(request.POST.get("commended_on", ""))
        except ValueError:
            commended_on = timezone.localdate()
        services.commendation_create(
            actor=request.user,
            volunteer=volunteer,
            citation=request.POST.get("citation", ""),
            commended_on=commended_on,
            published=request.POST.get("published") == "on",
        )
    return redirect("volunteers:detail", volunteer_id=volunteer.pk)


@staff_view
def commendation_list(request: HttpRequest) -> HttpResponse:
    page = paginate(selectors.commendation_list(actor=request.user), page=int_param(request, "page", 1) or 1)
    return render(
        request,
        "volunteers/commendations.html",
        {
            "page": page,
            "query": query_string(request),
            "can_change": can(request.user, Perm.VOLUNTEERS_CHANGE),
        },
    )


@require_POST
@staff_view
def commendation_publish(request: HttpRequest, commendation_id: int) -> HttpResponse:
    commendation = selectors.commendation_get(actor=request.user, commendation_id=commendation_id)
    with page_action(request):
        services.commendation_publish(
            actor=request.user, commendation=commendation, published=request.POST.get("published") == "1"
        )
    if request.POST.get("next") == "list":
        return redirect("volunteers:commendations")
    return redirect("volunteers:detail", volunteer_id=commendation.volunteer_id)
