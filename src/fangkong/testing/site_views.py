"""Staff pages of sampling sites: the list of the actor's area with each queue, and a new site."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from fangkong.common.errors import Forbidden, Invalid
from fangkong.common.pagination import paginate
from fangkong.common.views import int_param, staff_user, staff_view
from fangkong.orgs.models import Level, OrgUnit
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can, visible
from fangkong.testing.models import SamplingSite
from fangkong.testing.services import SiteData, site_create


def _number(text: str) -> float:
    """A typed coordinate; anything else is NaN, which the service refuses by field."""
    try:
        return float(text) if len(text) < 20 else float("nan")
    except ValueError:
        return float("nan")


def _id(text: str) -> int:
    return int(text) if text.isascii() and text.isdigit() and len(text) < 12 else 0


def _create(request: HttpRequest, communities: list[OrgUnit]) -> SamplingSite:
    p = request.POST
    community = next((c for c in communities if c.pk == _id(p.get("community", ""))), None)
    if community is None:
        raise Invalid.field("community", _("Choose a community of your area."))
    return site_create(
        actor=staff_user(request),
        community=community,
        data=SiteData(
            name=p.get("name", ""),
            address=p.get("address", ""),
            lon=_number(p.get("lon", "")),
            lat=_number(p.get("lat", "")),
            hours=p.get("hours", ""),
            teams=_id(p.get("teams", "")),
        ),
    )


@staff_view
def site_list(request: HttpRequest) -> HttpResponse:
    """The sites of the actor's area with their queues; a form for a new one (``testing.manage``)."""
    sites = visible(
        request.user, SamplingSite.objects.select_related("org_unit__parent"), perm=Perm.TESTING_VIEW
    )
    communities = (
        list(
            visible(request.user, OrgUnit.objects.filter(level=Level.COMMUNITY), perm=Perm.TESTING_MANAGE)
            .select_related("parent")
            .order_by("path")
        )
        if can(request.user, Perm.TESTING_MANAGE)
        else []
    )
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            site = _create(request, communities)
        except Invalid as error:
            errors = error.errors
        except Forbidden as error:
            errors = {"community": [error.text()]}
        else:
            messages.success(request, _("Site %(n)s set up.") % {"n": site.name})
            return redirect("testing:sites")
    page = paginate(
        sites.order_by("org_unit__path", "name"), page=int_param(request, "page", 1) or 1, size=50
    )
    context = {"page": page, "communities": communities, "errors": errors, "typed": request.POST}
    return render(request, "testing/sites.html", context, status=422 if errors else 200)
