"""Staff pages of the spatiotemporal companions' tests (三天两检): the tests owed, results in bulk."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from fangkong.cases.investigations import parse_local_time
from fangkong.common.errors import Invalid
from fangkong.common.masking import mask_name
from fangkong.common.pagination import paginate
from fangkong.common.views import date_param, int_param, query_string, staff_user, staff_view
from fangkong.contacts import selectors
from fangkong.contacts.companions import NEGATIVE, POSITIVE, TestTaken, companion_tests_record
from fangkong.contacts.models import CompanionTest

PAGE_SIZE = 100
REFUSALS_SHOWN = 5


UPCOMING_DAYS = 3
"""Without a day chosen the desk shows the tests owed in the next three days (三天两检), overdue
ones first."""


def _sane_day(request: HttpRequest) -> date:
    today = timezone.localdate()
    day = date_param(request, "on") or today + timedelta(days=UPCOMING_DAYS)
    return day if 2000 <= day.year <= 2100 else today


@staff_view
def companion_tests(request: HttpRequest) -> HttpResponse:
    """The tests companions owe by a day (today by default, overdue included), searchable; the
    bulk result form above them."""
    today = timezone.localdate()
    on = _sane_day(request)
    q = request.GET.get("q", "").replace("\x00", "").strip()[:50]
    qs = selectors.companion_tests_waiting(actor=request.user, due_by=on, q=q)
    page = paginate(qs, page=min(int_param(request, "page", 1) or 1, 10**6), size=PAGE_SIZE)
    return render(
        request,
        "contacts/companion_tests.html",
        {
            "page": page,
            "on": on,
            "today": today,
            "q": q,
            "query": query_string(request),
            "back": query_string(request, drop=()).rstrip("&"),
            "now": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
        },
    )


def _ticked(values: list[str]) -> list[tuple[int, int]]:
    """The ticked tests as (contact id, test number); anything else is left out."""
    ticked = []
    for value in values:
        contact, _sep, number = value.partition(":")
        if (
            contact.isascii()
            and contact.isdigit()
            and len(contact) <= 12
            and number.isascii()
            and number.isdigit()
            and len(number) <= 2
        ):
            ticked.append((int(contact), int(number)))
    return ticked


@require_POST
@staff_view
def companion_tests_results(request: HttpRequest) -> HttpResponse:
    """Record one result for the ticked tests, taken at the time given (now by default)."""
    back = reverse("contacts:companion-tests") + "?" + request.POST.get("back", "")[:500]
    result = request.POST.get("result", "")
    try:
        text = request.POST.get("tested_at", "").strip()
        tested_at = parse_local_time(text, field="tested_at") if text else timezone.now()
        ticked = _ticked(request.POST.getlist("tests"))
        if not ticked:
            raise Invalid.field("tests", _("Tick at least one test."))
        if result not in {NEGATIVE, POSITIVE}:
            raise Invalid.field("result", _("A test result is negative or positive."))
        outcome = companion_tests_record(
            actor=staff_user(request),
            results=[
                TestTaken(contact_id=c, number=n, tested_at=tested_at, result=result) for c, n in ticked
            ],
        )
    except Invalid as error:
        messages.error(request, error.text())
        return redirect(back)
    n = len(outcome.recorded)
    if result == NEGATIVE:
        messages.success(
            request, ngettext("%(n)d negative test recorded.", "%(n)d negative tests recorded.", n) % {"n": n}
        )
    else:
        messages.success(
            request,
            ngettext(
                "%(n)d positive test recorded; %(c)d suspected case registered and a flow investigation started.",
                "%(n)d positive tests recorded; %(c)d suspected cases registered and flow investigations started.",
                n,
            )
            % {"n": n, "c": outcome.cases},
        )
    if outcome.refused:
        names = dict(
            CompanionTest.objects.filter(
                contact_id__in=[t.contact_id for t, _why in outcome.refused[:REFUSALS_SHOWN]]
            ).values_list("contact_id", "contact__person__name")
        )
        listed = "；".join(
            f"{mask_name(names.get(t.contact_id, ''))}：{why}" for t, why in outcome.refused[:REFUSALS_SHOWN]
        )
        total = len(outcome.refused)
        messages.error(
            request,
            ngettext("%(n)d not recorded: %(names)s", "%(n)d not recorded: %(names)s", total)
            % {"n": total, "names": listed},
        )
    return redirect(back)
