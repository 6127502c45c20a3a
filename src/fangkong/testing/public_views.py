"""Public pages of mass testing (no login): the sampling sites with their queues, and a
resident's own results (see ``testing.public`` for the rules)."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from fangkong.common.context import client_address
from fangkong.common.masking import mask_name
from fangkong.common.ratelimit import rate_count, retry_after
from fangkong.testing.codes import person_code, person_from_code, person_qr_svg
from fangkong.testing.models import QueueStatus
from fangkong.testing.public import LOOKUPS_PER_HOUR, own_results, person_matching, sites_open
from fangkong.testing.site_map import site_maps

WINDOW = timedelta(hours=1)
# the map's legend, in the order of the queue (a closed site is not on the page at all)
MAP_QUEUES = [QueueStatus.NONE, QueueStatus.SHORT, QueueStatus.LONG]


def sites(request: HttpRequest) -> HttpResponse:
    """The open sites on a map per street (see ``testing.site_map``), each with its queue."""
    context = {"maps": site_maps(sites=sites_open()), "queues": MAP_QUEUES, "now": timezone.now()}
    return render(request, "testing/public/sites.html", context)


@never_cache
def result_lookup(request: HttpRequest) -> HttpResponse:
    """The lookup form; sent, the results of the person the ID number and name name (or none)."""
    if request.method != "POST":
        return render(request, "testing/public/lookup.html", {"errors": {}})
    id_number = request.POST.get("id_number", "").replace("\x00", "")[:40]
    name = request.POST.get("name", "").replace("\x00", "")[:50]
    errors = {}
    if not id_number.strip():
        errors["id_number"] = [_("Give your ID number.")]
    if not name.strip():
        errors["name"] = [_("Give your name as on your ID card.")]
    if errors:
        return render(request, "testing/public/lookup.html", {"errors": errors}, status=422)
    used = rate_count(key=f"testing:lookup:{client_address(request)}", window=WINDOW, limit=LOOKUPS_PER_HOUR)
    if used > LOOKUPS_PER_HOUR:
        context = {"errors": {"id_number": [_("Too many lookups from this address; try again later.")]}}
        response = render(request, "testing/public/lookup.html", context, status=429)
        response["Retry-After"] = str(retry_after(window=WINDOW))
        return response
    person = person_matching(id_number=id_number, name=name)
    return _results(request, person)


@never_cache
def result_by_code(request: HttpRequest, code: str) -> HttpResponse:
    """The results behind a 核酸码 link (an invalid or expired code shows none, as above)."""
    return _results(request, person_from_code(code[:100]), by_code=True)


def _results(request: HttpRequest, person: object, *, by_code: bool = False) -> HttpResponse:
    from fangkong.people.models import Person

    found = person if isinstance(person, Person) else None
    code = person_code(found) if found else ""
    context = {
        "results": own_results(person=found),
        "masked": mask_name(found.name) if found else "",
        "code": code,
        # segno's SVG holds only module paths, no text of ours: nothing to escape
        "qr": mark_safe(person_qr_svg(code=code)) if code else "",  # noqa: S308
        "now": timezone.now(),
        "by_code": by_code,
    }
    return render(request, "testing/public/results.html", context)
