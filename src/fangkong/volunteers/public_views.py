"""Public pages of volunteers: the sign-up form (no login, a phone screen) and the role models.

The sign-up is counted against the sender's address before anything else (so parallel posts cannot
slip past the limit), then against the phone's keyed hash (never the number itself); past either
limit it answers 429. A bad form answers 422 with each field's message; an accepted one is stored
before the page answers.
"""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from fangkong.common.context import client_address
from fangkong.common.errors import Invalid
from fangkong.common.pagination import paginate
from fangkong.common.ratelimit import rate_count, retry_after
from fangkong.common.views import int_param
from fangkong.orgs.models import OrgUnit
from fangkong.volunteers import selectors
from fangkong.volunteers.models import Availability, Skill
from fangkong.volunteers.services import AlreadyRegistered, phone_index, volunteer_apply
from fangkong.volunteers.validation import SignUpData, phone_or_none

IP_LIMIT, IP_WINDOW = 10, timedelta(hours=1)
PHONE_LIMIT, PHONE_WINDOW = 3, timedelta(days=1)


def _data(request: HttpRequest) -> SignUpData:
    post = request.POST
    return SignUpData(
        name=post.get("name", "")[:200],
        phone=post.get("phone", "")[:40],
        org_unit_id=int_param(request, "org_unit", source=post),
        skills=[s[:40] for s in post.getlist("skills")[:20]],
        availability=post.get("availability", ""),
        availability_note=post.get("availability_note", "")[:1000],
        consent=post.get("consent") == "on",
    )


def _throttled(request: HttpRequest, data: SignUpData) -> int | None:
    """Seconds to wait when the address or the phone is past its limit, else None."""
    ip = client_address(request)
    if rate_count(key=f"volunteer:ip:{ip}", window=IP_WINDOW, limit=IP_LIMIT) > IP_LIMIT:
        return retry_after(window=IP_WINDOW)
    phone = phone_or_none(data.phone)
    if (
        phone
        and rate_count(key=f"volunteer:phone:{phone_index(phone)}", window=PHONE_WINDOW, limit=PHONE_LIMIT)
        > PHONE_LIMIT
    ):
        return retry_after(window=PHONE_WINDOW)
    return None


@never_cache
def signup(request: HttpRequest) -> HttpResponse:
    district_id = int_param(request, "district", source=request.POST if request.method == "POST" else None)
    district = OrgUnit.objects.filter(pk=district_id, level="district").first() if district_id else None
    data = _data(request) if request.method == "POST" else SignUpData()
    context = {
        "data": data,
        "errors": {},
        "districts": selectors.signup_districts(),
        "district": district,
        "areas": selectors.signup_areas(district=district),
        "skills": Skill.choices,
        "availabilities": Availability.choices,
    }
    if request.method != "POST":
        return render(request, "volunteers/signup.html", context)
    wait = _throttled(request, data)
    if wait is not None:
        minutes = -(-wait // 60)
        context["general"] = [
            _("Too many sign-ups from here or for this number. Please try again in %(m)d minutes.")
            % {"m": minutes}
        ]
        response = render(request, "volunteers/signup.html", context, status=429)
        response["Retry-After"] = str(wait)
        return response
    try:
        volunteer_apply(data=data)
    except Invalid as error:
        context["errors"] = error.errors
        context["general"] = error.errors.get("__all__", [])
        return render(request, "volunteers/signup.html", context, status=422)
    except AlreadyRegistered:
        pass  # answered as a new sign-up: the form must not tell whether a number is registered
    return redirect("volunteer:thanks")


def thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "volunteers/thanks.html")


def honours(request: HttpRequest) -> HttpResponse:
    """The public role-model list (先进典型): published citations, names masked, area by name."""
    page = paginate(selectors.public_commendations(), page=int_param(request, "page", 1) or 1)
    return render(request, "volunteers/honours.html", {"page": page, "query": ""})
