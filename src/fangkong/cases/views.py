"""Staff pages of cases: list, register, detail with timeline and actions."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fangkong.cases import selectors, services
from fangkong.cases.forms import CaseForm
from fangkong.cases.investigations import TIME_FORMAT, parse_local_time
from fangkong.cases.models import CLASSIFICATION_MOVES, OUTCOME_MOVES, Case, Classification, Outcome, Severity
from fangkong.common.bounds import ascii_int
from fangkong.common.errors import Conflict, Forbidden, Invalid
from fangkong.common.pagination import paginate
from fangkong.common.views import add_errors, date_param, int_param, query_string, staff_view
from fangkong.orgs.models import Level
from fangkong.orgs.roles import Perm
from fangkong.orgs.scope import can
from fangkong.orgs.selectors import org_unit_list
from fangkong.people.models import Person
from fangkong.people.selectors import person_list


@staff_view
def case_list(request: HttpRequest) -> HttpResponse:
    g = request.GET
    filters = selectors.CaseFilters(
        classification=g.get("classification", ""),
        district_id=int_param(request, "district"),
        reported_since=date_param(request, "since"),
        reported_until=date_param(request, "until"),
        q=g.get("q", ""),
    )
    page = paginate(
        selectors.case_list(actor=request.user, filters=filters), page=int_param(request, "page", 1) or 1
    )
    districts = org_unit_list(actor=request.user, level=Level.DISTRICT, perm=Perm.CASES_VIEW)
    return render(
        request,
        "cases/list.html",
        {
            "page": page,
            "query": query_string(request),
            "filters": filters,
            "districts": districts,
            "classifications": Classification.choices,
            "can_register": can(request.user, Perm.CASES_CHANGE),
        },
    )


def _find_person(actor: Any, text: str) -> Person:
    """The one person in scope that ``text`` names: a record number, a full document number or a mobile."""
    text = text.strip()
    qs = person_list(actor=actor)
    pk = ascii_int(text)
    found = list(qs.filter(pk=pk)[:2]) if pk is not None else []
    if not found:
        found = list(person_list(actor=actor, q=text).exclude(name__contains=text)[:2]) if text else []
    if len(found) != 1:
        raise Invalid.field("person", _("No person with this number in your area; register them first."))
    return found[0]


@staff_view
def case_register(request: HttpRequest) -> HttpResponse:
    if not can(request.user, Perm.CASES_CHANGE):
        raise Forbidden("cases.change")
    form = CaseForm(request.POST or None, initial={"person": request.GET.get("person", "")})
    if request.method == "POST" and form.is_valid():
        c = form.cleaned_data
        try:
            person = _find_person(request.user, c["person"])
            details = services.CaseDetails(
                origin=c["origin"],
                hospital=c["hospital"],
                onset_date=c["onset_date"],
                sampled_at=c["sampled_at"],
                note=c["note"],
            )
            case = services.case_register(
                actor=request.user,
                person=person,
                classification=c["classification"],
                reported_at=c["reported_at"],
                details=details,
            )
        except Invalid as error:
            add_errors(form, error.errors)
        except Conflict as error:
            form.add_error("person", error.message)
        else:
            messages.success(request, _("Registered case %(n)s.") % {"n": case.number})
            return redirect("cases:detail", case_id=case.pk)
    return render(request, "cases/form.html", {"form": form})


def _detail(request: HttpRequest, case: Case, *, status: int = 200, error: str = "") -> HttpResponse:
    investigation = selectors.investigation_of(case=case)
    return render(
        request,
        "cases/detail.html",
        {
            "case": case,
            "events": selectors.case_timeline(case=case),
            "investigation": investigation,
            "itinerary": selectors.itinerary_of(investigation=investigation),
            "error": error,
            "can_change": can(request.user, Perm.CASES_CHANGE, case.org_unit),
            "severities": Severity.choices,
            "now": timezone.localtime().strftime(TIME_FORMAT),
            "moves": _moves(case),
        },
        status=status,
    )


def _moves(case: Case) -> list[tuple[str, str, Any]]:
    """The buttons a case offers: (kind, value, label) for each legal move."""
    moves = [
        ("classify", to, Classification(to).label) for to in sorted(CLASSIFICATION_MOVES[case.classification])
    ]
    if case.classification != Classification.EXCLUDED:
        moves += [("outcome", to, Outcome(to).label) for to in sorted(OUTCOME_MOVES[case.outcome])]
    return moves


@staff_view
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    return _detail(request, selectors.case_get(actor=request.user, case_id=case_id))


@require_POST
@staff_view
def case_action(request: HttpRequest, case_id: int, action: str) -> HttpResponse:
    """Classify, set the outcome or severity: the buttons of the detail page. Illegal moves → 409."""
    case = selectors.case_get(actor=request.user, case_id=case_id)
    p = request.POST
    try:
        at = parse_local_time(p["at"], field="at") if p.get("at", "").strip() else timezone.now()
        if action == "classify":
            services.case_classify(
                actor=request.user, case=case, to=p.get("to", ""), at=at, severity=p.get("severity", "")
            )
        elif action == "outcome":
            services.case_set_outcome(actor=request.user, case=case, outcome=p.get("to", ""), at=at)
        elif action == "severity":
            services.case_set_severity(actor=request.user, case=case, severity=p.get("to", ""), at=at)
        else:
            raise Invalid.field("action", _("Unknown action."))
    except Conflict as error:
        return _detail(request, case, status=409, error=error.message)
    except Invalid as error:
        return _detail(request, case, status=422, error=error.text())
    messages.success(request, _("Saved."))
    return redirect("cases:detail", case_id=case.pk)
