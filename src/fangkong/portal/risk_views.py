"""Staff pages of risk areas: the list with pending downgrade proposals, designate, decide, lift."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fangkong.common.errors import Conflict, Invalid
from fangkong.common.views import add_errors, page_action, staff_view
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can
from fangkong.portal import risk, selectors
from fangkong.portal.forms import DesignateForm
from fangkong.portal.views import _require_desk


def _designate_form(request: HttpRequest, data: object = None) -> DesignateForm:
    form = DesignateForm(data, initial={"since": timezone.localdate(), "level": "high"})  # type: ignore[arg-type]
    form.fields["unit"].queryset = selectors.approve_units(actor=request.user)  # type: ignore[attr-defined]
    return form


def _list(request: HttpRequest, form: DesignateForm, *, status: int = 200) -> HttpResponse:
    show = request.GET.get("show", "active")
    return render(
        request,
        "publish/risk_areas.html",
        {
            "areas": selectors.risk_area_list(actor=request.user, active=None if show == "all" else True),
            "proposals": selectors.risk_proposals_pending(actor=request.user),
            "form": form,
            "show": show,
            "can_approve": can(request.user, Perm.PORTAL_APPROVE),
        },
        status=status,
    )


@staff_view
def area_list(request: HttpRequest) -> HttpResponse:
    _require_desk(request)
    return _list(request, _designate_form(request))


@require_POST
@staff_view
def area_designate(request: HttpRequest) -> HttpResponse:
    form = _designate_form(request, request.POST)
    if form.is_valid():
        try:
            area = risk.risk_area_designate(actor=request.user, **form.cleaned_data)
        except Invalid as error:
            add_errors(form, error.errors)
        except Conflict as error:
            form.add_error(None, error.text())
        else:
            return redirect("publish:area", area_id=area.pk)
    return _list(request, form, status=422)


@staff_view
def area_detail(request: HttpRequest, area_id: int) -> HttpResponse:
    area = selectors.risk_area_get(actor=request.user, area_id=area_id)
    return render(
        request,
        "publish/risk_area.html",
        {
            "area": area,
            "changes": area.changes.select_related("by"),
            "last_case": risk.last_new_case_on(area),
        },
    )


@require_POST
@staff_view
def area_lift(request: HttpRequest, area_id: int) -> HttpResponse:
    area = selectors.risk_area_get(actor=request.user, area_id=area_id)
    with page_action(request, "lift"):
        risk.risk_area_lift(actor=request.user, area=area, reason=request.POST.get("reason", ""))
    return redirect("publish:area", area_id=area.pk)


@require_POST
@staff_view
def proposal_decide(request: HttpRequest, change_id: int, decision: str) -> HttpResponse:
    proposal = selectors.risk_proposal_get(actor=request.user, change_id=change_id)
    with page_action(request, decision):
        if decision == "approve":
            risk.risk_proposal_approve(actor=request.user, proposal=proposal)
        elif decision == "reject":
            risk.risk_proposal_reject(
                actor=request.user, proposal=proposal, reason=request.POST.get("reason", "")
            )
        else:
            raise Invalid.field("decision", _("Approve or reject."))
    return redirect("publish:areas")
