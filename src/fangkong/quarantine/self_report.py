"""The self-report page: no login, a signed link, a phone screen, zh-Hans first.

Rate-limited per link so that a leaked link cannot flood the work lists.
"""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from fangkong.common.errors import Conflict, Invalid, NotFound
from fangkong.common.protocol import active_profile
from fangkong.common.ratelimit import rate_count
from fangkong.people.masking import mask_name
from fangkong.quarantine.models import CheckSource
from fangkong.quarantine.monitoring import SYMPTOMS, daily_check_record, order_from_token

LIMIT, WINDOW = 12, timedelta(hours=1)


@never_cache
def self_report(request: HttpRequest, token: str) -> HttpResponse:
    try:
        order = order_from_token(token)
    except NotFound:
        return render(request, "quarantine/self_report_gone.html", status=404)
    context = {
        "who": mask_name(order.person.name),
        "order": order,
        "symptoms": SYMPTOMS.items(),
        "errors": {},
        "done": None,
    }
    if request.method == "POST":
        key = f"self-report:{order.pk}"
        if (
            rate_count(key=key, window=WINDOW, limit=LIMIT) > LIMIT
        ):  # count first: parallel posts cannot slip through
            context["errors"] = {"__all__": [_("Too many reports from this link; try again later.")]}
            return render(request, "quarantine/self_report.html", context, status=429)
        try:
            check = daily_check_record(
                actor=None,
                order=order,
                temperature=request.POST.get("temperature", ""),
                symptoms=request.POST.getlist("symptoms"),
                source=CheckSource.SELF,
            )
        except (Invalid, Conflict) as error:
            context["errors"] = error.errors if isinstance(error, Invalid) else {"__all__": [error.message]}
            return render(request, "quarantine/self_report.html", context, status=422)
        context["done"] = check
        context["follow_up"] = bool(check.symptoms) or active_profile().monitoring.is_fever(
            float(check.temperature)
        )
    return render(request, "quarantine/self_report.html", context)
