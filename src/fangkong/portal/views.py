"""Staff pages of the portal: the publishing desk's home and the bulletins."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fangkong.common.errors import Conflict, Invalid
from fangkong.common.pagination import paginate
from fangkong.common.views import add_errors, int_param, page_action, query_string, staff_view
from fangkong.orgs.models import OrgUnit
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can
from fangkong.portal import selectors, services
from fangkong.portal.forms import BulletinForm, DraftForm
from fangkong.portal.models import BulletinStatus


def _require_desk(request: HttpRequest) -> None:
    if not (can(request.user, Perm.PORTAL_PUBLISH) or can(request.user, Perm.PORTAL_APPROVE)):
        raise PermissionDenied(_("Your role has no part in the portal."))


def _draft_form(request: HttpRequest, data: object = None) -> DraftForm:
    form = DraftForm(data, initial={"day": timezone.localdate() - timedelta(days=1)})  # type: ignore[arg-type]
    units = selectors.publish_units(actor=request.user)
    form.fields["unit"].queryset = OrgUnit.objects.filter(pk__in=[u.pk for u in units])  # type: ignore[attr-defined]
    if units:
        form.fields["unit"].initial = units[0].pk
    return form


@staff_view
def home(request: HttpRequest) -> HttpResponse:
    _require_desk(request)
    actor = request.user
    return render(
        request,
        "publish/home.html",
        {
            "waiting": selectors.bulletin_list(actor=actor, status=BulletinStatus.AWAITING_APPROVAL)[:10],
            "drafts": selectors.bulletin_list(actor=actor, status=BulletinStatus.DRAFT)[:10],
            "proposals": selectors.risk_proposals_pending(actor=actor)[:20],
            "can_publish": can(actor, Perm.PORTAL_PUBLISH),
            "can_approve": can(actor, Perm.PORTAL_APPROVE),
            "approval_required": services.approval_required(),
        },
    )


@staff_view
def bulletin_list(request: HttpRequest) -> HttpResponse:
    _require_desk(request)
    status = request.GET.get("status", "")
    status = status if status in BulletinStatus.values else ""
    page = paginate(
        selectors.bulletin_list(actor=request.user, status=status), page=int_param(request, "page", 1) or 1
    )
    return render(
        request,
        "publish/bulletins.html",
        {
            "page": page,
            "query": query_string(request),
            "status": status,
            "statuses": BulletinStatus.choices,
            "form": _draft_form(request),
            "can_publish": can(request.user, Perm.PORTAL_PUBLISH),
        },
    )


@require_POST
@staff_view
def bulletin_new(request: HttpRequest) -> HttpResponse:
    form = _draft_form(request, request.POST)
    if form.is_valid():
        try:
            bulletin = services.bulletin_draft(
                actor=request.user, unit=form.cleaned_data["unit"], day=form.cleaned_data["day"]
            )
        except Invalid as error:
            add_errors(form, error.errors)
        except Conflict as error:
            form.add_error(None, error.text())
        else:
            return redirect("publish:bulletin", bulletin_id=bulletin.pk)
    page = paginate(selectors.bulletin_list(actor=request.user), page=1)
    return render(
        request,
        "publish/bulletins.html",
        {
            "page": page,
            "query": "",
            "status": "",
            "statuses": BulletinStatus.choices,
            "form": form,
            "can_publish": True,
        },
        status=422,
    )


@staff_view
def bulletin_detail(request: HttpRequest, bulletin_id: int) -> HttpResponse:
    bulletin = selectors.bulletin_get(actor=request.user, bulletin_id=bulletin_id)
    form = BulletinForm(initial={"title": bulletin.title, "body": bulletin.body})
    status = 200
    if request.method == "POST":
        form = BulletinForm(request.POST)
        if form.is_valid():
            try:
                services.bulletin_edit(actor=request.user, bulletin=bulletin, **form.cleaned_data)
            except Invalid as error:
                add_errors(form, error.errors)
            except Conflict as error:
                form.add_error(None, error.text())
            else:
                messages.success(request, _("Saved."))
                return redirect("publish:bulletin", bulletin_id=bulletin.pk)
        status = 422
    unit = bulletin.org_unit
    return render(
        request,
        "publish/bulletin.html",
        {
            "bulletin": bulletin,
            "form": form,
            "versions": bulletin.versions.select_related("author"),
            "can_publish": can(request.user, Perm.PORTAL_PUBLISH, unit),
            "can_approve": can(request.user, Perm.PORTAL_APPROVE, unit),
            "approval_required": services.approval_required(),
        },
        status=status,
    )


BULLETIN_ACTIONS = {
    "submit": services.bulletin_submit,
    "return": services.bulletin_return,
    "approve": services.bulletin_approve,
    "publish": services.bulletin_publish,
    "withdraw": services.bulletin_withdraw,
}


@require_POST
@staff_view
def bulletin_action(request: HttpRequest, bulletin_id: int, action: str) -> HttpResponse:
    bulletin = selectors.bulletin_get(actor=request.user, bulletin_id=bulletin_id)
    with page_action(request, action):
        move = BULLETIN_ACTIONS.get(action)
        if move is None:
            raise Invalid.field("action", _("Unknown action."))
        move(actor=request.user, bulletin=bulletin)
    return redirect("publish:bulletin", bulletin_id=bulletin.pk)
