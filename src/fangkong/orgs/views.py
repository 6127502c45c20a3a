"""Staff pages of the org tree and of the user's own account."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fangkong.common.errors import Invalid
from fangkong.common.views import staff_view
from fangkong.orgs import selectors, services
from fangkong.orgs.context import navigation
from fangkong.orgs.models import Membership
from fangkong.orgs.roles import PERMISSIONS, Role
from fangkong.orgs.second_factor import recovery_codes_left, second_factor_enrolled, second_factor_required


@staff_view
def home(request: HttpRequest) -> HttpResponse:
    """The first page of the navigation the user may open (their work list for most roles)."""
    entries = navigation(request)["navigation"]
    return redirect(entries[0]["url"] if entries else "profile")


@staff_view
def tree(request: HttpRequest) -> HttpResponse:
    roots = selectors.org_unit_children(actor=request.user, unit=None)
    return render(request, "orgs/tree.html", {"units": roots, "unit": None, "ancestors": []})


@staff_view
def unit_detail(request: HttpRequest, unit_id: int) -> HttpResponse:
    unit = selectors.org_unit_get(actor=request.user, unit_id=unit_id)
    children = selectors.org_unit_children(actor=request.user, unit=unit)
    template = "orgs/_children.html" if request.headers.get("HX-Request") else "orgs/tree.html"
    return render(
        request,
        template,
        {"unit": unit, "units": children, "ancestors": selectors.org_unit_ancestors(unit=unit)},
    )


@staff_view
def profile(request: HttpRequest) -> HttpResponse:
    actor: Any = request.user
    memberships = [
        {"membership": m, "permissions": sorted(str(p.label) for p in PERMISSIONS[Role(m.role)])}
        for m in Membership.objects.filter(user=actor).select_related("org_unit")
    ]
    return render(
        request,
        "orgs/profile.html",
        {
            "memberships": memberships,
            "tokens": selectors.api_token_list(actor=request.user),
            "new_token": request.session.pop("new_token", None),
            "second_factor": {
                "enrolled": second_factor_enrolled(actor),
                "required": second_factor_required(actor),
                "codes_left": recovery_codes_left(actor),
            },
        },
    )


@require_POST
@staff_view
def token_create(request: HttpRequest) -> HttpResponse:
    try:
        days = int(request.POST.get("days") or 0) or None
        token, raw = services.api_token_create(
            actor=request.user, name=request.POST.get("name", ""), days=days
        )
    except (Invalid, ValueError) as error:
        messages.error(request, error.text() if isinstance(error, Invalid) else str(error))
    else:
        request.session["new_token"] = raw
        messages.success(
            request, _("Token “%(name)s” created. Copy it now: it is not shown again.") % {"name": token.name}
        )
    return redirect("profile")


@require_POST
@staff_view
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    services.api_token_revoke(actor=request.user, token_id=token_id)
    messages.success(request, _("Token revoked."))
    return redirect("profile")
